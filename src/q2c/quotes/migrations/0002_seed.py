"""Seed the stage probabilities and the default approval rule.

Probabilities (percent): prospecting 10, qualification 20, proposal 50, negotiation 75,
closed won 100, closed lost 0. Default rule: a line's manual discount above the quote owner's
role limit (the catalog's manual-discount-per-role table) needs one sales manager's approval.
Both are changed in the admin (or the API) like any other setting.
"""

from django.db import migrations

STAGES = [
    ("prospecting", "10"),
    ("qualification", "20"),
    ("proposal", "50"),
    ("negotiation", "75"),
    ("closed_won", "100"),
    ("closed_lost", "0"),
]

RULE_NAME = "Discount above the owner's role limit"


def seed(apps, schema_editor):
    Stage = apps.get_model("quotes", "StageSetting")
    Rule = apps.get_model("quotes", "ApprovalRule")
    Step = apps.get_model("quotes", "ApprovalRuleStep")
    for position, (stage, probability) in enumerate(STAGES):
        Stage.objects.get_or_create(stage=stage, defaults={"probability": probability, "position": position})
    if not Rule.objects.filter(kind="line_discount_over_role_limit").exists():
        rule = Rule.objects.create(
            name=RULE_NAME,
            kind="line_discount_over_role_limit",
            description="Any line whose manual discount is above what the quote owner's role may give.",
        )
        Step.objects.create(rule=rule, sequence=1, role="sales_manager", mode="any")


def unseed(apps, schema_editor):
    apps.get_model("quotes", "StageSetting").objects.filter(stage__in=[s for s, _ in STAGES]).delete()
    apps.get_model("quotes", "ApprovalRule").objects.filter(name=RULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("quotes", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

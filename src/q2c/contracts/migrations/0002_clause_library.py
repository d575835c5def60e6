"""Seed the clause library with the standard clauses (version 1 of each)."""

from django.db import migrations
from django.utils import timezone

CLAUSES = [
    (
        "term-and-renewal",
        "Term and renewal",
        10,
        "This contract runs from {{ start_date }} to {{ end_date }} ({{ term_months }} months). "
        "It {{ auto_renew }} for a further term of the same length; on renewal, prices rise by "
        "{{ renewal_uplift_percent }} %.",
    ),
    (
        "payment-terms",
        "Payment terms",
        20,
        "{{ seller_name }} invoices recurring charges {{ billing_frequency }} in advance, one-time "
        "charges when due and usage monthly in arrears, in {{ currency }}. Invoices are payable "
        "within {{ payment_terms_days }} days of the invoice date.",
    ),
    (
        "cancellation",
        "Cancellation and notice",
        30,
        "This contract {{ cancellable }} during its term. Notice of cancellation or of "
        "non-renewal must be given in writing at least {{ notice_days }} days before it takes effect.",
    ),
    (
        "confidentiality",
        "Confidentiality",
        40,
        "Each party keeps the other's confidential information secret and uses it only to perform "
        "this contract, during the term and for three years after it.",
    ),
    (
        "liability",
        "Limitation of liability",
        50,
        "Neither party is liable for indirect or consequential loss. Each party's total liability "
        "under this contract is limited to the fees paid or payable in the twelve months before "
        "the event giving rise to the claim, except for wilful misconduct and gross negligence.",
    ),
    (
        "governing-law",
        "Governing law",
        60,
        "This contract between {{ seller_name }} and {{ customer_name }} is governed by {{ governing_law }}.",
    ),
]


def seed(apps, schema_editor):
    Clause = apps.get_model("contracts", "Clause")
    ClauseVersion = apps.get_model("contracts", "ClauseVersion")
    moment = timezone.now()
    for key, title, position, body in CLAUSES:
        clause, created = Clause.objects.get_or_create(
            key=key, defaults={"title": title, "position": position, "is_active": True, "current_version": 1}
        )
        if created:
            ClauseVersion.objects.create(
                clause=clause,
                version=1,
                title=title,
                body=body,
                note="standard text",
                created_at=moment,
                created_by="q2c",
            )


def unseed(apps, schema_editor):
    Clause = apps.get_model("contracts", "Clause")
    ClauseVersion = apps.get_model("contracts", "ClauseVersion")
    keys = [c[0] for c in CLAUSES]
    ClauseVersion.objects.filter(clause__key__in=keys).delete()
    Clause.objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

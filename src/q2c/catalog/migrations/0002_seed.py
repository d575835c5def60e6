"""Seed units of measure, the manual discount limit per role and the catalog revision row.

Limits (percent of the line amount before the manual step): sales_rep 10, sales_manager 25,
admin 100. Finance and viewers have no row: any manual discount of theirs needs approval.
"""

import uuid

from django.db import migrations

UNITS = [
    ("each", "Each", False),
    ("seat", "Seat", False),
    ("user", "User", False),
    ("license", "Licence", False),
    ("device", "Device", False),
    ("call", "API call", False),
    ("hour", "Hour", True),
    ("day", "Day", True),
    ("gb", "Gigabyte", True),
    ("tb", "Terabyte", True),
]

LIMITS = [("sales_rep", "10"), ("sales_manager", "25"), ("admin", "100")]


def seed(apps, schema_editor):
    Unit = apps.get_model("catalog", "UnitOfMeasure")
    Limit = apps.get_model("catalog", "ManualDiscountLimit")
    Revision = apps.get_model("catalog", "CatalogRevision")
    for code, name, divisible in UNITS:
        Unit.objects.get_or_create(code=code, defaults={"name": name, "divisible": divisible})
    for role, pct in LIMITS:
        Limit.objects.get_or_create(role=role, defaults={"max_percent": pct})
    Revision.objects.get_or_create(id=1, defaults={"token": uuid.uuid4().hex})


def unseed(apps, schema_editor):
    apps.get_model("catalog", "ManualDiscountLimit").objects.filter(role__in=[r for r, _ in LIMITS]).delete()
    apps.get_model("catalog", "UnitOfMeasure").objects.filter(
        code__in=[c for c, _, _ in UNITS], products__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

"""Seed the default stock location, so a new installation can receive stock and take orders."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    Location = apps.get_model("orders", "Location")
    if not Location.objects.filter(is_default=True).exists():
        Location.objects.get_or_create(
            code="MAIN", defaults={"name": "Main warehouse", "is_default": True, "created_at": timezone.now()}
        )


def unseed(apps, schema_editor):
    apps.get_model("orders", "Location").objects.filter(
        code="MAIN", levels__isnull=True, orders__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

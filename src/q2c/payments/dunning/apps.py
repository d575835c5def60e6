from django.apps import AppConfig


class DunningConfig(AppConfig):
    """Dunning and collections: policies, runs, promises to pay, the worklist (a sub-app of payments)."""

    name = "q2c.payments.dunning"
    label = "payments_dunning"

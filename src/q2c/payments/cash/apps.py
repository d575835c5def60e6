from django.apps import AppConfig


class CashConfig(AppConfig):
    """Cash application: stored bank statements, matching runs and the workbench (a sub-app of payments)."""

    name = "q2c.payments.cash"
    label = "payments_cash"

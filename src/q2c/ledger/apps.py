from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "q2c.ledger"
    label = "ledger"

from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "q2c.invoicing"
    label = "invoicing"

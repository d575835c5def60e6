from django.apps import AppConfig


class TaxConfig(AppConfig):
    name = "q2c.tax"
    label = "tax"

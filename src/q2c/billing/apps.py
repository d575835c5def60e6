from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "q2c.billing"
    label = "billing"

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "q2c.payments"
    label = "payments"

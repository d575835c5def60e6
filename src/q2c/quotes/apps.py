from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "q2c.quotes"
    label = "quotes"

from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "q2c.parties"
    label = "parties"

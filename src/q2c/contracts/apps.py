from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "q2c.contracts"
    label = "contracts"

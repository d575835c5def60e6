from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "q2c.catalog"
    label = "catalog"

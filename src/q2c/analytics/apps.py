from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "q2c.analytics"
    label = "analytics"

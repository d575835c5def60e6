from django.apps import AppConfig


class RevenueConfig(AppConfig):
    name = "q2c.revenue"
    label = "revenue"

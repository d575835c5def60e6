from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "q2c.orders"
    label = "orders"

from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "q2c.simulation"
    label = "simulation"

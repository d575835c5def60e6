from django.apps import AppConfig


class RootConfig(AppConfig):
    name = "q2c.root"
    label = "q2c_root"
    verbose_name = "q2c"

    def ready(self) -> None:
        from q2c import wiring

        wiring.wire()

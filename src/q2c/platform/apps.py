from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "q2c.platform"
    label = "platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from q2c.platform import checks  # noqa: F401  (registers system checks)

"""System checks of the platform's wiring."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register()
def money_events_have_handlers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from q2c.platform.events import bus

    return [
        checks.Error(
            f"event type '{t}' moves money but no handler is registered for it",
            hint="register one in q2c/wiring.py",
            id="q2c.E001",
        )
        for t in bus.money_types_without_handler()
    ]

"""The ``q2c`` console script: Django's management commands under one name.

``q2c serve``, ``q2c worker``, ``q2c demo``, ``q2c bench NAME``, ``q2c audit verify`` and every
Django command (``q2c migrate``, ``q2c createsuperuser`` …). ``q2c help`` lists them.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "q2c.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["q2c", *argv])
    args[0] = "q2c"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()

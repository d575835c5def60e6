"""``q2c bench billing`` — placeholder replaced below."""

from __future__ import annotations

from typing import Any


def add_arguments(parser: Any) -> None:
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)


def run(**opts: Any) -> dict[str, Any]:
    raise NotImplementedError

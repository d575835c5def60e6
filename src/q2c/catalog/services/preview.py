"""Pricing a quote without saving anything: the preview API and the quotes app call this.

``price_quote(request, user)`` parses the request, picks the price book, loads the cached catalog
snapshot, the account's contracted prices and the caller's manual discount limit, and runs the
pure engine. Queries per call: the revision token, the price book, the contracted prices, the
caller's roles and limits (plus a dozen bulk queries when the snapshot is not cached) — never one
per line.

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson

from q2c.catalog.pricing.engine import price
from q2c.catalog.pricing.request import PricingInputError, parse_request
from q2c.catalog.pricing.result import PricingResult
from q2c.catalog.services.prices import discount_limit_for
from q2c.catalog.services.snapshot import get_snapshot, load_contracted, resolve_price_book
from q2c.core import clock
from q2c.platform.roles import roles_of


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a quote is priced.

    Pricing builds hundreds of thousands of short-lived, acyclic tuples and dicts; reference
    counting frees them, but their allocation keeps triggering collections that traverse every
    live object (a third of the time of a 10,000-line quote). Collection resumes as it was right
    after, whatever happens; a concurrent pause in another thread only delays it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def manual_discount_limit(user: Any) -> Decimal | None:
    """The caller's manual discount limit in percent (None: unlimited, for admins)."""
    return discount_limit_for(roles_of(user))


def price_quote(
    request: Mapping[str, Any], user: Any, *, limit: Decimal | object | None = ...
) -> PricingResult:
    """Price a quote configuration and return the engine's result (nothing is written).

    ``request`` is the JSON shape documented in docs/pricing.md. ``user`` decides the manual
    discount limit used for approval flags; pass ``limit`` to price for another limit (the quotes
    app evaluates a rep's quote while a manager looks at it).

    Raises ``PricingInputError`` (422) naming each line and field at fault.
    """
    parsed = parse_request(request, today=clock.today())
    book = resolve_price_book(parsed.currency, parsed.price_book, parsed.segment, parsed.region, parsed.as_of)
    snapshot = get_snapshot(book, parsed.as_of)
    contracted = load_contracted(parsed.account_id, parsed.currency, parsed.as_of)
    max_pct = manual_discount_limit(user) if limit is ... else limit
    assert max_pct is None or isinstance(max_pct, Decimal)
    with gc_paused():
        return price(snapshot, replace(parsed, contracted=contracted, manual_discount_limit=max_pct))


def price_preview(request: Mapping[str, Any], user: Any) -> dict[str, Any]:
    """``price_quote`` as the JSON-ready dict ``POST /api/v1/pricing/preview`` answers."""
    return price_quote(request, user).as_dict()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def preview_json(body: bytes, user: Any) -> bytes:
    """The preview endpoint's whole path after the role check: JSON body in, JSON answer out.

    Numbers with a fraction decode as Decimal, never float. Raises ``PricingInputError`` (422)
    for malformed JSON and for anything ``price_quote`` refuses. ``q2c bench pricing`` times this.
    """
    with gc_paused():
        try:
            data = json.loads(body or b"null", parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise PricingInputError(
                "the body is not valid JSON", code="pricing.invalid_json", field=""
            ) from None
        # orjson: a 10,000-line answer is some 13 MB of JSON, which the standard library encodes
        # ten times slower. The answer holds no Decimal (amounts are strings); ``default`` guards.
        return orjson.dumps(price_preview(data, user), default=_json_default)

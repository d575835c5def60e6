"""A priced request: what a quote asks the engine to price, parsed from plain data.

:func:`parse_request` turns a JSON-like mapping (the body of ``POST /api/v1/pricing/preview``, or
the dict the quotes app builds) into an immutable :class:`PriceRequest`, checking shapes and ranges
and collecting every problem with the field it concerns (``lines[3].quantity``) before raising one
:class:`PricingInputError`. Checks that need the catalog (unknown SKU, indivisible units, inactive
products, promotion dates) happen in the engine, which raises the same error type.

Amounts and quantities are accepted as strings, integers or Decimals, never floats (a JSON body is
decoded with ``parse_float=Decimal``).

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.catalog.pricing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from types import MappingProxyType
from typing import Any, NamedTuple

from q2c.catalog.pricing.types import (
    HUNDRED,
    ContractedPrice,
    ManualDiscountKind,
    Rounding,
    SaleContext,
)
from q2c.core.errors import ValidationError
from q2c.core.money import check_currency

MAX_LINES = 20_000
MAX_TERM_MONTHS = 600


class PricingInputError(ValidationError):
    """The request cannot be priced. ``details`` lists every problem: field, line, code, message."""

    default_code = "pricing.invalid_request"

    @classmethod
    def from_problems(cls, problems: list[dict[str, Any]]) -> PricingInputError:
        first = problems[0]
        more = len(problems) - 1
        message = first["message"] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        return cls(message, code=first["code"], field=first["field"], details=problems)


class ManualDiscount(NamedTuple):
    kind: ManualDiscountKind
    value: Decimal


class LineRequest(NamedTuple):
    """One quote line. ``position`` is its index in the request (for error fields)."""

    key: str
    position: int
    sku: str = ""
    quantity: Decimal | None = None
    charge: str = ""
    parent: str = ""
    discount: ManualDiscount | None = None
    estimated_quantity: Decimal | None = None
    credit: Decimal | None = None  # an explicit credit line: a negative one-time amount
    description: str = ""

    @property
    def where(self) -> str:
        return f"lines[{self.position}]"


@dataclass(frozen=True, slots=True)
class PriceRequest:
    """Everything the engine prices. ``contracted`` (charge id → price) and
    ``manual_discount_limit`` (percent; None = no limit) come from the caller's context."""

    currency: str
    as_of: date
    lines: tuple[LineRequest, ...]
    term_months: int = 12
    sale_context: SaleContext = SaleContext.NEW
    promotion_codes: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    rounding: Rounding = Rounding.HALF_UP
    start_date: date | None = None
    account_id: int | None = None
    price_book: str = ""
    segment: str = ""
    region: str = ""
    contracted: Mapping[int, ContractedPrice] = field(default_factory=lambda: MappingProxyType({}))
    manual_discount_limit: Decimal | None = None


_TOP_FIELDS = frozenset(
    {
        "currency",
        "price_book",
        "as_of",
        "start_date",
        "term_months",
        "sale_context",
        "account_id",
        "segment",
        "region",
        "promotion_codes",
        "attributes",
        "rounding",
        "lines",
    }
)
_LINE_FIELDS = frozenset(
    {"key", "sku", "charge", "quantity", "parent", "discount", "estimated_quantity", "credit", "description"}
)


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, field_name: str, code: str, message: str, line: str | None = None) -> None:
        item: dict[str, Any] = {"field": field_name, "code": code, "message": message}
        if line is not None:
            item["line"] = line
        self.items.append(item)


def _decimal(value: Any, where: str, problems: _Problems, line: str | None = None) -> Decimal | None:
    if isinstance(value, bool | float):
        problems.add(
            where,
            "pricing.not_a_number",
            f"{where}: give numbers as strings or integers, not {type(value).__name__}",
            line,
        )
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            problems.add(where, "pricing.not_a_number", f"{where}: '{value}' is not a number", line)
            return None
    else:
        problems.add(where, "pricing.not_a_number", f"{where}: expected a number", line)
        return None
    if not result.is_finite():
        problems.add(where, "pricing.not_a_number", f"{where}: '{value}' is not a finite number", line)
        return None
    return result


def _date(value: Any, where: str, problems: _Problems) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(where, "pricing.invalid_date", f"{where}: '{value}' is not a date in the form YYYY-MM-DD")
    return None


def _text(value: Any, where: str, problems: _Problems, line: str | None = None, max_len: int = 200) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        problems.add(where, "pricing.invalid_text", f"{where}: expected text", line)
        return ""
    value = value.strip()
    if len(value) > max_len:
        problems.add(where, "pricing.invalid_text", f"{where}: longer than {max_len} characters", line)
        return ""
    return value


def _discount(value: Any, where: str, problems: _Problems, line: str) -> ManualDiscount | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or len(value) != 1:
        problems.add(
            where,
            "pricing.invalid_discount",
            f"{where}: give exactly one of percent, amount or target_price",
            line,
        )
        return None
    ((name, raw),) = value.items()
    try:
        kind = ManualDiscountKind(name)
    except ValueError:
        problems.add(
            f"{where}.{name}",
            "pricing.invalid_discount",
            f"{where}: '{name}' is not percent, amount or target_price",
            line,
        )
        return None
    number = _decimal(raw, f"{where}.{name}", problems, line)
    if number is None:
        return None
    if number < 0:
        problems.add(
            f"{where}.{name}",
            "pricing.negative_discount",
            f"{where}.{name}: a discount cannot be negative ({number})",
            line,
        )
        return None
    if kind is ManualDiscountKind.PERCENT and number > HUNDRED:
        problems.add(
            f"{where}.{name}",
            "pricing.discount_over_100",
            f"{where}.{name}: a discount cannot exceed 100 % ({number} %)",
            line,
        )
        return None
    return ManualDiscount(kind, number)


def _plain_text(value: Any, max_len: int) -> str | None:
    """``value`` stripped when it is acceptable text (or an integer), else None."""
    if type(value) is str:
        value = value.strip()
        return value if len(value) <= max_len else None
    if type(value) is int:
        return str(value)
    return None


def _plain_decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal when it is an int, a numeric string or a Decimal, else None."""
    kind = type(value)
    if kind is int:
        return Decimal(value)
    if kind is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if kind is Decimal:
        return value if value.is_finite() else None
    return None


_DISCOUNT_KINDS = {str(kind): kind for kind in ManualDiscountKind}
_line_request = partial(tuple.__new__, LineRequest)


def _plain_discount(value: Any) -> ManualDiscount | None:
    """``value`` as a discount when it is a valid one (``{"percent": "10"}``), else None — then
    :func:`_discount` names what is wrong."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((name, raw),) = value.items()
    kind = _DISCOUNT_KINDS.get(name)
    if kind is None:
        return None
    number = _plain_decimal(raw)
    if number is None or number < 0 or (kind is ManualDiscountKind.PERCENT and number > HUNDRED):
        return None
    return ManualDiscount(kind, number)


def _line(raw: Any, index: int, problems: _Problems) -> LineRequest | None:
    # Called once per line of requests of up to 20,000 lines: the common, valid case takes a
    # short path; the messages naming the field are only built when something is wrong.
    if type(raw) is not dict and not isinstance(raw, Mapping):  # the ABC check only when needed
        where = f"lines[{index}]"
        problems.add(where, "pricing.invalid_line", f"{where}: a line is an object")
        return None
    get = raw.get
    raw_key = get("key")
    if raw_key is None:
        key = str(index + 1)
    else:
        key = _plain_text(raw_key, 60) or ""
        if not key:
            key = _text(raw_key, f"lines[{index}].key", problems, max_len=60) or str(index + 1)
    if not _LINE_FIELDS.issuperset(raw):
        for name in raw:
            if name not in _LINE_FIELDS:
                problems.add(
                    f"lines[{index}].{name}",
                    "pricing.unknown_field",
                    f"lines[{index}]: unknown field '{name}'",
                    key,
                )
    credit = None
    if get("credit") is not None:
        where = f"lines[{index}]"
        credit = _decimal(raw["credit"], f"{where}.credit", problems, key)
        if credit is not None and credit >= 0:
            problems.add(
                f"{where}.credit",
                "pricing.credit_not_negative",
                f"{where}.credit: a credit line is a negative amount",
                key,
            )
        if get("sku"):
            problems.add(f"{where}.sku", "pricing.invalid_line", f"{where}: a credit line has no SKU", key)
    raw_sku = get("sku")
    sku = _plain_text(raw_sku, 64) if raw_sku is not None else ""
    if sku is None:
        sku = _text(raw_sku, f"lines[{index}].sku", problems, key, max_len=64)
    if not sku and credit is None:
        problems.add(f"lines[{index}].sku", "pricing.missing_sku", f"lines[{index}]: a line needs a SKU", key)
    quantity = None
    raw_quantity = get("quantity")
    if raw_quantity is not None:
        quantity = _plain_decimal(raw_quantity)
        if quantity is None:
            quantity = _decimal(raw_quantity, f"lines[{index}].quantity", problems, key)
        if quantity is not None and quantity <= 0:
            problems.add(
                f"lines[{index}].quantity",
                "pricing.quantity_not_positive",
                f"lines[{index}].quantity: the quantity must be above zero (got {quantity})",
                key,
            )
    estimated = None
    raw_estimate = get("estimated_quantity")
    if raw_estimate is not None:
        estimated = _plain_decimal(raw_estimate)
        if estimated is None:
            estimated = _decimal(raw_estimate, f"lines[{index}].estimated_quantity", problems, key)
        if estimated is not None and estimated < 0:
            problems.add(
                f"lines[{index}].estimated_quantity",
                "pricing.quantity_not_positive",
                f"lines[{index}].estimated_quantity: an estimate cannot be negative",
                key,
            )
    charge = parent = description = ""
    if (raw_charge := get("charge")) is not None:
        plain = _plain_text(raw_charge, 40)
        charge = (
            plain
            if plain is not None
            else _text(raw_charge, f"lines[{index}].charge", problems, key, max_len=40)
        )
    if (raw_parent := get("parent")) is not None:
        plain = _plain_text(raw_parent, 60)
        parent = (
            plain
            if plain is not None
            else _text(raw_parent, f"lines[{index}].parent", problems, key, max_len=60)
        )
    if (raw_description := get("description")) is not None:
        plain = _plain_text(raw_description, 500)
        description = (
            plain
            if plain is not None
            else _text(raw_description, f"lines[{index}].description", problems, key, max_len=500)
        )
    raw_discount = get("discount")
    discount = None
    if raw_discount is not None:
        discount = _plain_discount(raw_discount)
        if discount is None:
            discount = _discount(raw_discount, f"lines[{index}].discount", problems, key)
    # tuple.__new__ straight away: a NamedTuple's own __new__ is a Python function.
    return _line_request(
        (key, index, sku, quantity, charge, parent, discount, estimated, credit, description)
    )


def parse_request(data: Mapping[str, Any], *, today: date) -> PriceRequest:
    """Parse and check a priced request; raise :class:`PricingInputError` listing every problem.

    ``today`` is the business date used when the request gives no ``as_of``.
    """
    problems = _Problems()
    if not isinstance(data, Mapping):
        raise PricingInputError("the request must be an object", code="pricing.invalid_request", field="")
    for name in data:
        if name not in _TOP_FIELDS:
            problems.add(str(name), "pricing.unknown_field", f"unknown field '{name}'")
    currency = data.get("currency")
    try:
        currency = check_currency(currency)
    except ValidationError:
        problems.add("currency", "pricing.invalid_currency", f"'{currency}' is not an ISO 4217 currency code")
        currency = ""
    as_of = _date(data["as_of"], "as_of", problems) if data.get("as_of") is not None else today
    start = _date(data["start_date"], "start_date", problems) if data.get("start_date") is not None else None
    term = data.get("term_months", 12)
    if isinstance(term, str) and term.isdigit():
        term = int(term)
    if not isinstance(term, int) or isinstance(term, bool) or not (1 <= term <= MAX_TERM_MONTHS):
        problems.add(
            "term_months",
            "pricing.invalid_term",
            f"term_months must be a whole number of months from 1 to {MAX_TERM_MONTHS}",
        )
        term = 12
    try:
        context = SaleContext(data.get("sale_context") or SaleContext.NEW)
    except ValueError:
        problems.add(
            "sale_context", "pricing.invalid_sale_context", "sale_context is one of new, add_on, renewal"
        )
        context = SaleContext.NEW
    try:
        rounding = Rounding(data.get("rounding") or Rounding.HALF_UP)
    except ValueError:
        problems.add("rounding", "pricing.invalid_rounding", "rounding is half_up or half_even")
        rounding = Rounding.HALF_UP
    account_id = data.get("account_id")
    if account_id is not None and (
        not isinstance(account_id, int) or isinstance(account_id, bool) or account_id <= 0
    ):
        problems.add("account_id", "pricing.invalid_account", "account_id must be a positive integer")
        account_id = None
    codes_raw = data.get("promotion_codes") or []
    codes: list[str] = []
    if not isinstance(codes_raw, list | tuple):
        problems.add("promotion_codes", "pricing.invalid_promotion", "promotion_codes is a list of codes")
    else:
        for i, code in enumerate(codes_raw):
            text = _text(code, f"promotion_codes[{i}]", problems, max_len=40)
            if text:
                codes.append(text.upper())
    attrs_raw = data.get("attributes") or {}
    attributes: dict[str, str] = {}
    if not isinstance(attrs_raw, Mapping):
        problems.add(
            "attributes", "pricing.invalid_attributes", "attributes is an object of names to text values"
        )
    else:
        for name, value in attrs_raw.items():
            attributes[str(name)] = _text(value, f"attributes.{name}", problems, max_len=100)
    raw_lines = data.get("lines")
    lines: list[LineRequest] = []
    if not isinstance(raw_lines, list | tuple) or not raw_lines:
        problems.add("lines", "pricing.no_lines", "a request needs at least one line")
    elif len(raw_lines) > MAX_LINES:
        problems.add("lines", "pricing.too_many_lines", f"at most {MAX_LINES} lines can be priced at once")
    else:
        seen: dict[str, int] = {}
        for i, raw in enumerate(raw_lines):
            line = _line(raw, i, problems)
            if line is None:
                continue
            if line.key in seen:
                problems.add(
                    f"lines[{i}].key",
                    "pricing.duplicate_key",
                    f"lines[{i}]: key '{line.key}' is used by lines[{seen[line.key]}] too",
                    line.key,
                )
            seen[line.key] = i
            lines.append(line)
    price_book = _text(data.get("price_book"), "price_book", problems, max_len=40)
    segment = _text(data.get("segment"), "segment", problems, max_len=40)
    region = _text(data.get("region"), "region", problems, max_len=40)
    if problems.items:
        raise PricingInputError.from_problems(problems.items)
    return PriceRequest(
        currency=currency,
        as_of=as_of or today,
        lines=tuple(lines),
        term_months=term,
        sale_context=context,
        promotion_codes=tuple(dict.fromkeys(codes)),
        attributes=MappingProxyType(attributes),
        rounding=rounding,
        start_date=start,
        account_id=account_id,
        price_book=price_book,
        segment=segment,
        region=region,
    )

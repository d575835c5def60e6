"""The revenue preview format: a contract as JSON in, its allocation and schedule as JSON out.

:func:`preview` reads the text (JSON numbers with a fraction are refused: amounts are strings so
they stay exact), validates it against ``src/q2c/revenue/schema/revenue-preview.schema.json``
with ``jsonschema``, builds a :class:`~q2c.revenue.engine.types.ContractSpec`, runs
:func:`~q2c.revenue.engine.compute` and renders the result. Nothing is saved. Every error is a
:class:`~q2c.revenue.engine.errors.RevenueInputError` whose ``field`` is the JSON path at fault
(``obligations[1].end``) and whose ``details`` list each problem found. docs/revenue-preview.md
documents the format with worked examples.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.revenue.engine``.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from q2c.core.errors import ValidationError
from q2c.core.money import Money, check_currency
from q2c.revenue.engine.compute import compute
from q2c.revenue.engine.errors import RevenueInputError, at
from q2c.revenue.engine.types import (
    SSP,
    Constraint,
    ContractSpec,
    Delivery,
    DiscountAllocation,
    Estimate,
    Financing,
    MeasuredProgress,
    Milestone,
    Milestones,
    Modification,
    Obligation,
    ObligationChange,
    Payment,
    PointInTime,
    Ratable,
    RevenueResult,
    Scenario,
    Usage,
    UsageAmount,
    VariableConsideration,
)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "revenue-preview.schema.json"
_MAX_ERRORS = 20


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The published JSON Schema of the preview input."""
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


class _JsonFloat:
    """A JSON number with a fraction or exponent, kept as text so it can be refused by name."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def load(text: str | bytes) -> Any:
    """Parse JSON text; malformed JSON is a ``revenue.malformed_json`` error with line and column."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RevenueInputError(
                f"the input is not UTF-8 text (byte {exc.start})", code="revenue.malformed_json", field="body"
            ) from None

    def no_constants(name: str) -> Any:
        raise RevenueInputError(
            f"{name} is not a number JSON allows", code="revenue.malformed_json", field="body"
        )

    try:
        return json.loads(text, parse_float=_JsonFloat, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise RevenueInputError(
            f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            code="revenue.malformed_json",
            field="body",
        ) from None


def _floats(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, _JsonFloat):
        yield path, value.text
    elif isinstance(value, float):
        yield path, repr(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _floats(v, at(path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _floats(v, f"{path}[{i}]")


def _message(error: Any) -> tuple[str, str, str]:
    """(field, code, message) for one jsonschema error, in words a finance user can act on."""
    where = _path(error.absolute_path)
    v = error.validator
    if v == "required":
        missing = [
            p for p in error.validator_value if isinstance(error.instance, dict) and p not in error.instance
        ]
        name = missing[0] if missing else "?"
        return at(where, name), "revenue.required", f"{at(where, name)} is required"
    if v == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        name = extra[0] if extra else "?"
        return at(where, name), "revenue.unknown_field", f"{at(where, name)} is not a field of this format"
    if (
        v == "type"
        and error.validator_value in ("string", ["string", "object"])
        and isinstance(error.instance, int | float)
        and not isinstance(error.instance, bool)
    ):
        return (
            where,
            "revenue.number_not_string",
            f'{where} must be written as a string ("{error.instance}"): amounts, rates and percentages are '
            "exact decimals in quotes",
        )
    if v == "pattern":
        pattern = error.validator_value
        if "[0-9]{4}-[0-9]{2}-[0-9]{2}" in pattern:
            return where, "revenue.invalid_date", f"{where} must be a date YYYY-MM-DD, not {error.instance!r}"
        if "(0[1-9]|1[0-2])" in pattern:
            return where, "revenue.invalid_month", f"{where} must be a month YYYY-MM, not {error.instance!r}"
        if "[A-Z]{3}" in pattern:
            return where, "revenue.invalid_currency", f"{where} must be an ISO 4217 code such as EUR"
        if pattern.startswith("^-?"):
            return (
                where,
                "revenue.invalid_decimal",
                f'{where} must be a decimal number in a string, e.g. "1200.00"',
            )
        return (
            where,
            "revenue.invalid_decimal",
            f'{where} must be a non-negative decimal number in a string, e.g. "1200.00"',
        )
    if v in ("enum", "const"):
        return where, "revenue.invalid_choice", f"{where}: {error.message}"
    return where, "revenue.invalid", f"{where or 'the contract'}: {error.message}"


def validate(document: Any) -> None:
    """Check a parsed document against the schema (and refuse JSON floats first)."""
    floats = list(_floats(document, ""))
    if floats:
        details = [
            {
                "field": p,
                "code": "revenue.float_not_allowed",
                "message": f'{p} is the JSON number {t}: write it as the string "{t}" so it stays exact',
            }
            for p, t in floats[:_MAX_ERRORS]
        ]
        raise RevenueInputError(
            details[0]["message"], code="revenue.float_not_allowed", field=floats[0][0], details=details
        )
    from jsonschema.exceptions import relevance

    errors = sorted(_validator().iter_errors(document), key=relevance)
    if errors:
        described = [_message(e) for e in errors]
        # The most specific first: deepest path, then the schema's own relevance order.
        described.sort(key=lambda d: -d[0].count(".") - d[0].count("["))
        details = [{"field": f, "code": c, "message": m} for f, c, m in described[:_MAX_ERRORS]]
        first = described[0]
        raise RevenueInputError(first[2], code=first[1], field=first[0], details=details)


# --- JSON → spec ---------------------------------------------------------------------------------
@contextmanager
def _at(path: str) -> Iterator[None]:
    """Name ``path`` in errors raised inside (a dataclass refusing its values names only its field)."""
    try:
        yield
    except ValidationError as exc:
        if not exc.field or not exc.field.startswith(path):
            exc.field = at(path, exc.field)
        raise


class _Reader:
    def __init__(self, currency: str) -> None:
        self.currency = currency

    @staticmethod
    def day(value: str, where: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise RevenueInputError(
                f"{where}: {value} is not a date", code="revenue.invalid_date", field=where
            ) from None

    @staticmethod
    def month_end(value: str) -> date:
        year, month = int(value[:4]), int(value[5:7])
        return date(year, month, calendar.monthrange(year, month)[1])

    @staticmethod
    def decimal(value: str, where: str) -> Decimal:
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the schema's pattern refuses these first
            raise RevenueInputError(
                f"{where} is not a number", code="revenue.invalid_decimal", field=where
            ) from None

    def money(self, value: str, where: str) -> Money:
        with _at(where):
            return Money(self.decimal(value, where), self.currency)

    def ssp(self, value: Any, where: str) -> SSP:
        if isinstance(value, str):
            return SSP.fixed(self.money(value, where))
        keys = set(value)
        with _at(where):
            if value.get("residual"):
                if keys - {"residual", "low", "high"}:
                    raise RevenueInputError(
                        "a residual SSP takes only low and high (the observed range)",
                        code="revenue.ssp_form",
                        field=sorted(keys - {"residual", "low", "high"})[0],
                    )
                return SSP.residual(
                    self.money(value["low"], at(where, "low")) if "low" in value else None,
                    self.money(value["high"], at(where, "high")) if "high" in value else None,
                )
            if keys == {"amount"}:
                return SSP.fixed(self.money(value["amount"], at(where, "amount")))
            if keys == {"list_price", "percent_of_list"}:
                return SSP.of_list(
                    self.money(value["list_price"], at(where, "list_price")),
                    self.decimal(value["percent_of_list"], at(where, "percent_of_list")),
                )
            if keys == {"low", "high", "observed"}:
                return SSP.from_range(
                    self.money(value["low"], at(where, "low")),
                    self.money(value["high"], at(where, "high")),
                    self.money(value["observed"], at(where, "observed")),
                )
        raise RevenueInputError(
            f"{where} must be an amount, {{amount}}, {{list_price, percent_of_list}}, {{low, high, observed}} "
            "or {residual: true}",
            code="revenue.ssp_form",
            field=where,
        )

    def obligation(self, o: dict[str, Any], where: str) -> Obligation:
        kind = o["pattern"]
        allowed = {
            "point_in_time": {"delivered_on", "units", "deliveries"},
            "ratable": {"start", "end"},
            "progress": {"progress"},
            "milestones": {"milestones"},
            "usage": {"usage", "recognise"},
        }
        pattern_fields = set().union(*allowed.values())
        for name in sorted((set(o) & pattern_fields) - allowed[kind]):
            raise RevenueInputError(
                f"{at(where, name)} does not apply to a {kind} obligation",
                code="revenue.field_not_for_pattern",
                field=at(where, name),
            )
        pattern: Any
        with _at(where):
            if kind == "point_in_time":
                pattern = PointInTime(
                    self.day(o["delivered_on"], at(where, "delivered_on")) if "delivered_on" in o else None,
                    tuple(
                        Delivery(
                            self.day(d["on"], at(where, f"deliveries[{i}].on")),
                            self.decimal(d["delivered"], at(where, f"deliveries[{i}].delivered")),
                        )
                        for i, d in enumerate(o.get("deliveries", ()))
                    ),
                    self.decimal(o["units"], at(where, "units")) if "units" in o else None,
                )
            elif kind == "ratable":
                pattern = Ratable(
                    self.day(o["start"], at(where, "start")), self.day(o["end"], at(where, "end"))
                )
            elif kind == "progress":
                pattern = self.progress(o["progress"], at(where, "progress"))
            elif kind == "milestones":
                pattern = Milestones(
                    tuple(
                        Milestone(
                            m["id"],
                            self.decimal(m["percent"], at(where, f"milestones[{i}].percent")),
                            self.day(m["achieved_on"], at(where, f"milestones[{i}].achieved_on"))
                            if "achieved_on" in m
                            else None,
                        )
                        for i, m in enumerate(o["milestones"])
                    )
                )
            else:
                pattern = self.usage(o["usage"], o.get("recognise", "as_used"), at(where, "usage"))
            ssp = self.ssp(o["ssp"], at(where, "ssp")) if "ssp" in o else None
            return Obligation(
                id=o["id"],
                pattern=pattern,
                ssp=ssp,
                series=o.get("series"),
                description=o.get("description", ""),
                category=o.get("category", ""),
                source=where,
            )

    def progress(self, entries: list[dict[str, Any]], where: str) -> MeasuredProgress:
        percent_form = [e for e in entries if "percent_complete" in e]
        if percent_form and len(percent_form) != len(entries):
            raise RevenueInputError(
                "use one form of progress per obligation: percent_complete, or incurred with estimated_total",
                code="revenue.progress_form",
                field=where,
            )
        seen: set[str] = set()
        for i, e in enumerate(entries):
            if e["month"] in seen:
                raise RevenueInputError(
                    f"two progress entries for {e['month']}",
                    code="revenue.progress_order",
                    field=f"{where}[{i}].month",
                )
            seen.add(e["month"])
        if percent_form:
            points = []
            for i, e in enumerate(entries):
                if set(e) - {"month", "percent_complete"}:
                    raise RevenueInputError(
                        "give percent_complete alone, or incurred with estimated_total",
                        code="revenue.progress_form",
                        field=f"{where}[{i}]",
                    )
                pct = self.decimal(e["percent_complete"], f"{where}[{i}].percent_complete")
                if pct > 100:
                    raise RevenueInputError(
                        f"progress of {pct} % is above 100 %",
                        code="revenue.progress_above_100",
                        field=f"{where}[{i}].percent_complete",
                    )
                points.append((self.month_end(e["month"]), pct))
            with _at(where):
                return MeasuredProgress.from_percentages(points)
        inputs = []
        incurred = Decimal(0)
        for i, e in enumerate(entries):
            if "incurred" not in e or "estimated_total" not in e:
                raise RevenueInputError(
                    "each progress entry needs percent_complete, or incurred with estimated_total",
                    code="revenue.progress_form",
                    field=f"{where}[{i}]",
                )
            spent = self.decimal(e["incurred"], f"{where}[{i}].incurred")
            estimate = self.decimal(e["estimated_total"], f"{where}[{i}].estimated_total")
            incurred += spent
            if estimate <= 0:
                raise RevenueInputError(
                    "the estimated total must be above zero",
                    code="revenue.progress_estimate",
                    field=f"{where}[{i}].estimated_total",
                )
            if incurred > estimate:
                raise RevenueInputError(
                    f"{incurred} incurred to date against an estimated total of {estimate} is progress above 100 %",
                    code="revenue.progress_above_100",
                    field=f"{where}[{i}].incurred",
                )
            inputs.append((self.month_end(e["month"]), spent, estimate))
        with _at(where):
            return MeasuredProgress.from_inputs(inputs)

    def usage(self, entries: list[dict[str, Any]], recognise: str, where: str) -> Usage:
        amounts = []
        for i, e in enumerate(entries):
            on = self.month_end(e["month"])
            if recognise == "as_billed":
                if "billed_on" not in e:
                    raise RevenueInputError(
                        "usage recognised as billed needs billed_on",
                        code="revenue.required",
                        field=f"{where}[{i}].billed_on",
                    )
                billed = self.day(e["billed_on"], f"{where}[{i}].billed_on")
                on = self.month_end(billed.isoformat()[:7])
            amounts.append(UsageAmount(on, self.money(e["amount"], f"{where}[{i}].amount")))
        return Usage(tuple(amounts))

    def estimate(self, e: dict[str, Any], where: str, as_of: date | None) -> Estimate:
        constraint = None
        if "constraint" in e:
            c = e["constraint"]
            cw = at(where, "constraint")
            with _at(cw):
                constraint = Constraint(
                    threshold=self.decimal(c["threshold"], at(cw, "threshold")) if "threshold" in c else None,
                    cap=self.money(c["amount"], at(cw, "amount")) if "amount" in c else None,
                )
        scenarios = tuple(
            Scenario(
                self.money(s["amount"], at(where, f"scenarios[{i}].amount")),
                self.decimal(s["probability"], at(where, f"scenarios[{i}].probability")),
            )
            for i, s in enumerate(e.get("scenarios", ()))
        )
        with _at(where):
            return Estimate(
                method=e["method"],
                scenarios=scenarios,
                amount=self.money(e["amount"], at(where, "amount")) if "amount" in e else None,
                constraint=constraint,
                as_of=as_of,
                source=where,
            )


def parse(document: dict[str, Any]) -> ContractSpec:
    """Build the engine's input from a document that passed :func:`validate`."""
    with _at("currency"):
        currency = check_currency(document["currency"])
    r = _Reader(currency)
    start = r.day(document["start"], "start")
    obligations = tuple(r.obligation(o, f"obligations[{i}]") for i, o in enumerate(document["obligations"]))
    tp = document.get("transaction_price", {})
    fixed = r.money(tp["fixed"], "transaction_price.fixed") if "fixed" in tp else None
    discounts = tuple(
        r.money(d["amount"], f"transaction_price.discounts[{i}].amount")
        for i, d in enumerate(tp.get("discounts", ()))
    )
    variable = []
    for i, v in enumerate(tp.get("variable", ())):
        where = f"transaction_price.variable[{i}]"
        estimates = [r.estimate(v, where, None)]
        for j, re in enumerate(v.get("reestimates", ())):
            rw = at(where, f"reestimates[{j}]")
            estimates.append(r.estimate(re, rw, r.day(re["as_of"], at(rw, "as_of"))))
        with _at(where):
            variable.append(
                VariableConsideration(
                    v["id"], tuple(estimates), tuple(v.get("allocate_to", ())), source=where
                )
            )
    financing = None
    if "financing" in tp:
        f = tp["financing"]
        where = "transaction_price.financing"
        with _at(where):
            financing = Financing(
                rate=r.decimal(f["rate"], at(where, "rate")),
                transfer_on=r.day(f["transfer_on"], at(where, "transfer_on")),
                payments=tuple(
                    Payment(
                        r.day(p["date"], at(where, f"payments[{i}].date")),
                        r.money(p["amount"], at(where, f"payments[{i}].amount")),
                    )
                    for i, p in enumerate(f["payments"])
                ),
                compounding=f.get("compounding", "annual"),
                not_significant=f.get("not_significant", ""),
            )
    allocations = tuple(
        DiscountAllocation(
            tuple(g["obligations"]),
            r.money(g["amount"], f"discount_allocation[{i}].amount") if "amount" in g else None,
            source=f"discount_allocation[{i}]",
        )
        for i, g in enumerate(document.get("discount_allocation", ()))
    )
    modifications = []
    for i, m in enumerate(document.get("modifications", ())):
        where = f"modifications[{i}]"
        changes = tuple(
            ObligationChange(
                obligation=c["obligation"],
                end=r.day(c["end"], at(where, f"change[{j}].end")) if "end" in c else None,
                ssp=r.money(c["ssp"], at(where, f"change[{j}].ssp")) if "ssp" in c else None,
                remaining_distinct=c.get("remaining_distinct"),
                source=at(where, f"change[{j}]"),
            )
            for j, c in enumerate(m.get("change", ()))
        )
        added = tuple(r.obligation(o, at(where, f"add[{j}]")) for j, o in enumerate(m.get("add", ())))
        with _at(where):
            modifications.append(
                Modification(
                    on=r.day(m["date"], at(where, "date")),
                    price_change=r.money(m.get("price_change", "0"), at(where, "price_change")),
                    add=added,
                    remove=tuple(m.get("remove", ())),
                    change=changes,
                    treatment=m.get("treatment", "automatic"),
                    note=m.get("note", ""),
                    new_contract=m.get("contract"),
                    applies_to=m.get("applies_to"),
                    description=m.get("description", ""),
                    source=where,
                )
            )
    return ContractSpec(
        id=document.get("contract", "contract"),
        currency=currency,
        start=start,
        obligations=obligations,
        fixed=fixed,
        discounts=discounts,
        variable=tuple(variable),
        financing=financing,
        discount_allocation=allocations,
        modifications=tuple(modifications),
        rounding=document.get("rounding", "half_up"),
    )


# --- result → JSON -------------------------------------------------------------------------------
def _s(m: Money | None) -> str | None:
    return None if m is None else format(m.amount, "f")


def render(result: RevenueResult) -> dict[str, Any]:
    """The result as plain JSON data (amounts as strings, dates ISO)."""
    allocated = sum((o.allocated.amount for o in result.obligations), Decimal(0))
    recognised = sum((o.recognised.amount for o in result.obligations), Decimal(0))
    remaining = sum((o.remaining.amount for o in result.obligations), Decimal(0))
    fin = result.financing
    return {
        "currency": result.currency,
        "contracts": [
            {
                "id": c.id,
                "origin": c.origin,
                "start": c.start.isoformat(),
                "transaction_price": {
                    "fixed": _s(c.price.fixed),
                    "discounts": _s(c.price.discounts),
                    "variable": _s(c.price.variable),
                    "financing": _s(c.price.financing),
                    "total": _s(c.price.total),
                    "usage": _s(c.price.usage),
                },
                "allocation": [
                    {
                        "obligation": a.obligation,
                        "ssp": _s(a.ssp),
                        "ssp_basis": a.ssp_basis,
                        "allocated": _s(a.allocated),
                    }
                    for a in c.allocation
                ],
            }
            for c in result.contracts
        ],
        "obligations": [
            {
                "id": o.id,
                "contract": o.contract,
                "pattern": o.pattern,
                "description": o.description,
                "category": o.category,
                "ssp": _s(o.ssp),
                "ssp_basis": o.ssp_basis,
                "allocated": _s(o.allocated),
                "recognised": _s(o.recognised),
                "remaining": _s(o.remaining),
                "allocation_history": [
                    {"from": h.effective.isoformat(), "allocated": _s(h.allocated), "reason": h.reason}
                    for h in o.history
                ],
                "schedule": [
                    {
                        "month": line.month,
                        "recognised_on": line.recognised_on.isoformat(),
                        "amount": _s(line.amount),
                        "cumulative": _s(line.cumulative),
                    }
                    for line in o.lines
                ],
            }
            for o in result.obligations
        ],
        "variable_consideration": [
            {
                "id": v.id,
                "allocate_to": list(v.allocate_to),
                "estimates": [
                    {
                        "as_of": e.as_of.isoformat(),
                        "method": e.method,
                        "estimate": _s(e.estimate),
                        "constraint_cap": _s(e.cap),
                        "included": _s(e.included),
                        "reason": e.reason,
                    }
                    for e in v.estimates
                ],
            }
            for v in result.variable
        ],
        "financing": None
        if fin is None
        else {
            "applied": fin.applied,
            "reason": fin.reason,
            "rate": format(fin.rate, "f"),
            "compounding": fin.compounding,
            "transfer_on": fin.transfer_on.isoformat(),
            "promised": _s(fin.promised),
            "adjustment": _s(fin.adjustment),
            "interest": [
                {
                    "month": line.recognised_on.strftime("%Y-%m"),
                    "recognised_on": line.recognised_on.isoformat(),
                    "kind": line.kind,
                    "amount": _s(line.amount),
                    "cumulative": _s(line.cumulative),
                }
                for line in fin.interest
            ],
        },
        "modifications": [
            {
                "index": d.index,
                "date": d.on.isoformat(),
                "applies_to": d.applies_to,
                "treatment": d.treatment,
                "decided_by": d.decided_by,
                "reason": d.reason,
                "note": d.note,
                "new_contract": d.new_contract,
                "consideration": _s(d.consideration),
                "allocation": [
                    {
                        "obligation": a.obligation,
                        "ssp": _s(a.ssp),
                        "ssp_basis": a.ssp_basis,
                        "allocated": _s(a.allocated),
                    }
                    for a in d.allocation
                ],
            }
            for d in result.decisions
        ],
        "schedule": [
            {
                "month": m.month,
                "recognised_on": m.recognised_on.isoformat(),
                "amount": _s(m.amount),
                "cumulative": _s(m.cumulative),
            }
            for m in result.months
        ],
        "totals": {
            "allocated": format(allocated, "f"),
            "recognised": format(recognised, "f"),
            "remaining": format(remaining, "f"),
        },
    }


def preview(source: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """Validate, compute and render one contract given as JSON text (or already parsed, in which
    case it must not contain floats). Saves nothing."""
    document = load(source) if isinstance(source, str | bytes) else source
    validate(document)
    try:
        return render(compute(parse(document)))
    except RevenueInputError:
        raise
    except ValidationError as exc:
        # Errors of the money kernel (an unknown currency, an amount beyond 15 digits) keep their
        # code but travel as the preview's error kind.
        raise RevenueInputError(exc.message, code=exc.code, field=exc.field, details=exc.details) from None

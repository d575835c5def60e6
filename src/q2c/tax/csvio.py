"""Reading tax data from CSV: rates, rules and tax codes, with an error per bad row.

One format per kind, told apart by the header line (the first line that is not a comment):

- rates: ``jurisdiction,kind,rate,valid_from[,valid_to,category,source]``
- rules: ``seller,buyer,customer_kind,tax_category,supply_type,treatment,valid_from[,valid_to,
  mention,reason_code,legal_basis]``
- tax codes: ``code,name,tax_category[,supply_type,exemption_reason]``

Lines starting with ``#`` and blank lines are ignored (the shipped files cite their sources in
such a header). Rates are percentages (``19``, ``5.5``); dates ``YYYY-MM-DD``; ``valid_to`` is
exclusive. A quoted field may contain commas but not line breaks. Row errors name the file's
physical line number, so a person can find them.

Pure: no Django (the data migration and ``services`` both use it).

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.tax``'s pure modules.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from q2c.tax.categories import TaxCategory, VatCategoryCode
from q2c.tax.engine.document import SupplyType
from q2c.tax.engine.errors import TaxError
from q2c.tax.engine.ruleset import (
    ANY,
    Rate,
    RateKind,
    Rule,
    RuleSet,
    Treatment,
    rate_problems,
    rule_problems,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_FILES = (
    "rates_eu.csv",
    "rates_gb.csv",
    "rates_es_cn.csv",
    "rates_us.csv",
    "rules.csv",
    "tax_codes.csv",
)


class CsvKind(StrEnum):
    RATES = "rates"
    RULES = "rules"
    TAX_CODES = "tax_codes"


REQUIRED = {
    CsvKind.RATES: ("jurisdiction", "kind", "rate", "valid_from"),
    CsvKind.RULES: (
        "seller",
        "buyer",
        "customer_kind",
        "tax_category",
        "supply_type",
        "treatment",
        "valid_from",
    ),
    CsvKind.TAX_CODES: ("code", "name", "tax_category"),
}
OPTIONAL = {
    CsvKind.RATES: ("valid_to", "category", "source"),
    CsvKind.RULES: ("valid_to", "mention", "reason_code", "legal_basis"),
    CsvKind.TAX_CODES: ("supply_type", "exemption_reason"),
}


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "code": "tax.csv_row", "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class TaxCodeRow:
    code: str
    name: str
    tax_category: TaxCategory
    supply_type: SupplyType | None = None
    exemption_reason: str = ""


@dataclass
class Parsed:
    kind: CsvKind
    rates: list[tuple[int, Rate]] = field(default_factory=list)
    rules: list[tuple[int, Rule]] = field(default_factory=list)
    tax_codes: list[tuple[int, TaxCodeRow]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rates) + len(self.rules) + len(self.tax_codes)


def _date(value: str, column: str, line: int, errors: list[RowError], *, required: bool) -> date | None:
    value = value.strip()
    if not value:
        if required:
            errors.append(RowError(line, column, "a date is required (YYYY-MM-DD)"))
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        errors.append(RowError(line, column, f"'{value}' is not a date in the form YYYY-MM-DD"))
        return None


def _choice(value: str, allowed: type[StrEnum], column: str, line: int, errors: list[RowError]) -> str | None:
    value = value.strip()
    if value not in {str(v) for v in allowed}:
        errors.append(RowError(line, column, f"'{value}' is not one of {', '.join(str(v) for v in allowed)}"))
        return None
    return value


def _rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[RowError]]:
    header: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        values = next(csv.reader([raw]))
        if not header:
            header = [h.strip().lstrip("\ufeff") for h in values]
            continue
        if len(values) > len(header):
            errors.append(RowError(number, "", f"{len(values)} values for {len(header)} columns"))
            continue
        values += [""] * (len(header) - len(values))
        rows.append((number, dict(zip(header, values, strict=True))))
    return header, rows, errors


def detect(header: list[str]) -> CsvKind:
    columns = set(header)
    for kind, required in REQUIRED.items():
        if set(required) <= columns:
            unknown = columns - set(required) - set(OPTIONAL[kind])
            if unknown:
                raise TaxError(
                    f"unknown column(s) for {kind}: {', '.join(sorted(unknown))}",
                    code="tax.csv_header",
                    field="file",
                )
            return kind
    raise TaxError(
        "the header names no known tax file: rates need "
        + ",".join(REQUIRED[CsvKind.RATES])
        + "; rules need "
        + ",".join(REQUIRED[CsvKind.RULES])
        + "; tax codes need "
        + ",".join(REQUIRED[CsvKind.TAX_CODES]),
        code="tax.csv_header",
        field="file",
    )


def parse(text: str) -> Parsed:
    """Parse one CSV text; every bad row is reported (``Parsed.errors``), none is dropped silently."""
    header, rows, errors = _rows(text)
    if not header:
        raise TaxError("the file is empty", code="tax.csv_header", field="file")
    kind = detect(header)
    parsed = Parsed(kind=kind, errors=errors)
    for line, row in rows:
        if kind is CsvKind.RATES:
            rate = _rate(line, row, parsed.errors)
            if rate is not None:
                parsed.rates.append((line, rate))
        elif kind is CsvKind.RULES:
            rule = _rule(line, row, parsed.errors)
            if rule is not None:
                parsed.rules.append((line, rule))
        else:
            code = _tax_code(line, row, parsed.errors)
            if code is not None:
                parsed.tax_codes.append((line, code))
    parsed.errors.extend(overlaps(parsed.rates, parsed.rules))
    duplicates: dict[str, list[int]] = defaultdict(list)
    for line, code in parsed.tax_codes:
        duplicates[code.code].append(line)
    for code_name, lines in duplicates.items():
        for line in lines[1:]:
            parsed.errors.append(
                RowError(line, "code", f"tax code '{code_name}' appears again (line {lines[0]})")
            )
    parsed.errors.sort(key=lambda e: e.line)
    return parsed


def _rate(line: int, row: dict[str, str], errors: list[RowError]) -> Rate | None:
    before = len(errors)
    jurisdiction = row["jurisdiction"].strip().upper()
    kind = _choice(row["kind"], RateKind, "kind", line, errors)
    percent: Decimal | None = None
    try:
        percent = Decimal(row["rate"].strip().rstrip("%").strip())
        if not percent.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.append(RowError(line, "rate", f"'{row['rate']}' is not a percentage"))
    valid_from = _date(row["valid_from"], "valid_from", line, errors, required=True)
    valid_to = _date(row.get("valid_to", ""), "valid_to", line, errors, required=False)
    category_text = row.get("category", "").strip()
    category = None
    if category_text:
        category = _choice(category_text, VatCategoryCode, "category", line, errors)
    if len(errors) > before or kind is None or percent is None or valid_from is None:
        return None
    category_code = VatCategoryCode(category) if category else None
    problems = rate_problems(
        jurisdiction=jurisdiction,
        percent=percent,
        valid_from=valid_from,
        valid_to=valid_to,
        category=category_code,
    )
    if problems:
        errors.extend(RowError(line, f, m) for f, m in problems)
        return None
    return Rate(
        jurisdiction=jurisdiction,
        kind=RateKind(kind),
        percent=percent,
        valid_from=valid_from,
        valid_to=valid_to,
        category=category_code,
        source=row.get("source", "").strip(),
    )


def _rule(line: int, row: dict[str, str], errors: list[RowError]) -> Rule | None:
    before = len(errors)
    treatment = _choice(row["treatment"], Treatment, "treatment", line, errors)
    valid_from = _date(row["valid_from"], "valid_from", line, errors, required=True)
    valid_to = _date(row.get("valid_to", ""), "valid_to", line, errors, required=False)
    if len(errors) > before or treatment is None:
        return None
    fields = {
        "seller": row["seller"].strip().upper() if row["seller"].strip() != ANY else ANY,
        "buyer": _buyer(row["buyer"]),
        "treatment": Treatment(treatment),
        "customer_kind": row["customer_kind"].strip() or ANY,
        "tax_category": row["tax_category"].strip() or ANY,
        "supply_type": row["supply_type"].strip() or ANY,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "mention": row.get("mention", "").strip(),
        "reason_code": row.get("reason_code", "").strip(),
        "legal_basis": row.get("legal_basis", "").strip(),
    }
    problems = rule_problems(**fields)  # type: ignore[arg-type]
    if problems:
        errors.extend(RowError(line, f, m) for f, m in problems)
        return None
    return Rule(**fields)  # type: ignore[arg-type]


def _buyer(value: str) -> str:
    value = value.strip()
    # Relations are lower case (domestic, eu, third); codes upper case (EU, DE, US-CA).
    return value if value in ("domestic", "eu", "third", ANY) else value.upper()


def _tax_code(line: int, row: dict[str, str], errors: list[RowError]) -> TaxCodeRow | None:
    before = len(errors)
    code = row["code"].strip().upper()
    if not code or len(code) > 40:
        errors.append(RowError(line, "code", "a code of 1 to 40 characters is required"))
    name = row["name"].strip()
    if not name:
        errors.append(RowError(line, "name", "a name is required"))
    category = _choice(row["tax_category"], TaxCategory, "tax_category", line, errors)
    supply_text = row.get("supply_type", "").strip()
    supply = _choice(supply_text, SupplyType, "supply_type", line, errors) if supply_text else None
    if len(errors) > before or category is None:
        return None
    return TaxCodeRow(
        code=code,
        name=name,
        tax_category=TaxCategory(category),
        supply_type=SupplyType(supply) if supply else None,
        exemption_reason=row.get("exemption_reason", "").strip(),
    )


def overlaps(rates: list[tuple[int, Rate]], rules: list[tuple[int, Rule]]) -> list[RowError]:
    """Row errors for rates (rules) with the same key in force on the same day."""
    errors: list[RowError] = []
    rate_groups: dict[tuple[str, ...], list[tuple[int, date | None, date | None]]] = defaultdict(list)
    for line, rate in rates:
        rate_groups[(rate.jurisdiction, rate.kind)].append((line, rate.valid_from, rate.valid_to))
    rule_groups: dict[tuple[str, ...], list[tuple[int, date | None, date | None]]] = defaultdict(list)
    for line, rule in rules:
        rule_groups[rule.key].append((line, rule.valid_from, rule.valid_to))
    for what, groups in (("rate", rate_groups), ("rule", rule_groups)):
        for key, periods in groups.items():
            ordered = sorted(periods, key=lambda p: (p[1] or date.min, p[0]))
            for (line_a, _, end_a), (line_b, start_b, _) in itertools.pairwise(ordered):
                if end_a is None or (start_b or date.min) < end_a:
                    errors.append(
                        RowError(
                            line_b,
                            "valid_from",
                            f"this {what} for {' '.join(key)} overlaps the one on line {line_a}",
                        )
                    )
    return errors


def read_shipped() -> list[tuple[str, Parsed]]:
    """The shipped data files, parsed (they must parse cleanly: a test checks it)."""
    return [(name, parse((DATA_DIR / name).read_text(encoding="utf-8"))) for name in SHIPPED_FILES]


@lru_cache(maxsize=1)
def shipped_ruleset() -> RuleSet:
    """A RuleSet straight from the shipped files — for tests and tools without a database."""
    rates: list[Rate] = []
    rules: list[Rule] = []
    for name, parsed in read_shipped():
        if parsed.errors:
            raise TaxError(f"{name}: {parsed.errors[0]}", code="tax.csv_row", field="file")
        rates.extend(rate for _, rate in parsed.rates)
        rules.extend(rule for _, rule in parsed.rules)
    return RuleSet(rates, rules)

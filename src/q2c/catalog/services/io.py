"""Import and export of products, charges, price books and price entries as CSV or XLSX.

An import is all or nothing: every row is validated first with the same cleaners the API uses,
and when any row is invalid the whole file is refused with one error per bad cell (row number as
in a spreadsheet: the header is row 1) and nothing is written. A valid file is written in one
transaction with bulk inserts and updates. Rows are matched on natural keys — SKU; SKU + charge
code; price book code; price book + SKU + charge + valid_from — so re-importing an export changes
nothing.

XLSX cells holding numbers arrive from openpyxl as floats; they are converted with ``repr`` (the
shortest text that reads back as the same float, i.e. what was typed) before becoming Decimals,
so no binary fraction reaches a price. Exports write every number as text.

Columns of each kind are in :data:`COLUMNS`; tiers are written ``lower-upper:price[+fee];…`` and
standalone selling prices ``context=method value [currency];…`` (see docs/pricing.md).

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.catalog.errors import ImportRejected
from q2c.catalog.models import Charge, PriceBook, PriceEntry, PriceTier, Product, ProductSsp
from q2c.catalog.services import prices as price_services
from q2c.catalog.services import products as product_services
from q2c.catalog.services.common import record, split_list, touch
from q2c.catalog.services.lookups import Lookups
from q2c.catalog.services.prices import _overlaps, format_tiers_text

KINDS = ("products", "charges", "price_books", "price_entries")
FORMATS = ("csv", "xlsx")
MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
MAX_REPORTED = 500

COLUMNS: dict[str, list[str]] = {
    "products": [
        "sku",
        "name",
        "description",
        "family",
        "type",
        "unit",
        "tax_category",
        "revenue_category",
        "revenue_rule",
        "is_bundle",
        "cost",
        "cost_currency",
        "floor_price",
        "floor_currency",
        "floor_enforcement",
        "active_from",
        "active_to",
        "ssp",
    ],
    "charges": [
        "sku",
        "code",
        "name",
        "kind",
        "billing_period",
        "period_months",
        "timing",
        "usage_metric",
        "usage_aggregation",
        "sequence",
    ],
    "price_books": [
        "code",
        "name",
        "currency",
        "segment",
        "region",
        "parent",
        "valid_from",
        "valid_to",
        "is_active",
    ],
    "price_entries": [
        "price_book",
        "sku",
        "charge",
        "model",
        "price",
        "list_unit_price",
        "block_size",
        "percent",
        "percent_of_skus",
        "percent_of_families",
        "minimum",
        "maximum",
        "floor_price",
        "valid_from",
        "valid_to",
        "tiers",
    ],
}
KEYS: dict[str, list[str]] = {
    "products": ["sku"],
    "charges": ["sku", "code"],
    "price_books": ["code"],
    "price_entries": ["price_book", "sku", "charge"],
}


# --- reading files -------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # The shortest text that reads back as this float: what the person typed.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _file_error(message: str, code: str = "catalog.import_file") -> ImportRejected:
    return ImportRejected(
        message,
        code=code,
        field="file",
        details=[{"row": 1, "field": "file", "code": code, "message": message}],
    )


def read_table(name: str, data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV or XLSX file (format from the file name's extension)."""
    if len(data) > MAX_BYTES:
        raise _file_error(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", "catalog.import_too_large"
        )
    lower = name.lower()
    if lower.endswith(".xlsx"):
        raw_rows = _xlsx_rows(data)
    elif lower.endswith(".csv") or lower.endswith(".txt"):
        raw_rows = _csv_rows(data)
    else:
        raise _file_error("the file must be .csv or .xlsx")
    try:
        header = [h.strip().lower() for h in next(raw_rows)]
    except StopIteration:
        raise _file_error("the file is empty") from None
    rows = []
    for values in raw_rows:
        if not any(v.strip() for v in values):
            continue
        rows.append(
            {
                header[i]: _undefuse(values[i]) if i < len(values) else ""
                for i in range(len(header))
                if header[i]
            }
        )
        if len(rows) > MAX_ROWS:
            raise _file_error(f"at most {MAX_ROWS} rows can be imported at once")
    return header, rows


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error("a CSV file must be UTF-8 encoded") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return (list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    import zipfile

    from openpyxl import load_workbook  # uses defusedxml when installed (it is a q2c dependency)

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _file_error("the file is not a readable .xlsx workbook") from None
    sheet = book.worksheets[0]
    return ([_cell(v) for v in row] for row in sheet.iter_rows(values_only=True))


# --- the file formats of nested values ---------------------------------------------------


def parse_ssp_text(text: str) -> list[dict[str, Any]]:
    """``new=fixed 30.00 EUR; add_on=fixed 25.50 EUR; renewal=percent_of_list 80;
    new=range 20.00..35.00 EUR`` → SSP dicts for the product cleaner."""
    items: list[dict[str, Any]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        context, _, rest = part.partition("=")
        words = rest.split()
        item: dict[str, Any] = {"context": context.strip(), "method": words[0] if words else ""}
        value = words[1] if len(words) > 1 else ""
        if len(words) > 2:
            item["currency"] = words[2]
        if item["method"] == "fixed":
            item["amount"] = value
        elif item["method"] == "percent_of_list":
            item["percent"] = value
        elif item["method"] == "range":
            low, _, high = value.partition("..")
            item["low"], item["high"] = low, high
        items.append(item)
    return items


def format_ssp(rows: list[ProductSsp]) -> str:
    parts = []
    for s in rows:
        if s.method == "fixed":
            value = f"{s.amount}"
        elif s.method == "percent_of_list":
            value = f"{s.percent}"
        else:
            value = f"{s.low}..{s.high}"
        parts.append(f"{s.context}={s.method} {value}{' ' + s.currency if s.currency else ''}")
    return "; ".join(parts)


# --- importing -----------------------------------------------------------------------------


class _Report:
    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, row: int, problems: list[dict[str, Any]]) -> None:
        for p in problems:
            self.errors.append({"row": row, **p})


def _key(kind: str, row: dict[str, Any]) -> tuple[str, ...]:
    key = tuple(str(row.get(k, "")).strip() for k in KEYS[kind])
    if kind == "price_entries":
        key += (str(row.get("valid_from", "")).strip(),)
    return key


def import_file(
    kind: str, name: str, data: bytes, *, actor: Any = None, dry_run: bool = False
) -> dict[str, Any]:
    """Import one file of ``kind`` (products, charges, price_books, price_entries).

    Returns ``{"kind", "rows", "created", "updated", "dry_run"}``. Raises ``ImportRejected`` (422)
    listing ``{row, field, code, message}`` for every problem; nothing is written then.
    """
    if kind not in KINDS:
        raise _file_error(f"kind must be one of {', '.join(KINDS)}", "catalog.import_kind")
    header, rows = read_table(name, data)
    known = set(COLUMNS[kind])
    unknown = [h for h in header if h and h not in known]
    missing = [k for k in KEYS[kind] if k not in header]
    problems: list[dict[str, Any]] = []
    if unknown:
        problems.append(
            {
                "row": 1,
                "field": unknown[0],
                "code": "catalog.import_unknown_column",
                "message": f"unknown column(s): {', '.join(unknown)}; expected {', '.join(COLUMNS[kind])}",
            }
        )
    if missing:
        problems.append(
            {
                "row": 1,
                "field": missing[0],
                "code": "catalog.import_missing_column",
                "message": f"missing column(s): {', '.join(missing)}",
            }
        )
    if not rows:
        problems.append(
            {
                "row": 2,
                "field": "file",
                "code": "catalog.import_empty",
                "message": "the file has no data rows",
            }
        )
    if problems:
        raise ImportRejected(problems[0]["message"], code=problems[0]["code"], field="file", details=problems)
    with transaction.atomic():
        result = _IMPORTERS[kind](rows, Lookups().preload(), actor, dry_run)
        if not dry_run:
            touch()
            record(
                "imported",
                "import",
                kind,
                actor,
                kind=kind,
                rows=len(rows),
                created=result["created"],
                updated=result["updated"],
            )
    return {"kind": kind, "rows": len(rows), "dry_run": dry_run, **result}


def _reject(report: _Report) -> None:
    if not report.errors:
        return
    total = len(report.errors)
    rows = sorted({e["row"] for e in report.errors})
    first = report.errors[0]
    message = f"{total} problem{'s' if total > 1 else ''} in {len(rows)} row{'s' if len(rows) > 1 else ''}; nothing was imported. Row {first['row']}: {first['message']}"
    raise ImportRejected(
        message,
        code="catalog.import_rejected",
        field=f"rows[{first['row']}].{first['field']}",
        details=report.errors[:MAX_REPORTED],
    )


def _duplicates(kind: str, rows: list[dict[str, str]], report: _Report) -> None:
    seen: dict[tuple[str, ...], int] = {}
    for i, row in enumerate(rows):
        key = _key(kind, row)
        if key in seen:
            report.add(
                i + 2,
                [
                    {
                        "field": KEYS[kind][0],
                        "code": "catalog.import_duplicate",
                        "message": f"the same record as row {seen[key]}",
                    }
                ],
            )
        else:
            seen[key] = i + 2


def _import_products(
    rows: list[dict[str, str]], lookups: Lookups, actor: Any, dry_run: bool
) -> dict[str, int]:
    report = _Report()
    _duplicates("products", rows, report)
    plans: list[tuple[Product | None, dict[str, Any]]] = []
    for i, row in enumerate(rows):
        raw: dict[str, Any] = dict(row)
        if "ssp" in raw:
            raw["ssp"] = parse_ssp_text(raw["ssp"]) if raw["ssp"] else []
        existing = lookups.product(row.get("sku", "").strip())
        c = product_services.clean_product(
            raw, partial=existing is not None, existing=existing, lookups=lookups
        )
        report.add(i + 2, c.problems)
        plans.append((existing, c.out))
    _reject(report)
    created = sum(1 for e, _ in plans if e is None)
    if dry_run:
        return {"created": created, "updated": len(plans) - created}
    new: list[Product] = []
    changed: list[Product] = []
    fields_changed: set[str] = set()
    ssp_for: list[tuple[Product, list[dict[str, Any]]]] = []
    for existing, out in plans:
        out = dict(out)
        ssp = out.pop("ssp", None)
        if existing is None:
            product = Product(**out)
            new.append(product)
        else:
            product = existing
            for k, v in out.items():
                setattr(product, k, v)
            fields_changed.update(out)
            changed.append(product)
        if ssp is not None:
            ssp_for.append((product, ssp))
    Product.objects.bulk_create(new)  # sets the ids (RETURNING on SQLite ≥ 3.35 and PostgreSQL)
    if changed:
        Product.objects.bulk_update(changed, sorted(fields_changed - {"sku"}) or ["name"])
    if ssp_for:
        ProductSsp.objects.filter(product__in=[p for p, _ in ssp_for if p.pk]).delete()
        ProductSsp.objects.bulk_create(
            [
                ProductSsp(
                    product=p,
                    context=s.get("context") or "new",
                    method=s["method"],
                    currency=s.get("currency") or "",
                    amount=s.get("amount"),
                    percent=s.get("percent"),
                    low=s.get("low"),
                    high=s.get("high"),
                )
                for p, items in ssp_for
                for s in items
            ]
        )
    return {"created": len(new), "updated": len(changed)}


def _import_charges(
    rows: list[dict[str, str]], lookups: Lookups, actor: Any, dry_run: bool
) -> dict[str, int]:
    report = _Report()
    _duplicates("charges", rows, report)
    plans: list[tuple[Charge | None, dict[str, Any]]] = []
    for i, row in enumerate(rows):
        existing = lookups.charge(row.get("sku", "").strip(), row.get("code", "").strip())
        c = product_services.clean_charge(
            row, partial=existing is not None, existing=existing, lookups=lookups
        )
        product = c.out.get("product")
        if product is not None and product.type == "usage" and c.out.get("kind") not in (None, "usage"):
            c.problem("kind", "catalog.invalid", "a usage product has usage charges only")
        if existing is not None and "kind" in c.out and c.out["kind"] != existing.kind:
            c.problem("kind", "catalog.immutable", "an imported charge cannot change its kind")
        report.add(i + 2, c.problems)
        plans.append((existing, c.out))
    _reject(report)
    created = sum(1 for e, _ in plans if e is None)
    if dry_run:
        return {"created": created, "updated": len(plans) - created}
    new = [Charge(**out) for existing, out in plans if existing is None]
    changed = []
    fields: set[str] = set()
    for existing, out in plans:
        if existing is None:
            continue
        for k, v in out.items():
            if k not in ("product", "code"):
                setattr(existing, k, v)
                fields.add(k)
        changed.append(existing)
    Charge.objects.bulk_create(new)
    if changed and fields:
        Charge.objects.bulk_update(changed, sorted(fields))
    return {"created": len(new), "updated": len(changed)}


def _import_price_books(
    rows: list[dict[str, str]], lookups: Lookups, actor: Any, dry_run: bool
) -> dict[str, int]:
    report = _Report()
    _duplicates("price_books", rows, report)
    plans: list[tuple[PriceBook | None, PriceBook]] = []
    for i, row in enumerate(rows):
        existing = lookups.book(row.get("code", "").strip())
        c = price_services.clean_price_book(
            row, partial=existing is not None, existing=existing, lookups=lookups
        )
        if existing is not None and "currency" in c.out and c.out["currency"] != existing.currency:
            c.problem("currency", "catalog.immutable", "an imported price book cannot change its currency")
        report.add(i + 2, c.problems)
        book = existing or PriceBook()
        for k, v in c.out.items():
            setattr(book, k, v)
        if existing is None and not c.problems:
            lookups.remember("books", book.code, book)  # a later row may name it as parent
        plans.append((existing, book))
    _reject(report)
    created = sum(1 for e, _ in plans if e is None)
    if not dry_run:
        for _existing, book in plans:  # few rows; parents come first in the file
            book.save()
    return {"created": created, "updated": len(plans) - created}


def _import_price_entries(
    rows: list[dict[str, str]], lookups: Lookups, actor: Any, dry_run: bool
) -> dict[str, int]:
    report = _Report()
    _duplicates("price_entries", rows, report)
    existing_entries: dict[tuple[str, ...], PriceEntry] = {
        (
            e.price_book.code,
            e.charge.product.sku,
            e.charge.code,
            e.valid_from.isoformat() if e.valid_from else "",
        ): e
        for e in PriceEntry.objects.select_related("price_book", "charge__product").prefetch_related("tiers")
    }
    plans: list[tuple[PriceEntry | None, dict[str, Any], int]] = []
    for i, row in enumerate(rows):
        existing = existing_entries.get(_key("price_entries", row))
        c = price_services.clean_price_entry(
            row, partial=existing is not None, existing=existing, lookups=lookups
        )
        report.add(i + 2, c.problems)
        plans.append((existing, c.out, i + 2))
    _reject(report)
    # Overlapping validity per (book, charge), across the stored entries and the file.
    spans: dict[tuple[int, int], list[tuple[Any, Any, int | None, int]]] = defaultdict(list)
    replaced = {e.pk for e, _, _ in plans if e is not None}
    for e in existing_entries.values():
        if e.pk not in replaced:
            spans[(e.price_book_id, e.charge_id)].append((e.valid_from, e.valid_to, e.pk, 0))
    for existing, out, row_no in plans:
        book = out.get("price_book") or (existing.price_book if existing else None)
        charge = out.get("charge") or (existing.charge if existing else None)
        start = out.get("valid_from", existing.valid_from if existing else None)
        end = out.get("valid_to", existing.valid_to if existing else None)
        assert book is not None and charge is not None
        for other_start, other_end, _pk, other_row in spans[(book.pk, charge.pk)]:
            if _overlaps(start, end, other_start, other_end):
                where = f"row {other_row}" if other_row else "a stored price"
                report.add(
                    row_no,
                    [
                        {
                            "field": "valid_from",
                            "code": "catalog.overlapping_price",
                            "message": f"{charge.product.sku}/{charge.code} in {book.code} overlaps {where}",
                        }
                    ],
                )
        spans[(book.pk, charge.pk)].append((start, end, None, row_no))
    _reject(report)
    created = sum(1 for e, _, _ in plans if e is None)
    if dry_run:
        return {"created": created, "updated": len(plans) - created}
    new: list[PriceEntry] = []
    changed: list[PriceEntry] = []
    fields: set[str] = set()
    tiers_for: list[tuple[PriceEntry, list[dict[str, Any]]]] = []
    for existing, out, _row in plans:
        out = dict(out)
        tiers = out.pop("tiers", None)
        for name in ("percent_of_skus", "percent_of_families"):
            if name in out:
                out[name] = ",".join(split_list(out[name]))
        if existing is None:
            entry = PriceEntry(**out)
            new.append(entry)
        else:
            entry = existing
            for k, v in out.items():
                setattr(entry, k, v)
            fields.update(k for k in out if k not in ("price_book", "charge"))
            changed.append(entry)
        if tiers is not None:
            tiers_for.append((entry, tiers))
    PriceEntry.objects.bulk_create(new)
    if changed and fields:
        PriceEntry.objects.bulk_update(changed, sorted(fields))
    if tiers_for:
        PriceTier.objects.filter(entry__in=[e for e, _ in tiers_for]).delete()
        PriceTier.objects.bulk_create(
            [
                PriceTier(
                    entry=e,
                    position=i,
                    lower=t["lower"],
                    upper=t.get("upper"),
                    unit_price=t["unit_price"],
                    flat_fee=str(t.get("flat_fee") or Decimal(0)),
                )
                for e, items in tiers_for
                for i, t in enumerate(items)
            ]
        )
    return {"created": len(new), "updated": len(changed)}


_IMPORTERS: dict[str, Callable[[list[dict[str, str]], Lookups, Any, bool], dict[str, int]]] = {
    "products": _import_products,
    "charges": _import_charges,
    "price_books": _import_price_books,
    "price_entries": _import_price_entries,
}


# --- exporting -----------------------------------------------------------------------------


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV/formula injection): text that
    starts like a formula gets a leading apostrophe, which the importer strips again. Numbers
    ("-100.00") are left alone."""
    if text.startswith(_FORMULA_START):
        try:
            Decimal(text)
        except ArithmeticError:
            return "'" + text
    return text


def _undefuse(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "code") and not isinstance(value, str):
        return _defuse(str(value.code))
    return _defuse(str(value))


def export_rows(kind: str, *, price_book: str = "") -> list[list[str]]:
    """The rows of an export (header first); every value as text."""
    if kind not in KINDS:
        raise _file_error(f"kind must be one of {', '.join(KINDS)}", "catalog.import_kind")
    columns = COLUMNS[kind]
    out: list[list[str]] = [list(columns)]
    if kind == "products":
        for p in Product.objects.select_related("unit").prefetch_related("ssps").order_by("sku"):
            values = {c: getattr(p, c, None) for c in columns}
            values["unit"] = p.unit.code
            values["ssp"] = format_ssp(list(p.ssps.all()))
            out.append([_text(values[c]) for c in columns])
    elif kind == "charges":
        for ch in Charge.objects.select_related("product").order_by("product__sku", "sequence", "code"):
            values = {c: getattr(ch, c, None) for c in columns}
            values["sku"] = ch.product.sku
            values["period_months"] = ch.period_months if ch.billing_period == "every_n_months" else ""
            out.append([_text(values[c]) for c in columns])
    elif kind == "price_books":
        for b in PriceBook.objects.select_related("parent").order_by("parent_id", "code"):
            values = {c: getattr(b, c, None) for c in columns}
            values["parent"] = b.parent.code if b.parent else ""
            out.append([_text(values[c]) for c in columns])
    else:
        qs = PriceEntry.objects.select_related("price_book", "charge__product").prefetch_related("tiers")
        if price_book:
            qs = qs.filter(price_book__code=price_book)
        for e in qs.order_by("price_book__code", "charge__product__sku", "charge__code", "valid_from"):
            values = {c: getattr(e, c, None) for c in columns}
            values["price_book"] = e.price_book.code
            values["sku"] = e.charge.product.sku
            values["charge"] = e.charge.code
            values["tiers"] = format_tiers_text(list(e.tiers.all()))
            out.append([_text(values[c]) for c in columns])
    return out


def export_file(kind: str, fmt: str = "csv", *, price_book: str = "") -> tuple[bytes, str, str]:
    """``(content, content type, file name)`` of an export in CSV or XLSX."""
    rows = export_rows(kind, price_book=price_book)
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8", f"{kind}.csv"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = kind
        for row in rows:
            sheet.append(row)  # text cells only: numbers never pass through a float
        buffer_b = io.BytesIO()
        book.save(buffer_b)
        return (
            buffer_b.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{kind}.xlsx",
        )
    raise _file_error("format must be csv or xlsx", "catalog.export_format")

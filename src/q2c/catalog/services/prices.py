"""Use cases for price books, price entries (with tiers), contracted prices, discount schedules,
promotions and the manual discount limits per role.

A price entry's model is checked by the pure engine's own checks (``validate_model``: tier gaps
and overlaps, block sizes, min above max) when it is saved, so a broken table never reaches a
quote; two entries of one charge in one book may not be valid on the same day.

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from q2c.catalog.errors import CatalogConflict, CatalogInvalid
from q2c.catalog.models import (
    Charge,
    ContractedPrice,
    DiscountSchedule,
    DiscountScheduleTier,
    ManualDiscountLimit,
    PriceBook,
    PriceEntry,
    PriceTier,
    Product,
    Promotion,
)
from q2c.catalog.pricing.price_models import check_model
from q2c.catalog.pricing.types import (
    ChargeKind,
    PriceModel,
    PriceModelKind,
    SaleContext,
    ScheduleKind,
    Tier,
)
from q2c.catalog.services.common import Cleaner, join_list, merged, record, split_list, touch
from q2c.catalog.services.lookups import Lookups
from q2c.catalog.services.products import _delete, _get
from q2c.core.money import currency_exponent
from q2c.platform.roles import Role

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def _overlaps(a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None) -> bool:
    """Do two half-open validity ranges (None: open) share a day?"""
    starts_before_b_ends = b_to is None or a_from is None or a_from < b_to
    b_starts_before_a_ends = a_to is None or b_from is None or b_from < a_to
    return starts_before_b_ends and b_starts_before_a_ends


def _validity_q(valid_from: date | None, valid_to: date | None) -> Q:
    """Rows whose [valid_from, valid_to) overlaps the given range."""
    q = Q()
    if valid_to is not None:
        q &= Q(valid_from__isnull=True) | Q(valid_from__lt=valid_to)
    if valid_from is not None:
        q &= Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    return q


# --- price books ---------------------------------------------------------------------------


def clean_price_book(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: PriceBook | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("code", required=True, max_len=40, code=True)
    c.text("name", required=True, max_len=200)
    c.currency("currency", required=True)
    c.text("segment", max_len=40)
    c.text("region", max_len=40)
    c.text("parent", max_len=40)
    c.day("valid_from")
    c.day("valid_to")
    c.boolean("is_active", default=True)
    c.date_range("valid_from", "valid_to", existing)
    if c.out.get("parent"):
        parent = lookups.book(c.out["parent"])
        code = merged(c, existing, "code")
        if parent is None:
            c.problem("parent", "catalog.unknown_price_book", f"there is no price book '{c.out['parent']}'")
        elif parent.code == code:
            c.problem("parent", "catalog.invalid", "a price book cannot be its own parent")
        else:
            currency = merged(c, existing, "currency")
            if currency and parent.currency != currency:
                c.problem(
                    "parent",
                    "catalog.currency_mismatch",
                    f"the parent {parent.code} is in {parent.currency}, not {currency}",
                )
            # Walk up: the new parent must not descend from this book.
            seen = {code}
            walk: PriceBook | None = parent
            while walk is not None and walk.parent_id is not None:
                up = PriceBook.objects.filter(pk=walk.parent_id).first()
                if up is None:
                    break
                if up.code in seen:
                    c.problem("parent", "catalog.invalid", "price book parents would form a loop")
                    break
                seen.add(up.code)
                walk = up
            c.out["parent"] = parent
    elif "parent" in c.out:
        c.out["parent"] = None
    return c


def create_price_book(data: Mapping[str, Any], *, actor: Any = None) -> PriceBook:
    c = clean_price_book(data)
    c.raise_if_any()
    with transaction.atomic():
        if PriceBook.objects.filter(code=c.out["code"]).exists():
            raise CatalogConflict(
                f"price book '{c.out['code']}' exists already", code="catalog.duplicate", field="code"
            )
        book = PriceBook.objects.create(**c.out)
        touch()
        record("price_book_created", "price_book", book.pk, actor, code=book.code, currency=book.currency)
    return book


def update_price_book(book_id: int, data: Mapping[str, Any], *, actor: Any = None) -> PriceBook:
    with transaction.atomic():
        book = _get(PriceBook.objects.select_for_update(), book_id, "price_book")
        c = clean_price_book(data, partial=True, existing=book)
        c.raise_if_any()
        if "code" in c.out and c.out["code"] != book.code:
            raise CatalogInvalid("a price book's code cannot change", code="catalog.immutable", field="code")
        if "currency" in c.out and c.out["currency"] != book.currency and book.entries.exists():
            raise CatalogConflict(
                "the book has prices; its currency cannot change", code="catalog.in_use", field="currency"
            )
        for key, value in c.out.items():
            setattr(book, key, value)
        book.save()
        touch()
        record("price_book_updated", "price_book", book.pk, actor, fields=sorted(c.out))
    return book


def delete_price_book(book_id: int, *, actor: Any = None) -> None:
    with transaction.atomic():
        book = _get(PriceBook.objects.select_for_update(), book_id, "price_book")
        if book.children.exists():
            raise CatalogConflict("other price books inherit from this one", code="catalog.in_use")
        book.delete()
        touch()
        record("price_book_deleted", "price_book", book_id, actor)


# --- price entries -------------------------------------------------------------------------


def parse_tiers_text(text: str) -> list[dict[str, Any]]:
    """Tiers from the file format ``lower-upper:unit_price[+flat_fee];…`` (upper empty = open),
    e.g. ``0-100000:0;100000-1000000:0.002;1000000-:0.001``."""
    tiers: list[dict[str, Any]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        span, _, price = part.partition(":")
        lower, _, upper = span.partition("-")
        unit_price, _, fee = price.partition("+")
        tiers.append(
            {
                "lower": lower.strip(),
                "upper": upper.strip() or None,
                "unit_price": unit_price.strip(),
                "flat_fee": fee.strip() or "0",
            }
        )
    return tiers


def format_tiers_text(tiers: list[Any]) -> str:
    parts = []
    for t in tiers:
        upper = "" if t.upper is None else str(t.upper)
        fee = f"+{t.flat_fee}" if t.flat_fee else ""
        parts.append(f"{t.lower}-{upper}:{t.unit_price}{fee}")
    return ";".join(parts)


def _clean_tiers(items: Any, c: Cleaner) -> list[dict[str, Any]]:
    if items is None:
        return []
    if isinstance(items, str):
        items = parse_tiers_text(items)
    if not isinstance(items, list | tuple):
        c.problem("tiers", "catalog.invalid", "tiers is a list of {lower, upper, unit_price, flat_fee}")
        return []
    out = []
    for i, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            c.problem(f"tiers[{i}]", "catalog.invalid", "each tier is an object")
            continue
        t = Cleaner(raw, prefix=f"tiers[{i}].")
        t.decimal("lower", required=True, minimum=ZERO)
        t.decimal("upper", minimum=ZERO)
        t.decimal("unit_price", required=True, minimum=ZERO)
        t.decimal("flat_fee", minimum=ZERO, default=ZERO)
        c.problems.extend(t.problems)
        out.append(t.out)
    return out


def clean_price_entry(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: PriceEntry | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    """Check a price entry. The charge is named by ``sku`` and ``charge`` (its code)."""
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("price_book", required=True, max_len=40)
    c.text("sku", required=True, max_len=64)
    c.text("charge", required=True, max_len=40)
    c.choice("model", PriceModelKind, required=True)
    c.decimal("price", minimum=ZERO, default=ZERO)
    c.decimal("list_unit_price", minimum=ZERO)
    c.decimal("block_size", positive=True, default=Decimal(1))
    c.decimal("percent", minimum=ZERO, maximum=Decimal(1000), default=ZERO)
    c.strings("percent_of_skus")
    c.strings("percent_of_families")
    c.decimal("minimum", minimum=ZERO)
    c.decimal("maximum", minimum=ZERO)
    c.decimal("floor_price", minimum=ZERO)
    c.day("valid_from")
    c.day("valid_to")
    c.date_range("valid_from", "valid_to", existing)
    if not partial or "tiers" in raw:
        c.out["tiers"] = _clean_tiers(raw.get("tiers"), c)
    book = existing.price_book if existing is not None else None
    if "price_book" in c.out:
        book = lookups.book(c.out["price_book"])
        if book is None:
            c.problem(
                "price_book", "catalog.unknown_price_book", f"there is no price book '{c.out['price_book']}'"
            )
        c.out["price_book"] = book
    charge = existing.charge if existing is not None else None
    if "sku" in c.out or "charge" in c.out:
        sku = c.out.pop("sku", None) or (existing.charge.product.sku if existing is not None else "")
        code = c.out.pop("charge", None) or (existing.charge.code if existing is not None else "")
        if sku and code:
            charge = lookups.charge(sku, code)
            if charge is None:
                c.problem("charge", "catalog.unknown_charge", f"{sku} has no charge '{code}'")
            c.out["charge"] = charge
    if c.problems:
        return c
    kind = merged(c, existing, "model")
    tiers_raw = c.out.get("tiers")
    if tiers_raw is None and existing is not None:
        tiers = tuple(Tier(t.lower, t.upper, t.unit_price, t.flat_fee) for t in existing.tiers.all())
    else:
        tiers = tuple(
            Tier(t["lower"], t.get("upper"), t["unit_price"], t.get("flat_fee") or ZERO)
            for t in tiers_raw or []
        )
    model = PriceModel(
        kind=PriceModelKind(kind),
        price=merged(c, existing, "price") or ZERO,
        block_size=merged(c, existing, "block_size") or Decimal(1),
        tiers=tiers,
        percent=merged(c, existing, "percent") or ZERO,
        minimum=merged(c, existing, "minimum"),
        maximum=merged(c, existing, "maximum"),
    )
    for p in check_model(model):
        field = (
            f"tiers[{p.position}].{p.field}"
            if p.code.startswith("pricing.tier") and p.field != "tiers"
            else p.field
        )
        c.problem(field, p.code, p.message)
    if kind not in (PriceModelKind.TIERED, PriceModelKind.VOLUME) and tiers:
        c.problem("tiers", "catalog.invalid", f"a {kind} price has no tiers")
    if kind == PriceModelKind.PERCENT:
        skus = merged(c, existing, "percent_of_skus")
        families = merged(c, existing, "percent_of_families")
        if isinstance(skus, str):
            skus = split_list(skus)
        if isinstance(families, str):
            families = split_list(families)
        if not skus and not families:
            c.problem(
                "percent_of_skus",
                "catalog.required",
                "a percent price names the SKUs or families it applies to",
            )
        if charge is not None and charge.kind == ChargeKind.USAGE:
            c.problem(
                "model", "catalog.invalid", "a usage charge cannot be priced as a percent of other lines"
            )
    if book is not None:
        exp = currency_exponent(book.currency)
        for name in ("minimum", "maximum"):
            value = c.out.get(name)
            if value is not None and value != value.quantize(Decimal(1).scaleb(-exp)):
                c.problem(
                    name, "catalog.too_many_decimals", f"{name} has more decimals than {book.currency} allows"
                )
    return c


def _save_tiers(entry: PriceEntry, tiers: list[dict[str, Any]]) -> None:
    entry.tiers.all().delete()
    PriceTier.objects.bulk_create(
        [
            PriceTier(
                entry=entry,
                position=i,
                lower=t["lower"],
                upper=t.get("upper"),
                unit_price=t["unit_price"],
                flat_fee=str(t.get("flat_fee") or ZERO),
            )
            for i, t in enumerate(tiers)
        ]
    )


def _entry_fields(out: dict[str, Any]) -> dict[str, Any]:
    fields = dict(out)
    fields.pop("tiers", None)
    for name in ("percent_of_skus", "percent_of_families"):
        if name in fields:
            fields[name] = join_list(fields[name])
    return fields


def _check_entry_overlap(
    book: PriceBook, charge: Charge, valid_from: Any, valid_to: Any, exclude: int | None
) -> None:
    clash = PriceEntry.objects.filter(price_book=book, charge=charge).filter(
        _validity_q(valid_from, valid_to)
    )
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise CatalogConflict(
            f"{charge.product.sku}/{charge.code} already has a price in {book.code} valid on some of these days",
            code="catalog.overlapping_price",
            field="valid_from",
        )


def create_price_entry(data: Mapping[str, Any], *, actor: Any = None) -> PriceEntry:
    """Price a charge in a price book. 422 naming each bad field (tier gaps, overlaps …);
    409 ``catalog.overlapping_price`` when another entry is valid on the same days."""
    c = clean_price_entry(data)
    c.raise_if_any()
    with transaction.atomic():
        fields = _entry_fields(c.out)
        _check_entry_overlap(
            fields["price_book"], fields["charge"], fields.get("valid_from"), fields.get("valid_to"), None
        )
        entry = PriceEntry.objects.create(**fields)
        _save_tiers(entry, c.out.get("tiers") or [])
        touch()
        record(
            "price_entry_created",
            "price_entry",
            entry.pk,
            actor,
            book=entry.price_book.code,
            charge=str(entry.charge),
        )
    return entry


def update_price_entry(entry_id: int, data: Mapping[str, Any], *, actor: Any = None) -> PriceEntry:
    with transaction.atomic():
        entry = _get(
            PriceEntry.objects.select_for_update(of=("self",)).select_related("price_book", "charge__product"),
            entry_id,
            "price_entry",
        )
        c = clean_price_entry(data, partial=True, existing=entry)
        c.raise_if_any()
        fields = _entry_fields(c.out)
        for key, value in fields.items():
            setattr(entry, key, value)
        _check_entry_overlap(entry.price_book, entry.charge, entry.valid_from, entry.valid_to, entry.pk)
        entry.save()
        if "tiers" in c.out:
            _save_tiers(entry, c.out["tiers"])
        touch()
        record("price_entry_updated", "price_entry", entry.pk, actor, fields=sorted(c.out))
    return entry


def delete_price_entry(entry_id: int, *, actor: Any = None) -> None:
    _delete(PriceEntry, entry_id, "price_entry", "price_entry_deleted", actor)


# --- contracted prices ---------------------------------------------------------------------


def clean_contracted_price(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: ContractedPrice | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.integer("account_id", required=True, minimum=1)
    c.text("sku", required=True, max_len=64)
    c.text("charge", required=True, max_len=40)
    c.currency("currency", required=True)
    c.decimal("unit_price", minimum=ZERO)
    c.decimal("discount_percent", minimum=ZERO, maximum=HUNDRED)
    c.day("valid_from")
    c.day("valid_to")
    c.date_range("valid_from", "valid_to", existing)
    if "sku" in c.out or "charge" in c.out:
        sku = c.out.pop("sku", None) or (existing.charge.product.sku if existing is not None else "")
        code = c.out.pop("charge", None) or (existing.charge.code if existing is not None else "")
        charge = lookups.charge(sku, code) if sku and code else None
        if charge is None and sku and code:
            c.problem("charge", "catalog.unknown_charge", f"{sku} has no charge '{code}'")
        c.out["charge"] = charge
    price, pct = merged(c, existing, "unit_price"), merged(c, existing, "discount_percent")
    if (price is None) == (pct is None):
        c.problem("unit_price", "catalog.invalid", "give either a unit price or a discount percent")
    return c


def create_contracted_price(data: Mapping[str, Any], *, actor: Any = None) -> ContractedPrice:
    c = clean_contracted_price(data)
    c.raise_if_any()
    with transaction.atomic():
        _check_contract_overlap(c.out, None)
        row = ContractedPrice.objects.create(**c.out)
        touch()
        record(
            "contracted_price_created",
            "contracted_price",
            row.pk,
            actor,
            account_id=row.account_id,
            charge=str(row.charge),
        )
    return row


def _check_contract_overlap(out: Mapping[str, Any], row: ContractedPrice | None) -> None:
    account = out.get("account_id", getattr(row, "account_id", None))
    charge = out.get("charge", getattr(row, "charge", None))
    currency = out.get("currency", getattr(row, "currency", None))
    start = out.get("valid_from", getattr(row, "valid_from", None))
    end = out.get("valid_to", getattr(row, "valid_to", None))
    clash = ContractedPrice.objects.filter(account_id=account, charge=charge, currency=currency).filter(
        _validity_q(start, end)
    )
    if row is not None:
        clash = clash.exclude(pk=row.pk)
    if clash.exists():
        raise CatalogConflict(
            "the account already has a contracted price for this charge on some of these days",
            code="catalog.overlapping_price",
            field="valid_from",
        )


def update_contracted_price(row_id: int, data: Mapping[str, Any], *, actor: Any = None) -> ContractedPrice:
    with transaction.atomic():
        row = _get(
            ContractedPrice.objects.select_for_update(of=("self",)).select_related("charge__product"),
            row_id,
            "contracted_price",
        )
        c = clean_contracted_price(data, partial=True, existing=row)
        c.raise_if_any()
        _check_contract_overlap(c.out, row)
        for key, value in c.out.items():
            setattr(row, key, value)
        row.save()
        touch()
        record("contracted_price_updated", "contracted_price", row.pk, actor, fields=sorted(c.out))
    return row


def delete_contracted_price(row_id: int, *, actor: Any = None) -> None:
    _delete(ContractedPrice, row_id, "contracted_price", "contracted_price_deleted", actor)


# --- discount schedules --------------------------------------------------------------------


def _products_for(skus: list[str], c: Cleaner, field: str, lookups: Lookups) -> list[Product]:
    found = []
    for sku in skus:
        product = lookups.product(sku)
        if product is None:
            c.problem(field, "catalog.unknown_sku", f"there is no product with SKU '{sku}'")
        else:
            found.append(product)
    return found


def clean_schedule(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: DiscountSchedule | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("code", required=True, max_len=40, code=True)
    c.text("name", required=True, max_len=200)
    c.choice("kind", ScheduleKind, required=True)
    c.strings("products")
    c.strings("families")
    c.boolean("is_active", default=True)
    if "products" in c.out:
        c.out["products"] = _products_for(c.out["products"], c, "products", lookups)
    if "families" in c.out:
        c.out["families"] = join_list(c.out["families"])
    if not partial or "tiers" in raw:
        items = raw.get("tiers") or []
        tiers = []
        if not isinstance(items, list | tuple) or not items:
            c.problem("tiers", "catalog.required", "a schedule needs at least one tier {threshold, percent}")
        else:
            for i, item in enumerate(items):
                t = Cleaner(item if isinstance(item, Mapping) else {}, prefix=f"tiers[{i}].")
                t.decimal("threshold", required=True, minimum=ZERO)
                t.decimal("percent", required=True, minimum=ZERO, maximum=HUNDRED)
                c.problems.extend(t.problems)
                tiers.append(t.out)
            thresholds = [t.get("threshold") for t in tiers]
            if len(set(thresholds)) != len(thresholds):
                c.problem("tiers", "catalog.duplicate", "two tiers have the same threshold")
        c.out["tiers"] = tiers
    return c


def _save_schedule(schedule: DiscountSchedule, out: dict[str, Any]) -> None:
    if "products" in out:
        schedule.products.set(out["products"])
    if "tiers" in out:
        schedule.tiers.all().delete()
        DiscountScheduleTier.objects.bulk_create(
            [
                DiscountScheduleTier(schedule=schedule, threshold=t["threshold"], percent=t["percent"])
                for t in out["tiers"]
            ]
        )


def create_schedule(data: Mapping[str, Any], *, actor: Any = None) -> DiscountSchedule:
    c = clean_schedule(data)
    c.raise_if_any()
    fields = {k: v for k, v in c.out.items() if k not in ("products", "tiers")}
    with transaction.atomic():
        if DiscountSchedule.objects.filter(code=fields["code"]).exists():
            raise CatalogConflict(
                f"schedule '{fields['code']}' exists already", code="catalog.duplicate", field="code"
            )
        schedule = DiscountSchedule.objects.create(**fields)
        _save_schedule(schedule, c.out)
        touch()
        record("schedule_created", "discount_schedule", schedule.pk, actor, code=schedule.code)
    return schedule


def update_schedule(schedule_id: int, data: Mapping[str, Any], *, actor: Any = None) -> DiscountSchedule:
    with transaction.atomic():
        schedule = _get(DiscountSchedule.objects.select_for_update(), schedule_id, "discount_schedule")
        c = clean_schedule(data, partial=True, existing=schedule)
        c.raise_if_any()
        if "code" in c.out and c.out["code"] != schedule.code:
            raise CatalogInvalid("a schedule's code cannot change", code="catalog.immutable", field="code")
        for key, value in c.out.items():
            if key not in ("products", "tiers"):
                setattr(schedule, key, value)
        schedule.save()
        _save_schedule(schedule, c.out)
        touch()
        record("schedule_updated", "discount_schedule", schedule.pk, actor, fields=sorted(c.out))
    return schedule


def delete_schedule(schedule_id: int, *, actor: Any = None) -> None:
    _delete(DiscountSchedule, schedule_id, "discount_schedule", "schedule_deleted", actor)


# --- promotions ----------------------------------------------------------------------------


def clean_promotion(
    raw: Mapping[str, Any],
    *,
    partial: bool = False,
    existing: Promotion | None = None,
    lookups: Lookups | None = None,
) -> Cleaner:
    lookups = lookups or Lookups()
    c = Cleaner(raw, partial=partial)
    c.text("code", required=True, max_len=40, code=True)
    if "code" in c.out:
        c.out["code"] = c.out["code"].upper()
    c.text("name", required=True, max_len=200)
    c.decimal("percent", minimum=ZERO, maximum=HUNDRED)
    c.decimal("amount", minimum=ZERO)
    c.currency("currency")
    c.day("valid_from")
    c.day("valid_to")
    c.boolean("automatic")
    c.decimal("min_quantity", minimum=ZERO)
    c.strings("products")
    c.strings("families")
    c.strings("sale_contexts")
    c.boolean("is_active", default=True)
    c.date_range("valid_from", "valid_to", existing)
    if "products" in c.out:
        c.out["products"] = _products_for(c.out["products"], c, "products", lookups)
    if "families" in c.out:
        c.out["families"] = join_list(c.out["families"])
    if "sale_contexts" in c.out:
        for ctx in c.out["sale_contexts"]:
            if ctx not in {str(s) for s in SaleContext}:
                c.problem(
                    "sale_contexts", "catalog.invalid_choice", f"'{ctx}' is not one of new, add_on, renewal"
                )
        c.out["sale_contexts"] = join_list(c.out["sale_contexts"])
    pct, amount = merged(c, existing, "percent"), merged(c, existing, "amount")
    if (pct is None) == (amount is None):
        c.problem("percent", "catalog.invalid", "a promotion gives either a percent or an amount off")
    if amount is not None and not merged(c, existing, "currency"):
        c.problem("currency", "catalog.required", "an amount off needs a currency")
    return c


def create_promotion(data: Mapping[str, Any], *, actor: Any = None) -> Promotion:
    c = clean_promotion(data)
    c.raise_if_any()
    fields = {k: v for k, v in c.out.items() if k != "products"}
    with transaction.atomic():
        if Promotion.objects.filter(code=fields["code"]).exists():
            raise CatalogConflict(
                f"promotion '{fields['code']}' exists already", code="catalog.duplicate", field="code"
            )
        promo = Promotion.objects.create(**fields)
        if "products" in c.out:
            promo.products.set(c.out["products"])
        touch()
        record("promotion_created", "promotion", promo.pk, actor, code=promo.code)
    return promo


def update_promotion(promo_id: int, data: Mapping[str, Any], *, actor: Any = None) -> Promotion:
    with transaction.atomic():
        promo = _get(Promotion.objects.select_for_update(), promo_id, "promotion")
        c = clean_promotion(data, partial=True, existing=promo)
        c.raise_if_any()
        if "code" in c.out and c.out["code"] != promo.code:
            raise CatalogInvalid("a promotion's code cannot change", code="catalog.immutable", field="code")
        for key, value in c.out.items():
            if key != "products":
                setattr(promo, key, value)
        promo.save()
        if "products" in c.out:
            promo.products.set(c.out["products"])
        touch()
        record("promotion_updated", "promotion", promo.pk, actor, fields=sorted(c.out))
    return promo


def delete_promotion(promo_id: int, *, actor: Any = None) -> None:
    _delete(Promotion, promo_id, "promotion", "promotion_deleted", actor)


# --- manual discount limits ----------------------------------------------------------------


def set_discount_limit(role: str, max_percent: Any, *, actor: Any = None) -> ManualDiscountLimit:
    """Set the largest manual discount ``role`` may give without approval (0–100 %)."""
    c = Cleaner({"role": role, "max_percent": max_percent})
    c.choice("role", Role, required=True)
    c.decimal("max_percent", required=True, minimum=ZERO, maximum=HUNDRED)
    c.raise_if_any()
    with transaction.atomic():
        row, _ = ManualDiscountLimit.objects.update_or_create(
            role=c.out["role"], defaults={"max_percent": c.out["max_percent"]}
        )
        record("discount_limit_set", "discount_limit", row.role, actor, max_percent=c.out["max_percent"])
    return row


def delete_discount_limit(role: str, *, actor: Any = None) -> None:
    with transaction.atomic():
        deleted, _ = ManualDiscountLimit.objects.filter(role=role).delete()
        if not deleted:
            from q2c.catalog.errors import CatalogNotFound

            raise CatalogNotFound(
                f"no discount limit for role '{role}'", code="catalog.discount_limit_not_found"
            )
        record("discount_limit_deleted", "discount_limit", role, actor)


def discount_limit_for(roles: set[str]) -> Decimal | None:
    """The manual discount limit (percent) of someone with ``roles``: the highest of their roles'
    limits; admins have none (None = unlimited); a role without a row may give 0 %."""
    if str(Role.ADMIN) in roles:
        return None
    limits = [row.max_percent for row in ManualDiscountLimit.objects.filter(role__in=sorted(roles))]
    return max(limits) if limits else ZERO

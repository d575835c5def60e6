"""Loading the pricing engine's catalog snapshot from the database, and caching it.

A snapshot covers one price book (with the prices it inherits from its parents) on one date. It
is built with a fixed number of bulk queries — books, entries, tiers, charges, products, SSPs,
schedules, promotions, bundles, rules: about a dozen whatever the catalog's size — and cached in
process per ``(price book, catalog revision, validity window)``. The window ``[from, to)`` is the
run of days around the as-of date on which no effective date the snapshot depends on falls (a
price entry of the book or its parents, a product or a promotion starting or ending), so the
snapshot serves every day in it and a new business day rebuilds nothing until a date is crossed.
Every catalog write changes the revision token (``services.common.touch``), so a cached snapshot
is never stale; checking the token costs one small query per pricing request.

Contracted prices are per customer and are loaded per request (one query), not cached.

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q

from q2c.catalog.models import (
    BundleOption,
    Charge,
    ConfigurationRule,
    ContractedPrice,
    DiscountSchedule,
    DiscountScheduleTier,
    OptionGroup,
    PriceBook,
    PriceEntry,
    PriceTier,
    Product,
    ProductSsp,
    Promotion,
)
from q2c.catalog.pricing import types as t
from q2c.catalog.pricing.price_models import check_model
from q2c.catalog.pricing.request import PricingInputError
from q2c.catalog.services.common import revision, split_list

CACHE_SIZE = 16
# (price book id, revision, window start or None, window end or None) → snapshot
_cache: OrderedDict[tuple[int, str, date | None, date | None], t.CatalogSnapshot] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _rows(queryset: Any) -> Iterator[dict[str, Any]]:
    """Rows of a ``values()`` query as plain dicts (decimal text already converted to Decimal)."""
    return iter(queryset)


def _in_force(row: dict[str, Any], day: date) -> bool:
    """The test of ``_valid_on`` on a loaded row (``valid_from`` inclusive, ``valid_to`` exclusive)."""
    start, end = row["valid_from"], row["valid_to"]
    return (start is None or start <= day) and (end is None or end > day)


class _Window:
    """The days around ``as_of`` on which none of the dates seen starts or ends: ``[start, end)``,
    ``None`` meaning unbounded. A date ``d`` is where something starts (inclusive) or ends
    (exclusive), so the result can differ from ``d`` on, and from the day before ``d``."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.start: date | None = None
        self.end: date | None = None

    def see(self, *days: date | None) -> None:
        for d in days:
            if d is None:
                continue
            if d <= self.as_of:
                if self.start is None or d > self.start:
                    self.start = d
            elif self.end is None or d < self.end:
                self.end = d


def _valid_on(day: date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=day)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gt=day)
    )


def _book_valid(book: PriceBook, day: date) -> bool:
    if not book.is_active:
        return False
    if book.valid_from is not None and day < book.valid_from:
        return False
    return not (book.valid_to is not None and day >= book.valid_to)


def resolve_price_book(currency: str, code: str, segment: str, region: str, as_of: date) -> PriceBook:
    """The price book a request prices in: the one it names, or the best active book of its
    currency on ``as_of`` (a book for the request's segment and region beats a general one; books
    for another segment or region never apply). Raises ``PricingInputError`` naming the field."""
    if code:
        book = PriceBook.objects.filter(code=code).first()
        if book is None:
            raise PricingInputError(
                f"there is no price book '{code}'", code="pricing.unknown_price_book", field="price_book"
            )
        if book.currency != currency:
            raise PricingInputError(
                f"price book {code} has no prices in {currency} (it is in {book.currency})",
                code="pricing.price_book_currency",
                field="price_book",
            )
        if not _book_valid(book, as_of):
            raise PricingInputError(
                f"price book {code} is not in force on {as_of.isoformat()}",
                code="pricing.price_book_inactive",
                field="price_book",
            )
        return book
    best: tuple[int, str] | None = None
    chosen = None
    for book in PriceBook.objects.filter(currency=currency, is_active=True):
        if not _book_valid(book, as_of):
            continue
        if book.segment and book.segment != segment:
            continue
        if book.region and book.region != region:
            continue
        score = (2 if book.segment else 0) + (1 if book.region else 0)
        key = (-score, book.code)
        if best is None or key < best:
            best, chosen = key, book
    if chosen is None:
        raise PricingInputError(
            f"there is no price book in {currency} in force on {as_of.isoformat()}",
            code="pricing.no_price_book",
            field="currency",
        )
    return chosen


def get_snapshot(book: PriceBook, as_of: date) -> t.CatalogSnapshot:
    """The snapshot of ``book`` on ``as_of``, from the cache when the catalog has not changed and
    a snapshot built for a day of the same validity window is there (it is then returned dated
    ``as_of``: its content is what ``build_snapshot(book, as_of)`` would build)."""
    rev = revision()
    with _lock:
        for key, snap in reversed(_cache.items()):
            pk, key_rev, start, end = key
            after_start = start is None or start <= as_of
            if pk == book.pk and key_rev == rev and after_start and (end is None or as_of < end):
                _cache.move_to_end(key)
                return snap if snap.as_of == as_of else _dated(snap, as_of)
    snap, window = _build(book, as_of)
    with _lock:
        _cache[(book.pk, rev, window.start, window.end)] = snap
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return snap


def _dated(snap: t.CatalogSnapshot, as_of: date) -> t.CatalogSnapshot:
    """``snap`` dated ``as_of``: a shallow copy sharing its read-only content (the derived plans
    are not computed again)."""
    dated = copy.copy(snap)
    object.__setattr__(dated, "as_of", as_of)
    return dated


def _model_of(entry: dict[str, Any], tiers: list[t.Tier]) -> t.PriceModel:
    return t.PriceModel(
        kind=t.PriceModelKind(entry["model"]),
        price=entry["price"] or t.ZERO,
        block_size=entry["block_size"] or t.ONE,
        tiers=tuple(tiers),
        percent=entry["percent"] or t.ZERO,
        percent_of_skus=frozenset(split_list(entry["percent_of_skus"])),
        percent_of_families=frozenset(split_list(entry["percent_of_families"])),
        minimum=entry["minimum"],
        maximum=entry["maximum"],
        list_unit_price=entry["list_unit_price"],
    )


def rule_snap(row: ConfigurationRule) -> t.Rule:
    """The engine's view of one stored rule (products already loaded with select_related)."""
    return t.Rule(
        id=row.pk or 0,
        code=row.code,
        name=row.name,
        kind=t.RuleKind(row.kind),
        target_sku=row.target.sku if row.target is not None else "",
        source_sku=row.source.sku if row.source is not None else "",
        bundle_sku=row.bundle.sku if row.bundle is not None else "",
        per_quantity=Decimal(row.per_quantity or 1),
        target_quantity=Decimal(row.target_quantity or 1),
        attribute=row.attribute,
        operator=t.AttributeOperator(row.operator or "eq"),
        values=tuple(split_list(row.values)),
        action=t.RuleAction(row.action or "requires"),
        message=row.message,
    )


def build_snapshot(book: PriceBook, as_of: date) -> t.CatalogSnapshot:
    """Build a snapshot with bulk queries (their number does not grow with the catalog)."""
    return _build(book, as_of)[0]


def _build(book: PriceBook, as_of: date) -> tuple[t.CatalogSnapshot, _Window]:
    """The snapshot and the window of days it is valid for (``_Window``): every date the content
    depends on is seen — the entries' (the only rows chosen by date), and, so that a snapshot is
    never shared across a day where a product or promotion starts or ends, theirs."""
    window = _Window(as_of)
    currency = book.currency
    # 1. the book and the parents it inherits from (nearest first)
    books = {b.pk: b for b in PriceBook.objects.filter(currency=currency)}
    chain: list[int] = []
    walk: PriceBook | None = book
    while walk is not None and walk.pk not in chain:
        chain.append(walk.pk)
        walk = books.get(walk.parent_id) if walk.parent_id else None
    rank = {pk: i for i, pk in enumerate(chain)}

    # 2. entries in force, the nearest book winning per charge (all of the chain's entries are
    # read, so the dates of those not in force on as_of bound the window too)
    entries: dict[int, dict[str, Any]] = {}
    for entry in _rows(PriceEntry.objects.filter(price_book_id__in=chain).values()):
        window.see(entry["valid_from"], entry["valid_to"])
        if not _in_force(entry, as_of):
            continue
        current = entries.get(entry["charge_id"])
        if current is None or rank[entry["price_book_id"]] < rank[current["price_book_id"]]:
            entries[entry["charge_id"]] = entry
    chosen_ids = {e["id"] for e in entries.values()}

    # 3. their tiers
    tiers: dict[int, list[t.Tier]] = defaultdict(list)
    tier_rows = PriceTier.objects.filter(entry__price_book_id__in=chain).order_by("entry_id", "position")
    for row in _rows(tier_rows.values("entry_id", "lower", "upper", "unit_price", "flat_fee")):
        if row["entry_id"] in chosen_ids:
            tiers[row["entry_id"]].append(
                t.Tier(row["lower"], row["upper"], row["unit_price"], row["flat_fee"] or t.ZERO)
            )

    # 4. products and 5. their charges (only priced charges reach the snapshot)
    product_rows = list(
        _rows(
            Product.objects.values(
                "id",
                "sku",
                "name",
                "family",
                "type",
                "unit__code",
                "unit__divisible",
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
            )
        )
    )
    for p in product_rows:
        window.see(p["active_from"], p["active_to"])
    floors = {
        p["id"]: p["floor_price"]
        if p["floor_price"] is not None and p["floor_currency"] == currency
        else None
        for p in product_rows
    }
    charges_by_product: dict[int, list[t.Charge]] = defaultdict(list)
    for ch in _rows(
        Charge.objects.filter(id__in=list(entries)).order_by("product_id", "sequence", "code").values()
    ):
        entry = entries[ch["id"]]
        model = _model_of(entry, tiers.get(entry["id"], []))
        problems = check_model(model)
        error = (problems[0].code, problems[0].message) if problems else None
        floor = entry["floor_price"] if entry["floor_price"] is not None else floors.get(ch["product_id"])
        charges_by_product[ch["product_id"]].append(
            t.Charge(
                id=ch["id"],
                code=ch["code"],
                name=ch["name"],
                kind=t.ChargeKind(ch["kind"]),
                model=model,
                billing_period=t.BillingPeriod(ch["billing_period"]) if ch["billing_period"] else None,
                period_months=ch["period_months"] or 0,
                timing=t.BillingTiming(ch["timing"]) if ch["timing"] else None,
                usage_metric=ch["usage_metric"],
                usage_aggregation=t.UsageAggregation(ch["usage_aggregation"])
                if ch["usage_aggregation"]
                else None,
                floor_unit_price=floor,
                entry_id=entry["id"],
                model_error=error,
            )
        )

    # 6. standalone selling prices in this currency (or currency-free percentages)
    ssp: dict[int, dict[t.SaleContext, t.Ssp]] = defaultdict(dict)
    for row in _rows(ProductSsp.objects.filter(Q(currency=currency) | Q(currency="")).values()):
        ssp[row["product_id"]][t.SaleContext(row["context"])] = t.Ssp(
            t.SspMethod(row["method"]),
            amount=row["amount"],
            percent=row["percent"],
            low=row["low"],
            high=row["high"],
        )

    products: dict[str, t.Product] = {}
    sku_of: dict[int, str] = {}
    for p in product_rows:
        sku_of[p["id"]] = p["sku"]
        products[p["sku"]] = t.Product(
            id=p["id"],
            sku=p["sku"],
            name=p["name"],
            type=t.ProductType(p["type"]),
            charges=tuple(charges_by_product.get(p["id"], ())),
            family=p["family"],
            uom=p["unit__code"],
            divisible=p["unit__divisible"],
            tax_category=p["tax_category"],
            revenue_category=p["revenue_category"],
            revenue_rule=t.RevenueRule(p["revenue_rule"]),
            is_bundle=p["is_bundle"],
            active_from=p["active_from"],
            active_to=p["active_to"],
            cost=p["cost"] if p["cost"] is not None and p["cost_currency"] == currency else None,
            floor_enforcement=t.FloorEnforcement(p["floor_enforcement"]),
            ssp=ssp.get(p["id"], {}),
        )

    # 7. discount schedules
    schedule_tiers: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    tier_values = DiscountScheduleTier.objects.filter(schedule__is_active=True).values(
        "schedule_id", "threshold", "percent"
    )
    for row in _rows(tier_values):
        schedule_tiers[row["schedule_id"]].append((row["threshold"], row["percent"]))
    schedule_skus: dict[int, set[str]] = defaultdict(set)
    through = DiscountSchedule.products.through
    links = through.objects.filter(discountschedule__is_active=True).values(
        "discountschedule_id", "product_id"
    )
    for row in _rows(links):
        schedule_skus[row["discountschedule_id"]].add(sku_of[row["product_id"]])
    schedules = tuple(
        t.DiscountSchedule(
            id=s["id"],
            code=s["code"],
            name=s["name"],
            kind=t.ScheduleKind(s["kind"]),
            tiers=tuple(sorted(schedule_tiers.get(s["id"], []))),
            skus=frozenset(schedule_skus.get(s["id"], ())),
            families=frozenset(split_list(s["families"])),
        )
        for s in _rows(DiscountSchedule.objects.filter(is_active=True).order_by("code").values())
    )

    # 8. promotions (kept whatever their dates, so a code outside them gets a precise error)
    promo_skus: dict[int, set[str]] = defaultdict(set)
    promo_through = Promotion.products.through
    for row in _rows(
        promo_through.objects.filter(promotion__is_active=True).values("promotion_id", "product_id")
    ):
        promo_skus[row["promotion_id"]].add(sku_of[row["product_id"]])
    promotion_rows = list(_rows(Promotion.objects.filter(is_active=True).values()))
    for p in promotion_rows:
        window.see(p["valid_from"], p["valid_to"])
    promotions = {
        p["code"]: t.Promotion(
            id=p["id"],
            code=p["code"],
            name=p["name"],
            valid_from=p["valid_from"],
            valid_to=p["valid_to"],
            percent=p["percent"],
            amount=p["amount"],
            currency=p["currency"],
            automatic=p["automatic"],
            min_quantity=p["min_quantity"],
            skus=frozenset(promo_skus.get(p["id"], ())),
            families=frozenset(split_list(p["families"])),
            sale_contexts=frozenset(t.SaleContext(c) for c in split_list(p["sale_contexts"])),
        )
        for p in promotion_rows
    }

    # 9. bundles
    options: dict[int, list[t.BundleOption]] = defaultdict(list)
    for o in _rows(BundleOption.objects.order_by("group_id", "sequence", "id").values()):
        options[o["group_id"]].append(
            t.BundleOption(
                id=o["id"],
                sku=sku_of[o["product_id"]],
                selection=t.OptionSelection(o["selection"]),
                min_qty=o["min_qty"],
                max_qty=o["max_qty"],
                qty_tied_to_parent=o["qty_tied_to_parent"],
                qty_ratio=o["qty_ratio"] or t.ONE,
                included_in_price=o["included_in_price"],
            )
        )
    groups: dict[str, list[t.OptionGroup]] = defaultdict(list)
    for g in _rows(OptionGroup.objects.order_by("bundle_id", "sequence", "code").values()):
        groups[sku_of[g["bundle_id"]]].append(
            t.OptionGroup(
                id=g["id"],
                code=g["code"],
                name=g["name"],
                options=tuple(options.get(g["id"], ())),
                min_options=g["min_options"],
                max_options=g["max_options"],
            )
        )
    bundles = {sku: t.Bundle(sku, tuple(gs)) for sku, gs in groups.items() if products[sku].is_bundle}
    for sku, product in products.items():
        if product.is_bundle and sku not in bundles:
            bundles[sku] = t.Bundle(sku, ())

    # 10. rules
    rules = tuple(
        rule_snap(r)
        for r in ConfigurationRule.objects.filter(is_active=True)
        .select_related("bundle", "source", "target")
        .order_by("code")
    )
    snap = t.CatalogSnapshot(
        price_book=book.code,
        currency=currency,
        as_of=as_of,
        products=products,
        bundles=bundles,
        rules=rules,
        schedules=schedules,
        promotions=promotions,
        price_book_id=book.pk,
    )
    return snap, window


def load_contracted(account_id: int | None, currency: str, as_of: date) -> dict[int, t.ContractedPrice]:
    """The account's contracted prices in force on ``as_of`` (charge id → price); one query."""
    if account_id is None:
        return {}
    rows = ContractedPrice.objects.filter(account_id=account_id, currency=currency).filter(_valid_on(as_of))
    return {
        r["charge_id"]: t.ContractedPrice(r["id"], r["charge_id"], r["unit_price"], r["discount_percent"])
        for r in _rows(rows.values("id", "charge_id", "unit_price", "discount_percent"))
    }

"""Natural-key lookups for the catalog's cleaners: unit codes, SKUs, price book codes, charges.

One API write looks up the one key it names; an import preloads every key in a few queries
(:meth:`Lookups.preload`) so validating ten thousand rows costs no query per row.

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

from typing import Any

from q2c.catalog.models import Charge, PriceBook, Product, UnitOfMeasure


class Lookups:
    def __init__(self) -> None:
        self._units: dict[str, UnitOfMeasure | None] = {}
        self._products: dict[str, Product | None] = {}
        self._books: dict[str, PriceBook | None] = {}
        self._charges: dict[tuple[str, str], Charge | None] = {}
        self._preloaded = False

    def preload(self) -> Lookups:
        """Load every unit, product, price book and charge (bulk; for imports)."""
        self._units = {u.code: u for u in UnitOfMeasure.objects.all()}
        self._products = {p.sku: p for p in Product.objects.select_related("unit")}
        self._books = {b.code: b for b in PriceBook.objects.all()}
        self._charges = {(c.product.sku, c.code): c for c in Charge.objects.select_related("product")}
        self._preloaded = True
        return self

    def unit(self, code: str) -> UnitOfMeasure | None:
        if code not in self._units and not self._preloaded:
            self._units[code] = UnitOfMeasure.objects.filter(code=code).first()
        return self._units.get(code)

    def product(self, sku: str) -> Product | None:
        if sku not in self._products and not self._preloaded:
            self._products[sku] = Product.objects.select_related("unit").filter(sku=sku).first()
        return self._products.get(sku)

    def book(self, code: str) -> PriceBook | None:
        if code not in self._books and not self._preloaded:
            self._books[code] = PriceBook.objects.filter(code=code).first()
        return self._books.get(code)

    def charge(self, sku: str, code: str) -> Charge | None:
        key = (sku, code)
        if key not in self._charges and not self._preloaded:
            self._charges[key] = (
                Charge.objects.select_related("product").filter(product__sku=sku, code=code).first()
            )
        return self._charges.get(key)

    def remember(self, kind: str, key: Any, row: Any) -> None:
        """Make a row created earlier in the same import visible to later rows."""
        getattr(self, f"_{kind}")[key] = row

"""The catalog's use cases: the only code that writes catalog tables, one transaction each.

Other apps call these (never the models):

- ``price_quote(request, user) -> PricingResult`` and ``price_preview(request, user) -> dict``;
- ``get_snapshot(book, as_of)``, ``resolve_price_book(...)`` for callers pricing many times;
- ``import_file(kind, name, data, actor=...)`` / ``export_file(kind, fmt)``;
- create / update / delete for every catalog record (units, products, charges, price books,
  price entries, contracted prices, schedules, promotions, option groups, options, rules) and
  ``set_discount_limit(role, percent)``.

May import ``q2c.core``, ``q2c.platform``, ``q2c.ledger``, ``q2c.parties``, ``q2c.tax`` and the
catalog's own modules.
"""

from q2c.catalog.services.bundles import (
    check_saved_rules,
    create_option,
    create_option_group,
    create_rule,
    delete_option,
    delete_option_group,
    delete_rule,
    update_option,
    update_option_group,
    update_rule,
)
from q2c.catalog.services.common import touch
from q2c.catalog.services.io import export_file, export_rows, import_file
from q2c.catalog.services.preview import manual_discount_limit, price_preview, price_quote
from q2c.catalog.services.prices import (
    create_contracted_price,
    create_price_book,
    create_price_entry,
    create_promotion,
    create_schedule,
    delete_contracted_price,
    delete_discount_limit,
    delete_price_book,
    delete_price_entry,
    delete_promotion,
    delete_schedule,
    discount_limit_for,
    set_discount_limit,
    update_contracted_price,
    update_price_book,
    update_price_entry,
    update_promotion,
    update_schedule,
)
from q2c.catalog.services.products import (
    create_charge,
    create_product,
    create_unit,
    delete_charge,
    delete_product,
    delete_unit,
    update_charge,
    update_product,
    update_unit,
)
from q2c.catalog.services.snapshot import clear_cache, get_snapshot, load_contracted, resolve_price_book

__all__ = [
    "check_saved_rules",
    "clear_cache",
    "create_charge",
    "create_contracted_price",
    "create_option",
    "create_option_group",
    "create_price_book",
    "create_price_entry",
    "create_product",
    "create_promotion",
    "create_rule",
    "create_schedule",
    "create_unit",
    "delete_charge",
    "delete_contracted_price",
    "delete_discount_limit",
    "delete_option",
    "delete_option_group",
    "delete_price_book",
    "delete_price_entry",
    "delete_product",
    "delete_promotion",
    "delete_rule",
    "delete_schedule",
    "delete_unit",
    "discount_limit_for",
    "export_file",
    "export_rows",
    "get_snapshot",
    "import_file",
    "load_contracted",
    "manual_discount_limit",
    "price_preview",
    "price_quote",
    "resolve_price_book",
    "set_discount_limit",
    "touch",
    "update_charge",
    "update_contracted_price",
    "update_option",
    "update_option_group",
    "update_price_book",
    "update_price_entry",
    "update_product",
    "update_promotion",
    "update_rule",
    "update_schedule",
    "update_unit",
]

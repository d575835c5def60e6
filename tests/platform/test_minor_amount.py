"""``minor_amount``: the schema resolver that writes a ``<name>_minor`` column as decimal text."""

from __future__ import annotations

from types import SimpleNamespace

from ninja import Schema

from q2c.platform.schemas import minor_amount


class _TotalOut(Schema):
    total: str
    resolve_total = minor_amount("total")


def test_minor_units_are_written_with_the_currencys_decimals_and_empty_as_zero():
    # EUR has two decimals (1234 cents = 12.34), JPY none (1234 yen); an empty column reads "0".
    assert _TotalOut.from_orm(SimpleNamespace(total_minor=1234, currency="EUR")).total == "12.34"
    assert _TotalOut.from_orm(SimpleNamespace(total_minor=1234, currency="JPY")).total == "1234"
    assert _TotalOut.from_orm(SimpleNamespace(total_minor=None, currency="EUR")).total == "0"

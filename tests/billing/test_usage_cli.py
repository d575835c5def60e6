"""``q2c usage import FILE``: CSV and JSON Lines files through the ingestion service; bad records
listed by line and exit 1 (the good ones stored); an unreadable file exit 2 with nothing stored;
importing a file again stores nothing twice. Amount by hand: 350,000 calls = 500.00 (Northwind).
"""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.billing.models import UsageEvent
from tests.billing.usage_world import at_berlin, catalog, usage_contract
from tests.billing.world import at, customer, seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub():
    at(date(2027, 4, 1))
    acme = seller()
    catalog()
    return usage_contract(acme, customer(acme))


def run(path: Path) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("usage", "import", str(path), stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_jsonl_file_is_imported_and_bad_lines_are_listed(sub, tmp_path):
    path = tmp_path / "march.jsonl"
    good = {"id": "j1", "subscription_id": sub.pk, "metric": "api_calls", "quantity": "350000",
            "timestamp": at_berlin(date(2027, 3, 9))}  # fmt: skip
    path.write_text(
        json.dumps(good) + "\n{broken\n\n" + json.dumps({**good, "id": "j2", "quantity": "-1"}) + "\n",
        "utf-8",
    )
    code, out = run(path)
    assert code == 1
    assert "3 records, 1 stored, 0 already stored, 2 refused" in out
    assert "line 2: the record cannot be read [usage.malformed_event]" in out
    assert "line 4: quantity must not be negative [usage.negative_quantity]" in out
    code, out = run(path)  # again: nothing twice
    assert "0 stored, 1 already stored" in out
    assert UsageEvent.objects.count() == 1


def test_a_csv_file_with_property_columns_is_imported(sub, tmp_path):
    path = tmp_path / "march.csv"
    path.write_text(
        "id,subscription_id,metric,quantity,timestamp,prop.region\n"
        f"c1,{sub.pk},api_calls,100000,{at_berlin(date(2027, 3, 2))},eu\n"
        f"c2,{sub.pk},api_calls,250000,{at_berlin(date(2027, 3, 3))},us\n",
        "utf-8",
    )
    code, out = run(path)
    assert code == 0, out
    assert sorted(UsageEvent.objects.values_list("event_id", "quantity", "properties")) == [
        ("c1", 100000, '{"region":"eu"}'),
        ("c2", 250000, '{"region":"us"}'),
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [("bad.csv", b"\xff\xfe\x00binary"), ("events.txt", b"id\n1\n"), ("empty.csv", b"")],
)
def test_an_unreadable_file_exits_2_and_stores_nothing(sub, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as info:
        call_command("usage", "import", str(path), stdout=StringIO())
    assert info.value.returncode == 2
    assert not UsageEvent.objects.exists()

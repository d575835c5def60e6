"""The recognition API and pages: runs, reports (JSON and CSV) with figures worked out by hand,
bad input answered 422 problem+json naming the field with nothing written, roles, escaping."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from q2c.core import clock
from q2c.platform.auth import ApiToken
from q2c.revenue import services
from q2c.revenue.models import RecognitionRun

pytestmark = pytest.mark.django_db

API = "/api/v1/revenue"


def bearer(role: str) -> dict[str, str]:
    user = User.objects.create_user(f"api-{role}", password="x-long-passphrase")
    user.groups.add(Group.objects.get(name=role))
    _, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def book() -> int:
    """An entity and one contract: 3,660.00 ratable over 2020 (366 days) named with HTML, and a
    340.00 device delivered on 2020-01-20. SSPs 3,660.00 and 340.00 = the prices: no discount."""
    from q2c.parties import services as parties

    clock.install(clock.SimulationClock(date(2020, 1, 1), default_tz="Europe/Berlin"))
    entity = parties.create_entity(
        actor="test", name="Acme Cloud GmbH", address_line1="Friedrichstraße 100", postal_code="10117",
        city="Berlin", country="DE", base_currency="EUR", time_zone="Europe/Berlin", tax_id="DE136457858",
        payment_terms_days=30,
    )  # fmt: skip
    services.identify(
        {"contract_id": 501, "number": "CON-<b>501</b>", "entity_id": entity.pk, "account_id": 1, "currency": "EUR",
         "start_date": "2020-01-01", "end_date": "2021-01-01", "lines": [
             {"key": "1", "sku": "SEAT", "charge_kind": "recurring", "quantity": "1", "value": "3660.00",
              "net_unit_price": "305", "ssp_unit": "305", "service_start": "2020-01-01", "service_end": "2021-01-01",
              "revenue_category": "subscriptions"},
             {"key": "2", "sku": "EDGE", "charge_kind": "one_time", "quantity": "1", "value": "340.00",
              "net_unit_price": "340", "ssp_unit": "340", "service_start": "2020-01-01", "service_end": "2020-01-01",
              "revenue_category": "hardware"},
         ]},
    )  # fmt: skip
    services.satisfy(501, "2", date(2020, 1, 20))
    clock.current().set(date(2020, 2, 29))  # type: ignore[attr-defined]
    return int(entity.pk)


def test_finance_runs_a_month_and_reads_the_waterfall_and_the_positions(client, book):
    finance = bearer("finance")
    run = client.post(f"{API}/runs", {"entity_id": book, "period": "2020-01"}, content_type="application/json",
                      **finance)  # fmt: skip
    assert run.status_code == 200, run.content
    # 3,660 × 31 ÷ 366 = 310.00 (exactly) and the device 340.00.
    assert run.json()["recognised"] == "650.00"
    viewer = bearer("viewer")
    report = client.get(f"{API}/reports/waterfall", {"entity_id": book, "start": "2020-01", "months": 3,
                                                     "by": "category"}, **viewer)  # fmt: skip
    assert report.status_code == 200, report.content
    rows = {r[0]: r[1:] for r in report.json()["rows"]}
    assert rows["(months)"] == ["recognised", "scheduled", "scheduled", ""]
    # February scheduled: 3,660 × 60 ÷ 366 = 600.00 cumulative → 290.00; March 91 days → 910.00 − 600.00.
    assert rows["subscriptions"] == ["310.00", "290.00", "310.00", "910.00"]
    assert rows["hardware"] == ["340.00", "0.00", "0.00", "340.00"]
    positions = client.get(
        f"{API}/reports/positions", {"entity_id": book, "start": "2020-01"}, **viewer
    ).json()
    # Nothing billed: the whole 650.00 is a contract asset.
    assert positions["rows"] == [["CON-<b>501</b>", "0.00", "650.00", "-650.00", "0.00", "650.00"]]
    csv = client.get(f"{API}/reports/rpo", {"entity_id": book, "start": "2020-01", "format": "csv"}, **viewer)
    assert csv["Content-Type"].startswith("text/csv")
    # Remaining after January: 3,660 − 310 = 3,350.00, all within 12 months.
    assert csv.content.decode().splitlines()[1] == "CON-<b>501</b>,3350.00,3350.00,0.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entity_id": 1, "period": "2020-13"}, "period"),
        ({"entity_id": 1, "period": "<script>"}, "period"),
        ({"period": "2020-01"}, "entity_id"),
    ],
)
def test_a_run_with_bad_input_is_refused_naming_the_field_and_writes_nothing(client, book, body, field):
    response = client.post(f"{API}/runs", body, content_type="application/json", **bearer("finance"))
    assert response.status_code == 422
    assert field in response.content.decode()
    assert RecognitionRun.objects.count() == 0


def test_progress_above_100_is_a_422_naming_the_field(client, book):
    response = client.post(
        f"{API}/contracts/501/progress", {"obligation": "1", "month": "2020-01", "percent_complete": "150"},
        content_type="application/json", **bearer("finance"),
    )  # fmt: skip
    assert response.status_code == 422
    problem: dict[str, Any] = response.json()
    assert problem["code"] == "revenue.progress_above_100"
    assert problem["errors"][0]["field"] == "percent_complete"


def test_a_viewer_cannot_run_and_nobody_but_an_admin_reopens(client, book):
    assert client.post(f"{API}/runs", {"entity_id": book, "period": "2020-01"}, content_type="application/json",
                       **bearer("viewer")).status_code == 403  # fmt: skip
    assert client.post(f"{API}/periods/reopen", {"entity_id": book, "period": "2020-01"},
                       content_type="application/json", **bearer("finance")).status_code == 403  # fmt: skip


def test_the_contract_page_escapes_what_it_shows(client, book):
    user = User.objects.create_user("page-finance", password="x-long-passphrase")
    user.groups.add(Group.objects.get(name="finance"))
    client.force_login(user)
    page = client.get("/revenue/contracts/501/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "CON-&lt;b&gt;501&lt;/b&gt;" in html and "<b>501</b>" not in html
    assert client.get("/revenue/reports/nonsense/", {"entity": book}).status_code == 404
    assert client.get("/revenue/", {"entity": book}).status_code == 200

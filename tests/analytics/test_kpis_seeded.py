"""``q2c kpis`` and ``GET /api/v1/analytics/kpis`` over the small company of ``world.py``, seeded
through the real services; every expected value is worked out by hand below from the tables in
world.py (Q1 2027: 2027-01-01 … 2027-03-31, 90 days, in EUR).

Receivables: opening AR (close of 2026-12-31) = I5 238.00. Net credit sales = 1,190.00 +
2,380.00 + 900.00 + 595.00 − 119.00 = 4,946.00. Closing AR (2027-03-31) = I2 1,380.00 + I3 900.00
+ I4 476.00 = 2,756.00; current (not past due) = I3 (due 03-31) + I4 = 1,376.00; 1–30 = I2 (28 days).
DSO = 2,756 ÷ 4,946 × 90 = 50.1496… → 50.15. Count-back: March sales 900 + 595 − 119 = 1,376 ≤
2,756 → 31 days, 1,380 left; February sales 2,380 > 1,380 → 1,380 ÷ 2,380 × 28 = 16.2353; 47.2353
→ 47.24. CEI = (238 + 4,946 − 2,756) ÷ (238 + 4,946 − 1,376) = 2,428 ÷ 3,808 = 0.63760… Collection
rate = (1,190 + 1,000) ÷ (238 + 4,946) = 2,190 ÷ 5,184 = 0.42245… Bad debt = 238 ÷ 4,946 = 0.04812…
Billing accuracy: 4 invoices in the range, 1 credit note → 0.25 per invoice, 3 of 4 clean.
Disputes: I3 contested on 2027-03-25, still open: 1 opened (USD 1,000 at 0.90 = 900.00), 1 open at
the close, 1 per 4 invoices issued.

Sales: pipeline = O3's quote TCV 24,300.00, weighted at 50 % = 12,150.00; bookings = O1 24,300.00;
win rate 1 won ÷ 2 closed; discount (27,000 − 24,300) ÷ 27,000 = 0.10; Q1 created 01-10 → sent
01-12 (2 days) → accepted 01-20 (8 days); O1 created 01-10, won 01-20: 10 days.

MRR: 50 SEAT × 25.50 = 1,275.00 from February (new), ARR 15,300.00; nobody had MRR in December, so
NRR, GRR and logo churn have no cohort (null).

Revenue (from the ledger until the revenue app keeps schedules): the consulting invoices post
straight to revenue: 1,000 + 2,000 + 900 (USD 1,000 at 0.90) + 500 − 100 (credit note) = 4,300.00;
no contract was billed, so nothing is deferred.
"""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from q2c.platform.auth import ApiToken
from tests.analytics import world

pytestmark = pytest.mark.django_db

EXPECTED_Q1: dict[str, Any] = {
    "from": "2027-01-01",
    "to": "2027-03-31",
    "currency": "EUR",
    "entity": None,
    "pipeline": "24300.00",
    "weighted_pipeline": "12150.00",
    "bookings": "24300.00",
    "win_rate": "0.5000",
    "avg_discount": "0.1000",
    "quote_turnaround_days": {
        "created_to_sent": {"count": 1, "mean": "2.00", "median": "2.00"},
        "sent_to_accepted": {"count": 1, "mean": "8.00", "median": "8.00"},
    },
    "sales_cycle_days": {"count": 1, "mean": "10.00", "median": "10.00"},
    "billings": "4946.00",
    "mrr": "1275.00",
    "arr": "15300.00",
    "mrr_movements": {
        "opening": "0.00", "new": "1275.00", "expansion": "0.00", "contraction": "0.00",
        "churn": "0.00", "reactivation": "0.00", "closing": "1275.00",
    },
    "nrr": None,
    "grr": None,
    "logo_churn": None,
    "dso": "50.15",
    "dso_countback": "47.24",
    "cei": "0.6376",
    "ar_aging": {"current": "1376.00", "1-30": "1380.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"},
    "collection_rate": "0.4225",
    "bad_debt_rate": "0.0481",
    "disputes": {"opened": 1, "opened_amount": "900.00", "open_at_end": 1, "rate": "0.2500"},
    "recognized_revenue": "4300.00",
    "deferred_revenue": "0.00",
    "billing_accuracy": {"invoices": 4, "credit_notes": 1, "credit_notes_per_invoice": "0.2500", "accuracy": "0.7500"},
}  # fmt: skip

ISSUE_KEYS = {
    "pipeline", "weighted_pipeline", "bookings", "win_rate", "avg_discount", "quote_turnaround_days",
    "sales_cycle_days", "billings", "mrr", "arr", "nrr", "grr", "logo_churn", "dso", "cei", "ar_aging",
    "collection_rate", "bad_debt_rate", "recognized_revenue", "deferred_revenue", "billing_accuracy",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def company() -> dict[str, Any]:
    return world.build()


@pytest.fixture
def seller() -> Any:
    """Just the seller (the bad-input tests need no documents)."""
    from tests.billing.world import at
    from tests.billing.world import seller as make_seller

    at(world.date(2027, 4, 2))
    return make_seller()


def kpis(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("kpis", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def without_sources(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "sources"}


def test_the_command_prints_every_kpi_of_the_seeded_quarter(company):
    data = kpis("--from", "2027-01-01", "--to", "2027-03-31")
    assert set(data) >= ISSUE_KEYS
    assert without_sources(data) == EXPECTED_Q1
    # Where each number came from.
    assert data["sources"]["disputes"] == "payments disputes"
    assert data["sources"]["payments"] == "payments applications + invoicing payment events"


def test_one_entity_gives_the_same_report_with_its_id(company):
    data = kpis("--from", "2027-01-01", "--to", "2027-03-31", "--entity", str(company["entity"].pk))
    assert without_sources(data) == {**EXPECTED_Q1, "entity": company["entity"].pk}


def test_reporting_in_dollars_converts_at_the_stored_rates(company):
    # Billings: EUR documents at 1.25 (1,190 + 2,380 + 595 − 119 = 4,046 → 5,057.50) plus
    # I3's USD 1,000.00 as it is = 6,057.50. Aging "current": I4 476 × 1.25 = 595.00 + I3 1,000.00.
    data = kpis("--from", "2027-01-01", "--to", "2027-03-31", "--currency", "usd")
    assert (data["currency"], data["billings"]) == ("USD", "6057.50")
    assert data["ar_aging"]["current"] == "1595.00"
    assert data["ar_aging"]["1-30"] == "1725.00"  # 1,380 × 1.25
    assert data["mrr"] == "1593.75"  # 1,275 × 1.25
    # Ratios do not move with the currency when every document converts at one rate.
    assert data["billing_accuracy"] == EXPECTED_Q1["billing_accuracy"]


def test_the_default_range_is_the_last_twelve_months_to_today(company):
    data = kpis()  # the clock stands at 2027-04-02
    assert (data["from"], data["to"]) == ("2026-04-03", "2027-04-02")
    # I5 (December) is now inside the range: sales 4,946 + 238 = 5,184.00.
    assert data["billings"] == "5184.00"


def test_a_range_after_the_quarter_sees_nothing_new_but_the_open_balances(company):
    data = kpis("--from", "2027-04-01", "--to", "2027-04-01")
    assert (data["billings"], data["bookings"], data["dso"]) == ("0.00", "0.00", None)
    # 2027-04-01: I2 29 days past due (1–30), I3 1 day (1–30), I4 current.
    assert data["ar_aging"]["1-30"] == "2280.00"
    assert data["ar_aging"]["current"] == "476.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2027-13-01"], "--from"),
        (["--to", "yesterday"], "--to: 'yesterday' is not a date"),
        (
            ["--from", "2027-03-01", "--to", "2027-02-01"],
            "--to: the range ends (2027-02-01) before it starts",
        ),
        (["--from", "1900-01-01", "--to", "2027-01-01"], "at most 10 years"),
        (["--entity", "999999"], "no legal entity 999999"),
        (["--entity", "<script>"], "is not an entity id"),
        (["--currency", "XYZ"], "'XYZ' is not an ISO 4217 currency code"),
        (["--currency", "GBP"], "--currency: no exchange rate into GBP"),
    ],
)
def test_bad_input_is_a_message_and_a_non_zero_exit(seller, args, message):
    with pytest.raises(CommandError) as err:
        call_command("kpis", *args, "--json", stdout=StringIO())
    assert err.value.returncode == 2
    assert message in str(err.value)


def api_client(role: str) -> Client:
    from tests.billing.world import user

    _, raw = ApiToken.issue(user(role, f"kpi_{role}"), "kpis")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_the_api_answers_the_same_object_as_the_command(company):
    answer = api_client("finance").get("/api/v1/analytics/kpis", {"from": "2027-01-01", "to": "2027-03-31"})
    assert answer.status_code == 200
    assert without_sources(answer.json()) == EXPECTED_Q1


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"from": "2027-02-30"}, "from", "date.invalid"),
        ({"from": "2027-03-01", "to": "2027-01-01"}, "to", "analytics.range_reversed"),
        ({"entity": "abc"}, "entity", "analytics.unknown_entity"),
        ({"currency": "EURO"}, "currency", "analytics.unknown_currency"),
        ({"currency": "JPY"}, "currency", "analytics.no_rate"),
        ({"to": "0001-01-01"}, "to", "analytics.date_out_of_range"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "to", "analytics.date_out_of_range"),
        ({"from": "1800-01-01"}, "from", "analytics.date_out_of_range"),
        ({"from": "2000-01-01", "to": "2027-01-01"}, "from", "analytics.range_too_long"),
        ({"entity": "1" * 40}, "entity", "analytics.unknown_entity"),
    ],
)
def test_bad_api_input_is_a_422_naming_the_field(seller, query, field, code):
    answer = api_client("viewer").get("/api/v1/analytics/kpis", query)
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert (error["code"], error["field"]) == (code, field)


def test_sales_reps_may_not_read_the_kpi_report(seller):
    assert api_client("sales_rep").get("/api/v1/analytics/kpis").status_code == 403

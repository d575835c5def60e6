"""Bad input to the revenue preview: each gives a clear error naming the field (and nothing else)."""

from __future__ import annotations

import copy
import json

import pytest

from q2c.revenue.engine import RevenueInputError
from q2c.revenue.engine.preview import preview, schema

from .helpers import load_contract, run

BASE = {
    "currency": "EUR",
    "start": "2027-01-01",
    "transaction_price": {"fixed": "1000.00"},
    "obligations": [
        {"id": "A", "ssp": "600.00", "pattern": "ratable", "start": "2027-01-01", "end": "2028-01-01"},
        {"id": "B", "ssp": "400.00", "pattern": "point_in_time", "delivered_on": "2027-03-10"},
    ],
}


def fails(document, code: str, field: str) -> RevenueInputError:
    with pytest.raises(RevenueInputError) as exc:
        run(document)
    assert (exc.value.code, exc.value.field) == (code, field), exc.value.message
    return exc.value


def changed(path: str, value) -> dict:
    """BASE with one value replaced (``path`` like ``obligations.1.ssp``; ``None`` deletes)."""
    doc = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    key = int(last) if last.isdigit() else last
    if value is None:
        del node[key]
    else:
        node[key] = value
    return doc


def test_the_base_contract_is_fine():
    out = run(BASE)
    assert out["totals"]["allocated"] == "1000.00"


def test_a_zero_ssp_is_refused_when_obligations_share_consideration():
    fails(changed("obligations.1.ssp", "0"), "revenue.ssp_zero", "obligations[1].ssp")


def test_a_missing_ssp_is_refused_when_obligations_share_consideration():
    fails(changed("obligations.1.ssp", None), "revenue.ssp_missing", "obligations[1].ssp")


def test_a_service_period_ending_before_it_starts_is_refused():
    err = fails(changed("obligations.0.end", "2026-12-01"), "revenue.period_reversed", "obligations[0].end")
    assert "before it starts" in err.message


def test_a_service_period_ending_the_day_it_starts_is_refused():
    fails(changed("obligations.0.end", "2027-01-01"), "revenue.period_reversed", "obligations[0].end")


def test_progress_above_100_percent_is_refused():
    doc = changed(
        "obligations.1",
        {
            "id": "B",
            "ssp": "400.00",
            "pattern": "progress",
            "progress": [
                {"month": "2027-02", "percent_complete": "40"},
                {"month": "2027-03", "percent_complete": "100.5"},
            ],
        },
    )
    fails(doc, "revenue.progress_above_100", "obligations[1].progress[1].percent_complete")


def test_hours_incurred_beyond_the_estimate_are_progress_above_100_percent():
    doc = changed(
        "obligations.1",
        {
            "id": "B",
            "ssp": "400.00",
            "pattern": "progress",
            "progress": [
                {"month": "2027-02", "incurred": "60", "estimated_total": "100"},
                {"month": "2027-03", "incurred": "50", "estimated_total": "100"},
            ],
        },
    )
    fails(doc, "revenue.progress_above_100", "obligations[1].progress[1].incurred")


def test_a_modification_dated_before_the_contract_is_refused():
    doc = changed(
        "modifications", [{"date": "2026-12-31", "price_change": "10.00", "change": [{"obligation": "A"}]}]
    )
    fails(doc, "revenue.modification_before_contract", "modifications[0].date")


def test_malformed_json_is_refused_with_line_and_column():
    with pytest.raises(RevenueInputError) as exc:
        preview('{"currency": "EUR",\n  "start": }')
    assert exc.value.code == "revenue.malformed_json"
    assert "line 2" in exc.value.message


def test_a_json_number_with_a_fraction_is_refused_by_name():
    text = json.dumps(BASE).replace('"1000.00"', "1000.50")
    with pytest.raises(RevenueInputError) as exc:
        preview(text)
    assert (exc.value.code, exc.value.field) == ("revenue.float_not_allowed", "transaction_price.fixed")
    assert '"1000.50"' in exc.value.message


def test_an_integer_where_an_amount_string_is_expected_is_refused():
    fails(changed("transaction_price.fixed", 1000), "revenue.number_not_string", "transaction_price.fixed")


@pytest.mark.parametrize(
    ("path", "value", "code", "field"),
    [
        ("start", "2027-02-30", "revenue.invalid_date", "start"),
        ("start", "01.02.2027", "revenue.invalid_date", "start"),
        ("currency", "eur", "revenue.invalid_currency", "currency"),
        ("currency", "XYZ", "money.invalid_currency", "currency"),
        ("transaction_price.fixed", "12,50", "revenue.invalid_decimal", "transaction_price.fixed"),
        ("transaction_price.fixed", "1000.001", "revenue.too_many_decimals", "transaction_price.fixed"),
        ("obligations.0.pattern", "weekly", "revenue.invalid_choice", "obligations[0].pattern"),
        ("obligations.0.start", None, "revenue.required", "obligations[0].start"),
        ("obligations.0.colour", "blue", "revenue.unknown_field", "obligations[0].colour"),
        ("obligations.1.start", "2027-01-01", "revenue.field_not_for_pattern", "obligations[1].start"),
        ("obligations.1.id", "A", "revenue.duplicate_obligation", "obligations[1].id"),
        ("obligations", [], "revenue.invalid", "obligations"),
    ],
)
def test_bad_values_name_their_field(path, value, code, field):
    fails(changed(path, value), code, field)


def test_scenario_probabilities_must_add_up_to_one():
    doc = changed(
        "transaction_price.variable",
        [
            {
                "id": "bonus",
                "method": "expected_value",
                "scenarios": [
                    {"amount": "100.00", "probability": "0.5"},
                    {"amount": "0", "probability": "0.4"},
                ],
            }
        ],
    )
    fails(doc, "revenue.probabilities_not_1", "transaction_price.variable[0].scenarios")


def test_a_forced_treatment_needs_a_note():
    doc = changed(
        "modifications",
        [
            {
                "date": "2027-06-01",
                "price_change": "10.00",
                "change": [{"obligation": "A"}],
                "treatment": "cumulative_catch_up",
            }
        ],
    )
    fails(doc, "revenue.override_note", "modifications[0].note")


def test_a_modification_of_an_unknown_obligation_is_refused():
    doc = changed(
        "modifications", [{"date": "2027-06-01", "price_change": "10.00", "change": [{"obligation": "Z"}]}]
    )
    fails(doc, "revenue.unknown_obligation", "modifications[0].change[0].obligation")


def test_a_discount_allocated_to_an_unknown_obligation_is_refused():
    doc = changed("discount_allocation", [{"obligations": ["Z"]}])
    fails(doc, "revenue.unknown_obligation", "discount_allocation[0].obligations")


def test_two_residual_obligations_are_refused():
    doc = changed("obligations.0.ssp", {"residual": True})
    doc["obligations"][1]["ssp"] = {"residual": True}
    fails(doc, "revenue.residual_twice", "obligations[1].ssp")


def test_payments_that_do_not_add_up_to_the_price_are_refused():
    doc = changed(
        "transaction_price.financing",
        {
            "rate": "0.05",
            "transfer_on": "2027-01-01",
            "payments": [{"date": "2029-01-01", "amount": "900.00"}],
        },
    )
    fails(doc, "revenue.payments_mismatch", "transaction_price.financing.payments")


def test_every_problem_is_listed_in_details():
    doc = changed("obligations.0.colour", "blue")
    doc["obligations"][1]["ssp"] = "4OO"
    with pytest.raises(RevenueInputError) as exc:
        run(doc)
    fields = {d["field"] for d in exc.value.details}
    assert {"obligations[0].colour", "obligations[1].ssp"} <= fields


def test_the_published_schema_accepts_the_worked_examples():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    Draft202012Validator(schema()).validate(load_contract("northwind.json"))

"""The engine's rules one at a time, with figures worked out by hand in each test."""

from __future__ import annotations

import pytest

from q2c.revenue.engine import RevenueInputError

from .helpers import allocation, by_month, load_contract, obligation, run


def contract(obligations, fixed="1000.00", **extra):
    return {
        "currency": "EUR",
        "start": "2027-01-01",
        "transaction_price": {"fixed": fixed, **extra.pop("price", {})},
        "obligations": obligations,
        **extra,
    }


def test_ssp_ranges_use_the_observed_price_inside_else_the_nearest_bound_and_list_percentages_apply():
    # A: 150 inside [100, 200] → 150; B: 250 below [300, 400] → 300; C: 500 above [200, 450] → 450;
    # D: 30 % of 1,000 → 300. SSPs add up to the price (1,200), so each gets exactly its SSP.
    out = run(
        contract(
            [
                {
                    "id": "A",
                    "ssp": {"low": "100", "high": "200", "observed": "150"},
                    "pattern": "point_in_time",
                },
                {
                    "id": "B",
                    "ssp": {"low": "300", "high": "400", "observed": "250"},
                    "pattern": "point_in_time",
                },
                {
                    "id": "C",
                    "ssp": {"low": "200", "high": "450", "observed": "500"},
                    "pattern": "point_in_time",
                },
                {
                    "id": "D",
                    "ssp": {"list_price": "1000", "percent_of_list": "30"},
                    "pattern": "point_in_time",
                },
            ],
            fixed="1200.00",
        )
    )
    assert allocation(out) == {"A": "150.00", "B": "300.00", "C": "450.00", "D": "300.00"}
    assert "lower bound" in obligation(out, "B")["ssp_basis"]
    assert "upper bound" in obligation(out, "C")["ssp_basis"]


def test_the_constraint_keeps_only_the_amount_reached_with_the_threshold_probability():
    # Expected value 100 × 0.6 + 200 × 0.3 + 300 × 0.1 = 150; 100 is reached with probability 1,
    # 200 only with 0.4 < 0.75 → 100 included.
    out = run(
        contract(
            [{"id": "A", "pattern": "point_in_time", "delivered_on": "2027-02-01"}],
            fixed="1000.00",
            price={
                "variable": [
                    {
                        "id": "bonus",
                        "method": "expected_value",
                        "scenarios": [
                            {"amount": "100", "probability": "0.6"},
                            {"amount": "200", "probability": "0.3"},
                            {"amount": "300", "probability": "0.1"},
                        ],
                        "constraint": {"threshold": "0.75"},
                    }
                ]
            },
        )
    )
    est = out["variable_consideration"][0]["estimates"][0]
    assert (est["estimate"], est["constraint_cap"], est["included"]) == ("150.0", "100", "100.00")
    assert obligation(out, "A")["allocated"] == "1100.00"


def test_the_most_likely_amount_is_the_scenario_with_the_highest_probability_and_a_tie_is_refused():
    def doc(p1, p2):
        return contract(
            [{"id": "A", "pattern": "point_in_time"}],
            price={
                "variable": [
                    {
                        "id": "bonus",
                        "method": "most_likely",
                        "scenarios": [
                            {"amount": "50", "probability": p1},
                            {"amount": "0", "probability": p2},
                        ],
                    }
                ]
            },
        )

    assert run(doc("0.7", "0.3"))["contracts"][0]["transaction_price"]["variable"] == "50.00"
    with pytest.raises(RevenueInputError) as exc:
        run(doc("0.5", "0.5"))
    assert exc.value.code == "revenue.most_likely_ambiguous"


def test_milestones_recognise_their_share_when_reached_and_leave_the_rest_remaining():
    out = run(
        contract(
            [
                {
                    "id": "M",
                    "pattern": "milestones",
                    "milestones": [
                        {"id": "design", "percent": "30", "achieved_on": "2027-02-10"},
                        {"id": "build", "percent": "50", "achieved_on": "2027-05-20"},
                        {"id": "handover", "percent": "20"},
                    ],
                }
            ]
        )
    )
    assert by_month(out, "M") == {"2027-02": "300.00", "2027-05": "500.00"}
    assert obligation(out, "M")["remaining"] == "200.00"


def test_milestone_percentages_must_add_up_to_100():
    with pytest.raises(RevenueInputError) as exc:
        run(
            contract(
                [
                    {
                        "id": "M",
                        "pattern": "milestones",
                        "milestones": [{"id": "a", "percent": "60"}, {"id": "b", "percent": "50"}],
                    }
                ]
            )
        )
    assert (exc.value.code, exc.value.field) == ("revenue.progress_above_100", "obligations[0].milestones")


def test_progress_by_hours_incurred_against_a_changing_estimate_catches_up_cumulatively():
    # 10 of 40 hours → 25 % → 300.00; 20 of 50 → 40 % → 480.00 (+180.00); 50 of 50 → 1,200.00 (+720.00).
    out = run(
        contract(
            [
                {
                    "id": "P",
                    "pattern": "progress",
                    "progress": [
                        {"month": "2027-01", "incurred": "10", "estimated_total": "40"},
                        {"month": "2027-02", "incurred": "10", "estimated_total": "50"},
                        {"month": "2027-03", "incurred": "30", "estimated_total": "50"},
                    ],
                }
            ],
            fixed="1200.00",
        )
    )
    assert by_month(out, "P") == {"2027-01": "300.00", "2027-02": "180.00", "2027-03": "720.00"}


def test_usage_can_be_recognised_as_billed_instead_of_as_used():
    doc = load_contract("northwind.json")
    doc["obligations"][3]["recognise"] = "as_billed"
    out = run(doc)
    assert by_month(out, "API") == {"2027-04": "500.00", "2027-05": "640.00"}


def test_half_even_rounding_is_a_contract_setting():
    # 0.05 over two days: after one day 2.5 cents → 0.03 half-up, 0.02 half-even.
    def doc(rounding):
        d = contract(
            [{"id": "R", "pattern": "ratable", "start": "2027-01-31", "end": "2027-02-02"}], fixed="0.05"
        )
        d["rounding"] = rounding
        return d

    assert by_month(run(doc("half_up")), "R") == {"2027-01": "0.03", "2027-02": "0.02"}
    assert by_month(run(doc("half_even")), "R") == {"2027-01": "0.02", "2027-02": "0.03"}


def test_a_forced_treatment_is_applied_and_recorded_with_its_note_and_what_the_rules_said():
    doc = load_contract("northwind.json")
    doc["modifications"][0]["treatment"] = "cumulative_catch_up"
    doc["modifications"][0]["note"] = "Finance: seats sold as part of the original deal"
    out = run(doc)
    decision = out["modifications"][0]
    assert decision["treatment"] == "cumulative_catch_up"
    assert decision["decided_by"] == "override"
    assert decision["note"] == "Finance: seats sold as part of the original deal"
    assert "separate_contract" in decision["reason"]
    assert obligation(out, "SEAT-ADD")["contract"] == "C-1"
    assert obligation(out, "SEAT-ADD")["allocated"] == "2689.84"


def test_removing_an_obligation_keeps_what_it_recognised_and_gives_the_rest_to_what_remains():
    # A and B: 1,200.00 each over 2027. On 2027-07-01 B is cancelled for a 600.00 reduction. Through
    # June each recognised 1,200 × 181 ÷ 365 = 595.07; the remaining consideration
    # 604.93 + 604.93 − 600.00 = 609.86 goes to A's remaining 184 days (prospective).
    out = run(
        contract(
            [
                {
                    "id": "A",
                    "ssp": "1200.00",
                    "pattern": "ratable",
                    "start": "2027-01-01",
                    "end": "2028-01-01",
                },
                {
                    "id": "B",
                    "ssp": "1200.00",
                    "pattern": "ratable",
                    "start": "2027-01-01",
                    "end": "2028-01-01",
                },
            ],
            fixed="2400.00",
            modifications=[{"date": "2027-07-01", "price_change": "-600.00", "remove": ["B"]}],
        )
    )
    assert out["modifications"][0]["treatment"] == "terminate_and_create"
    assert out["modifications"][0]["consideration"] == "609.86"
    assert obligation(out, "B")["allocated"] == "595.07"
    assert obligation(out, "B")["recognised"] == "595.07"
    assert obligation(out, "A")["allocated"] == "1204.93"
    assert obligation(out, "A")["recognised"] == "1204.93"


def test_extending_a_non_distinct_service_catches_up_on_the_modification_date():
    # 3,650.00 over 2027 (10.00 a day); on 2027-07-01 the term runs to 2028-07-01 (547 days) for
    # 1,000.00 more, the remaining part not distinct → 4,650.00 over 547 days from 2027-01-01:
    # end of July 4,650 × 212 ÷ 547 = 1,802.19, against 1,810.00 by June → July −7.81.
    out = run(
        contract(
            [{"id": "S", "pattern": "ratable", "start": "2027-01-01", "end": "2028-01-01"}],
            fixed="3650.00",
            modifications=[
                {
                    "date": "2027-07-01",
                    "price_change": "1000.00",
                    "change": [{"obligation": "S", "end": "2028-07-01", "remaining_distinct": False}],
                }
            ],
        )
    )
    assert out["modifications"][0]["treatment"] == "cumulative_catch_up"
    months = by_month(out, "S")
    assert months["2027-06"] == "300.00"
    assert months["2027-07"] == "-7.81"
    assert obligation(out, "S")["recognised"] == "4650.00"


def test_a_re_estimate_dated_before_the_contract_is_refused():
    doc = contract(
        [{"id": "A", "pattern": "point_in_time"}],
        price={
            "variable": [
                {
                    "id": "v",
                    "method": "most_likely",
                    "amount": "10",
                    "reestimates": [{"as_of": "2026-12-31", "method": "most_likely", "amount": "5"}],
                }
            ]
        },
    )
    with pytest.raises(RevenueInputError) as exc:
        run(doc)
    assert (exc.value.code, exc.value.field) == (
        "revenue.estimate_before_contract",
        "transaction_price.variable[0].reestimates[0].as_of",
    )


def test_an_obligation_not_yet_delivered_stays_remaining():
    out = run(
        contract(
            [
                {"id": "A", "ssp": "500", "pattern": "point_in_time", "delivered_on": "2027-03-01"},
                {"id": "B", "ssp": "500", "pattern": "point_in_time"},
            ]
        )
    )
    assert obligation(out, "B")["recognised"] == "0.00"
    assert obligation(out, "B")["remaining"] == "500.00"
    assert out["totals"] == {"allocated": "1000.00", "recognised": "500.00", "remaining": "500.00"}


def test_goods_delivered_in_parts_are_recognised_unit_by_unit():
    # Ten appliances for 20,000.00 (one obligation, so all of it is allocated to it), delivered
    # 3 by 2027-02-10, 7 in all by 2027-03-05 and the last 3 on 2027-04-20: each unit's control
    # passes on its own delivery — 3/10, 7/10, 10/10 of 20,000.00 cumulative, by hand:
    # February 6,000.00; March 14,000.00 − 6,000.00 = 8,000.00; April 6,000.00.
    out = run(
        contract(
            [
                {
                    "id": "EDGE",
                    "pattern": "point_in_time",
                    "units": "10",
                    "deliveries": [
                        {"on": "2027-02-10", "delivered": "3"},
                        {"on": "2027-03-05", "delivered": "7"},
                        {"on": "2027-04-20", "delivered": "10"},
                    ],
                }
            ],
            fixed="20000.00",
        )
    )
    assert by_month(out, "EDGE") == {"2027-02": "6000.00", "2027-03": "8000.00", "2027-04": "6000.00"}
    assert obligation(out, "EDGE")["remaining"] == "0.00"


def test_parts_are_rounded_cumulatively_and_the_delivery_date_completes_the_line():
    # 1,000.00 for three units, one a month: cumulative round(1,000 × 1/3) = 333.33,
    # round(1,000 × 2/3) = 666.67 (so February gets 333.34), and delivered_on in March recognises
    # the rest (333.33) — the parts always add up to the whole. Nothing for what is not delivered.
    out = run(
        contract(
            [
                {
                    "id": "G",
                    "pattern": "point_in_time",
                    "units": "3",
                    "deliveries": [
                        {"on": "2027-01-15", "delivered": "1"},
                        {"on": "2027-02-15", "delivered": "2"},
                    ],
                    "delivered_on": "2027-03-15",
                }
            ]
        )
    )
    assert by_month(out, "G") == {"2027-01": "333.33", "2027-02": "333.34", "2027-03": "333.33"}
    partial = run(
        contract(
            [
                {"id": "G", "pattern": "point_in_time", "units": "4",
                 "deliveries": [{"on": "2027-01-15", "delivered": "1"}]},
            ]
        )
    )  # fmt: skip
    assert obligation(partial, "G")["recognised"] == "250.00"
    assert obligation(partial, "G")["remaining"] == "750.00"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"deliveries": [{"on": "2027-01-15", "delivered": "1"}]}, "revenue.deliveries_without_units"),
        (
            {"units": "3", "deliveries": [{"on": "2027-01-15", "delivered": "4"}]},
            "revenue.delivered_out_of_range",
        ),
        (
            {"units": "3", "deliveries": [{"on": "2027-01-15", "delivered": "0"}]},
            "revenue.delivered_out_of_range",
        ),
        (
            {
                "units": "3",
                "deliveries": [
                    {"on": "2027-02-15", "delivered": "2"},
                    {"on": "2027-01-15", "delivered": "1"},
                ],
            },
            "revenue.deliveries_order",
        ),
        (
            {
                "units": "3",
                "deliveries": [
                    {"on": "2027-01-15", "delivered": "2"},
                    {"on": "2027-02-15", "delivered": "1"},
                ],
            },
            "revenue.deliveries_order",
        ),
    ],
)
def test_deliveries_that_cannot_be_are_refused_naming_the_field(extra, code):
    with pytest.raises(RevenueInputError) as exc:
        run(contract([{"id": "G", "pattern": "point_in_time", **extra}]))
    assert exc.value.code == code

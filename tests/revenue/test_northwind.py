"""The Northwind story (shared/scenarios/northwind.md): allocation of C-1 and the revenue schedules of
C-1 and C-1A, to the cent, through the preview format and through the engine's dataclasses."""

from __future__ import annotations

from datetime import date

from q2c.core.money import Money
from q2c.revenue.engine import (
    SSP,
    ContractSpec,
    Modification,
    Obligation,
    PointInTime,
    Ratable,
    Usage,
    UsageAmount,
    compute,
)

from .helpers import allocation, by_month, load_contract, month_total, monthly, obligation, run

# Hand-worked figures from shared/scenarios/northwind.md.
SEAT_C1 = [
    "1290.54", "1428.81", "1382.72", "1428.81", "1382.71", "1428.81",
    "1428.81", "1382.72", "1428.81", "1382.72", "1428.81", "1428.81",
]  # fmt: skip
SEAT_C1A = [
    "141.57", "249.83", "258.16", "249.83", "258.16", "258.16",
    "249.83", "258.15", "249.83", "258.16", "258.16",
]  # fmt: skip


def test_c1_allocates_24300_by_relative_ssp_with_the_cent_to_the_largest_remainder():
    out = run(load_contract("northwind.json"))
    assert allocation(out, "C-1") == {
        "SEAT": "16823.08",
        "ONB": "3738.46",
        "EDGE": "3738.46",
        "API": "1140.00",
    }
    assert out["contracts"][0]["transaction_price"]["total"] == "24300.00"


def test_seat_c1_is_recognised_by_the_cumulative_day_method_over_feb_2027_to_jan_2028():
    out = run(load_contract("northwind.json"))
    assert monthly(out, "SEAT") == SEAT_C1
    seat = obligation(out, "SEAT")
    assert seat["schedule"][0]["month"] == "2027-02"
    assert seat["schedule"][-1]["month"] == "2028-01"
    assert [line["cumulative"] for line in seat["schedule"][:3]] == ["1290.54", "2719.35", "4102.07"]
    assert seat["recognised"] == "16823.08"


def test_the_add_on_seats_are_a_separate_contract_c1a_recognised_over_323_days():
    out = run(load_contract("northwind.json"))
    decision = out["modifications"][0]
    assert decision["treatment"] == "separate_contract"
    assert decision["decided_by"] == "rules"
    assert "ASC 606-10-25-12" in decision["reason"]
    assert decision["new_contract"] == "C-1A"
    assert allocation(out, "C-1A") == {"SEAT-ADD": "2689.84"}
    assert monthly(out, "SEAT-ADD") == SEAT_C1A
    assert obligation(out, "SEAT-ADD")["schedule"][1]["cumulative"] == "391.40"
    # C-1 is untouched by the modification.
    assert monthly(out, "SEAT") == SEAT_C1


def test_onboarding_edge_and_usage_fall_in_their_months_and_the_month_totals_match_the_story():
    out = run(load_contract("northwind.json"))
    assert by_month(out, "ONB") == {"2027-02": "3738.46"}
    assert by_month(out, "EDGE") == {"2027-02": "3738.46"}
    assert by_month(out, "API") == {"2027-03": "500.00", "2027-04": "640.00"}
    assert month_total(out, "2027-02") == "8767.46"
    assert month_total(out, "2027-03") == "2070.38"
    assert month_total(out, "2027-04") == "2272.55"


def test_the_engine_gives_the_same_figures_from_plain_dataclasses():
    def eur(s: str) -> Money:
        return Money(s, "EUR")

    spec = ContractSpec(
        id="C-1",
        currency="EUR",
        start=date(2027, 1, 20),
        fixed=eur("24300.00"),
        obligations=(
            Obligation("SEAT", Ratable(date(2027, 2, 1), date(2028, 2, 1)), SSP.fixed(eur("18000.00"))),
            Obligation("ONB", PointInTime(date(2027, 2, 26)), SSP.fixed(eur("4000.00"))),
            Obligation("EDGE", PointInTime(date(2027, 2, 10)), SSP.fixed(eur("4000.00"))),
            Obligation(
                "API",
                Usage(
                    (
                        UsageAmount(date(2027, 3, 31), eur("500.00")),
                        UsageAmount(date(2027, 4, 30), eur("640.00")),
                    )
                ),
            ),
        ),
        modifications=(
            Modification(
                date(2027, 3, 15),
                eur("2689.84"),
                add=(
                    Obligation(
                        "SEAT-ADD", Ratable(date(2027, 3, 15), date(2028, 2, 1)), SSP.fixed(eur("2689.84"))
                    ),
                ),
                new_contract="C-1A",
            ),
        ),
    )
    result = compute(spec)
    assert [str(line.amount.amount) for line in result.obligation("SEAT").lines] == SEAT_C1
    assert [str(line.amount.amount) for line in result.obligation("SEAT-ADD").lines] == SEAT_C1A
    assert result.obligation("SEAT-ADD").contract == "C-1A"
    assert [str(r.allocated.amount) for r in result.contract("C-1").allocation[:3]] == [
        "16823.08",
        "3738.46",
        "3738.46",
    ]

"""The engine against the illustrative examples published with ASC 606 (ASC 606-10-55) and IFRS 15
(Illustrative Examples, "IE"), each run through the preview format. The expected figures are the
ones the example states; "CU" amounts are run in JPY (no minor unit) where the example works in
whole currency units, so its rounding is the example's.

Numbering follows the converged examples: ASC 606-10-55 Example N = IFRS 15 IE Example N.
"""

from __future__ import annotations

import pytest

from q2c.revenue.engine import RevenueInputError

from .helpers import allocation, by_month, obligation, run


def pit(oid: str, ssp: str, on: str = "2027-01-01", **extra):
    return {"id": oid, "ssp": ssp, "pattern": "point_in_time", "delivered_on": on, **extra}


# --- Example 33: allocation methodology ------------------------------------------------------------
def test_example_33_allocates_100_to_products_a_b_c_by_ssps_50_25_75():
    # ASC 606-10-55-256..258 (IFRS 15 IE Example 33): SSPs 50 (observable), 25 (adjusted market
    # assessment), 75 (expected cost plus a margin); price 100 → allocated 33, 17, 50.
    out = run(
        {
            "currency": "JPY",
            "start": "2027-01-01",
            "transaction_price": {"fixed": "100"},
            "obligations": [pit("A", "50"), pit("B", "25"), pit("C", "75")],
        }
    )
    assert allocation(out) == {"A": "33", "B": "17", "C": "50"}


# --- Example 34: allocating a discount ----------------------------------------------------------
def example_34(price: str, *, with_d: bool, discount_amount: str | None) -> dict:
    group = {"obligations": ["B", "C"]}
    if discount_amount is not None:
        group["amount"] = discount_amount
    obligations = [pit("A", "40"), pit("B", "55"), pit("C", "45")]
    if with_d:
        obligations.append(
            {"id": "D", "ssp": {"residual": True, "low": "15", "high": "45"}, "pattern": "point_in_time"}
        )
    return {
        "currency": "JPY",
        "start": "2027-01-01",
        "transaction_price": {"fixed": price},
        "obligations": obligations,
        "discount_allocation": [group],
    }


@pytest.mark.parametrize("discount_amount", [None, "40"])
def test_example_34_case_a_gives_the_whole_discount_to_products_b_and_c(discount_amount):
    # ASC 606-10-55-259..264 (IFRS 15 IE Example 34, Case A): SSPs A 40, B 55, C 45 (total 140) sold for 100;
    # B and C are regularly sold together for 60 → A 40, B 33, C 27.
    out = run(example_34("100", with_d=False, discount_amount=discount_amount))
    assert allocation(out) == {"A": "40", "B": "33", "C": "27"}


def test_example_34_case_b_applies_the_discount_before_the_residual_approach_for_product_d():
    # ASC 606-10-55-265..268 (IFRS 15 IE Example 34, Case B): price 130 with Product D, whose SSP is highly
    # variable (15-45) → A 40, B and C 60 (33 and 27), D the residual 30.
    out = run(example_34("130", with_d=True, discount_amount="40"))
    assert allocation(out) == {"A": "40", "B": "33", "C": "27", "D": "30"}


def test_example_34_case_c_refuses_a_residual_outside_the_observed_prices():
    # ASC 606-10-55-269 (IFRS 15 IE Example 34, Case C): price 105 leaves 5 for D, outside its observable prices
    # 15-45, so the residual approach would not depict the consideration for D.
    with pytest.raises(RevenueInputError) as exc:
        run(example_34("105", with_d=True, discount_amount="40"))
    assert exc.value.code == "revenue.residual_outside_range"
    assert exc.value.field == "obligations[3].ssp"


# --- Example 35: allocation of variable consideration -------------------------------------------
def test_example_35_case_a_gives_the_fixed_fee_to_licence_x_and_the_royalties_to_licence_y():
    # ASC 606-10-55 Example 35, Case A (IFRS 15 IE Example 35): Licence X fixed 800 (SSP 800), Licence Y 3 % of
    # the customer's sales (SSP 1,000); the royalties relate to Y only → X 800 on transfer, Y as
    # the sales occur.
    out = run(
        {
            "currency": "EUR",
            "start": "2027-01-01",
            "transaction_price": {"fixed": "800.00"},
            "obligations": [
                pit("X", "800.00"),
                {
                    "id": "Y",
                    "ssp": "1000.00",
                    "pattern": "usage",
                    "usage": [
                        {"month": "2027-02", "amount": "45.00"},
                        {"month": "2027-03", "amount": "60.00"},
                    ],
                },
            ],
        }
    )
    assert allocation(out) == {"X": "800.00", "Y": "105.00"}
    assert by_month(out, "X") == {"2027-01": "800.00"}
    assert by_month(out, "Y") == {"2027-02": "45.00", "2027-03": "60.00"}


# --- Example 21: estimating variable consideration ----------------------------------------------
@pytest.mark.parametrize(
    ("scenarios", "bonus", "expected"),
    [
        ([("2500000", "0.4"), ("2480000", "0.6")], "150000", "2638000"),
        ([("2500000", "0.4"), ("2550000", "0.35"), ("2480000", "0.25")], "0", "2512500"),
    ],
)
def test_example_21_uses_the_expected_value_for_the_daily_penalty_and_the_most_likely_amount_for_the_bonus(
    scenarios, bonus, expected
):
    # ASC 606-10-55 Example 21 (IFRS 15 IE Example 21): 2.5 million ± 10,000 a day estimated by the
    # expected value; the 150,000 bonus (two outcomes) by the most likely amount. The probabilities
    # are those of the published worked answer to this example in kashifadeel.com's IFRS 15 summary
    # notes (answer 4 (b) and (c)): 2,638,000 and 2,512,500.
    out = run(
        {
            "currency": "EUR",
            "start": "2027-01-01",
            "transaction_price": {
                "variable": [
                    {
                        "id": "completion",
                        "method": "expected_value",
                        "scenarios": [{"amount": a, "probability": p} for a, p in scenarios],
                    },
                    {"id": "bonus", "method": "most_likely", "amount": bonus},
                ]
            },
            "obligations": [{"id": "asset", "pattern": "point_in_time", "delivered_on": "2027-12-31"}],
        }
    )
    assert out["contracts"][0]["transaction_price"]["total"] == f"{expected}.00"
    assert obligation(out, "asset")["allocated"] == f"{expected}.00"


# --- Example 24: volume discount incentive (re-estimate, cumulative catch-up) --------------------
def test_example_24_recognises_44250_in_the_second_quarter_when_the_volume_discount_becomes_likely():
    # ASC 606-10-55 Example 24 (IFRS 15 IE Example 24): 100 a unit, 90 retrospectively above 1,000
    # units a year. Q1: 75 units, not expected to exceed → 7,500. Q2: 500 units, now expected to
    # exceed → 500 × 90 − 75 × 10 = 44,250.
    out = run(
        {
            "currency": "EUR",
            "start": "2028-01-01",
            "transaction_price": {
                "fixed": "57500.00",
                "variable": [
                    {
                        "id": "volume discount",
                        "method": "most_likely",
                        "amount": "0",
                        "reestimates": [
                            {"as_of": "2028-06-30", "method": "most_likely", "amount": "-5750.00"}
                        ],
                    }
                ],
            },
            "obligations": [pit("Q1", "7500.00", "2028-03-31"), pit("Q2", "50000.00", "2028-06-30")],
        }
    )
    assert by_month(out, "Q1") == {"2028-03": "7500.00", "2028-06": "-750.00"}
    assert next(m for m in out["schedule"] if m["month"] == "2028-03")["amount"] == "7500.00"
    assert next(m for m in out["schedule"] if m["month"] == "2028-06")["amount"] == "44250.00"


# --- Example 5: modification of a contract for goods ----------------------------------------------
def example_5(modification: dict, variable: list | None = None) -> dict:
    # 120 products at 100 each, over six months; after 60 have been transferred the customer adds 30.
    tp: dict = {"fixed": "12000.00"}
    if variable:
        tp["variable"] = variable
    return {
        "currency": "EUR",
        "start": "2027-01-01",
        "transaction_price": tp,
        "obligations": [pit("first 60", "6000.00", "2027-03-31"), pit("last 60", "6000.00", "2027-06-30")],
        "modifications": [modification],
    }


def test_example_5_case_a_accounts_for_30_more_products_at_95_as_a_separate_contract():
    # ASC 606-10-55-111..113 (IFRS 15 IE Example 5, Case A): the 30 additional products are distinct and priced
    # at 95, their SSP adjusted for selling costs saved → separate contract: 100 a unit for the
    # original 120 products, 95 a unit for the 30.
    out = run(
        example_5(
            {
                "date": "2027-04-01",
                "price_change": "2850.00",
                "add": [pit("extra 30", "2850.00", "2027-06-30")],
            }
        )
    )
    decision = out["modifications"][0]
    assert decision["treatment"] == "separate_contract"
    assert obligation(out, "last 60")["allocated"] == "6000.00"
    assert obligation(out, "extra 30")["allocated"] == "2850.00"
    assert obligation(out, "extra 30")["contract"] == decision["new_contract"]


def test_example_5_case_b_recognises_93_33_a_product_for_the_remaining_and_the_added_products():
    # ASC 606-10-55-114..116 (IFRS 15 IE Example 5, Case B): the 30 products are priced at 80, not their SSP of
    # 95, and the remaining products are distinct → termination and a new contract:
    # (60 × 100 + 30 × 80) ÷ 90 = 93.33 a product. The 900 credit for the defective first 60
    # products reduces the transaction price and the revenue of those products.
    out = run(
        example_5(
            {
                "date": "2027-04-01",
                "price_change": "2400.00",
                "add": [pit("extra 30", "2850.00", "2027-06-30")],
                "change": [{"obligation": "last 60", "ssp": "5700.00"}],
            },
            variable=[
                {
                    "id": "defect credit",
                    "method": "most_likely",
                    "amount": "0",
                    "allocate_to": ["first 60"],
                    "reestimates": [{"as_of": "2027-04-01", "method": "most_likely", "amount": "-900.00"}],
                }
            ],
        )
    )
    decision = out["modifications"][0]
    assert decision["treatment"] == "terminate_and_create"
    assert "ASC 606-10-25-13(a)" in decision["reason"]
    assert decision["consideration"] == "8400.00"
    assert obligation(out, "last 60")["allocated"] == "5600.00"  # 60 × 93.33…
    assert obligation(out, "extra 30")["allocated"] == "2800.00"  # 30 × 93.33…
    assert by_month(out, "first 60") == {"2027-03": "6000.00", "2027-04": "-900.00"}


# --- Example 7: modification of a services contract ----------------------------------------------
def test_example_7_spreads_the_remaining_280000_over_the_four_remaining_years_prospectively():
    # ASC 606-10-55-125..128 (IFRS 15 IE Example 7): three years of cleaning at 100,000 a year; after
    # two years the third year's fee is cut to 80,000 and three more years are added for 200,000
    # (not their SSP of 3 × 80,000) → prospective: (80,000 + 200,000) over 4 years = 70,000 a year.
    # Here the service runs 2029-2031 (no leap day) so the first two years recognise exactly 200,000;
    # the remaining four years 2031-2034 hold one leap day, so by the cumulative day method a
    # 365-day year gets 280,000 × 365 ÷ 1,461 = 69,952.09 and the four add up to 280,000.
    out = run(
        {
            "currency": "EUR",
            "start": "2029-01-01",
            "transaction_price": {"fixed": "300000.00"},
            "obligations": [
                {"id": "cleaning", "pattern": "ratable", "start": "2029-01-01", "end": "2032-01-01"}
            ],
            "modifications": [
                {
                    "date": "2031-01-01",
                    "price_change": "180000.00",
                    "change": [{"obligation": "cleaning", "end": "2035-01-01"}],
                }
            ],
        }
    )
    decision = out["modifications"][0]
    assert decision["treatment"] == "terminate_and_create"
    assert decision["consideration"] == "280000.00"
    lines = obligation(out, "cleaning")["schedule"]
    by_year: dict[str, int] = {}
    for line in lines:
        by_year[line["month"][:4]] = by_year.get(line["month"][:4], 0) + int(line["amount"].replace(".", ""))
    assert by_year["2029"] + by_year["2030"] == 20_000_000  # 200,000.00 in cents
    assert by_year["2031"] == 6_995_209  # 69,952.09
    assert sum(by_year[y] for y in ("2031", "2032", "2033", "2034")) == 28_000_000


# --- Example 8: modification resulting in a cumulative catch-up adjustment -----------------------
def test_example_8_catches_up_91200_of_revenue_when_the_building_contract_is_modified():
    # ASC 606-10-55-129..133 (IFRS 15 IE Example 8): 1,000,000 plus a 200,000 bonus (constrained at
    # inception); end of year 1: 60 % complete → 600,000. In year 2 the floor plan changes: +150,000,
    # costs up, the bonus is now highly probable; progress 51.2 % → 1,350,000 × 51.2 % = 691,200,
    # a catch-up of 91,200 at the modification date.
    out = run(
        {
            "currency": "EUR",
            "start": "2027-01-01",
            "transaction_price": {
                "fixed": "1000000.00",
                "variable": [
                    {
                        "id": "bonus",
                        "method": "most_likely",
                        "amount": "200000.00",
                        "constraint": {"amount": "0"},
                        "reestimates": [
                            {"as_of": "2028-02-15", "method": "most_likely", "amount": "200000.00"}
                        ],
                    }
                ],
            },
            "obligations": [
                {
                    "id": "building",
                    "pattern": "progress",
                    "progress": [
                        {"month": "2027-12", "percent_complete": "60"},
                        {"month": "2028-02", "percent_complete": "51.2"},
                    ],
                }
            ],
            "modifications": [
                {"date": "2028-02-15", "price_change": "150000.00", "change": [{"obligation": "building"}]}
            ],
        }
    )
    decision = out["modifications"][0]
    assert decision["treatment"] == "cumulative_catch_up"
    assert "ASC 606-10-25-13(b)" in decision["reason"]
    assert by_month(out, "building") == {"2027-12": "600000.00", "2028-02": "91200.00"}
    assert obligation(out, "building")["allocated"] == "1350000.00"
    bonus = out["variable_consideration"][0]["estimates"]
    assert [e["included"] for e in bonus] == ["0.00", "200000.00"]


# --- Examples 26 and 29: significant financing component ------------------------------------------
def test_example_26_discounts_121_payable_in_two_years_to_a_cash_selling_price_of_100():
    # ASC 606-10-55 Example 26 (IFRS 15 IE Example 26): 121 payable 24 months after delivery, cash
    # selling price 100, the rate that discounts one to the other 10 % → revenue 100 on delivery;
    # interest income 10 in the first year (100 × 10 %) and 11 in the second (110 × 10 %).
    out = run(
        {
            "currency": "EUR",
            "start": "2027-01-01",
            "transaction_price": {
                "fixed": "121.00",
                "financing": {
                    "rate": "0.10",
                    "transfer_on": "2027-01-01",
                    "payments": [{"date": "2029-01-01", "amount": "121.00"}],
                },
            },
            "obligations": [pit("product", "100.00", "2027-01-01")],
        }
    )
    assert out["contracts"][0]["transaction_price"]["total"] == "100.00"
    assert by_month(out, "product") == {"2027-01": "100.00"}
    income = [line for line in out["financing"]["interest"] if line["kind"] == "income"]
    assert sum(int(i["amount"].replace(".", "")) for i in income if i["month"] < "2028-01") == 1000
    assert sum(int(i["amount"].replace(".", "")) for i in income if i["month"] >= "2028-01") == 1100


def test_example_29_accretes_an_advance_of_4000_at_6_percent_to_revenue_of_4494():
    # ASC 606-10-55 Example 29 (IFRS 15 IE Example 29): the customer pays 4,000 at signing instead of
    # 5,000 in two years when the asset transfers; 6 % borrowing rate → interest 240 then 254, the
    # contract liability grows to 4,494, recognised as revenue on transfer.
    out = run(
        {
            "currency": "JPY",
            "start": "2027-01-01",
            "transaction_price": {
                "fixed": "4000",
                "financing": {
                    "rate": "0.06",
                    "transfer_on": "2029-01-01",
                    "payments": [{"date": "2027-01-01", "amount": "4000"}],
                },
            },
            "obligations": [pit("asset", "5000", "2029-01-01")],
        }
    )
    assert out["financing"]["applied"] is True
    assert out["financing"]["adjustment"] == "494"
    assert by_month(out, "asset") == {"2029-01": "4494"}
    expense = [line for line in out["financing"]["interest"] if line["kind"] == "expense"]
    assert sum(int(i["amount"]) for i in expense if i["month"] < "2028-01") == 240
    assert sum(int(i["amount"]) for i in expense if "2028-01" <= i["month"] < "2029-01") == 254


def test_the_practical_expedient_leaves_payments_within_a_year_of_transfer_undiscounted():
    # ASC 606-10-32-18 / IFRS 15.63, the practical expedient: payment 11 months after delivery → no adjustment.
    out = run(
        {
            "currency": "EUR",
            "start": "2027-01-01",
            "transaction_price": {
                "fixed": "1000.00",
                "financing": {
                    "rate": "0.08",
                    "transfer_on": "2027-01-15",
                    "payments": [{"date": "2027-12-15", "amount": "1000.00"}],
                },
            },
            "obligations": [pit("good", "1000.00", "2027-01-15")],
        }
    )
    assert out["financing"]["applied"] is False
    assert "practical expedient" in out["financing"]["reason"]
    assert out["contracts"][0]["transaction_price"]["total"] == "1000.00"

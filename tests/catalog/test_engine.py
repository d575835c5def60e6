"""The pure pricing engine: waterfalls, totals, guardrails, bad input and properties.

Every expected figure is worked out by hand in the comment next to it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.catalog.pricing import (
    Bundle,
    BundleOption,
    ContractedPrice,
    DiscountSchedule,
    OptionGroup,
    PriceModel,
    PriceModelKind,
    PricingInputError,
    Promotion,
    Tier,
    price,
)
from q2c.catalog.pricing.types import (
    FloorEnforcement,
    ProductType,
    SaleContext,
    ScheduleKind,
    Ssp,
    SspMethod,
)

from .builders import monthly, one_time, per_unit, product, request, snapshot, tiers, usage


def steps(line):
    return [(s.kind, s.amount) for s in line.steps]


def only_line(result):
    assert len(result.lines) == 1
    return result.lines[0]


def errors_of(exc):
    return [(d["field"], d["code"]) for d in exc.value.details]


# --- the waterfall -------------------------------------------------------------------------


def widget_catalog():
    widget = product("WIDGET", one_time(per_unit("100.00"), code="UNIT"), family="hardware")
    schedule = DiscountSchedule(
        1, "VOL", "Volume", ScheduleKind.VOLUME, ((D(10), D(5)), (D(50), D(8))), skus=frozenset({"WIDGET"})
    )
    promo = Promotion(
        1, "SPRING", "Spring", percent=D(10), valid_from=date(2027, 1, 1), valid_to=date(2027, 4, 1)
    )
    return widget, snapshot(widget, schedules=(schedule,), promotions={"SPRING": promo})


def test_a_line_walks_every_step_of_the_waterfall_and_names_each_rule():
    widget, snap = widget_catalog()
    charge_id = widget.charges[0].id
    req = request(
        {
            "lines": [{"sku": "WIDGET", "quantity": 20, "discount": {"percent": "5"}}],
            "promotion_codes": ["spring"],
            "account_id": 7,
        },
        contracted={charge_id: ContractedPrice(3, charge_id, unit_price=D("90.00"))},
        manual_discount_limit=D(10),
    )
    line = only_line(price(snap, req))
    # list 20 × 100.00 = 2,000.00; contracted 20 × 90.00 = 1,800.00; volume schedule 5 % from 10
    # → 1,710.00; promotion 10 % → 1,539.00; manual 5 % → 1,462.05.
    assert steps(line) == [
        ("list", D("2000.00")),
        ("price_model", D("2000.00")),
        ("contracted", D("1800.00")),
        ("schedule", D("1710.00")),
        ("promotion", D("1539.00")),
        ("manual", D("1462.05")),
        ("net", D("1462.05")),
    ]
    rules = {s.kind: (s.rule, s.rule_id) for s in line.steps}
    assert rules["contracted"] == ("contracted price 90.00 for account 7", "contracted:3")
    assert rules["schedule"] == ("schedule VOL: 5 % from 10 units", "schedule:VOL")
    assert rules["promotion"] == ("promotion SPRING: 10 % off", "promotion:SPRING")
    assert line.steps[-1].delta == D("-537.95")  # net − list
    assert line.net_unit_price == D("73.1025")  # 1,462.05 ÷ 20
    assert line.approvals == ()


def test_each_step_delta_is_the_change_from_the_step_before():
    _, snap = widget_catalog()
    line = only_line(price(snap, request({"lines": [{"sku": "WIDGET", "quantity": 60}]})))
    # 60 units reach the 8 % tier: 6,000.00 → 5,520.00
    assert [(s.kind, s.delta) for s in line.steps] == [
        ("list", D("6000.00")),
        ("price_model", D("0.00")),
        ("schedule", D("-480.00")),
        ("net", D("-480.00")),
    ]


def test_a_term_schedule_applies_by_the_quote_term():
    seat = product("SEAT", monthly(per_unit("30.00")), type=ProductType.SUBSCRIPTION)
    term = DiscountSchedule(2, "TERM", "Term", ScheduleKind.TERM, ((D(24), D(3)), (D(36), D(6))))
    snap = snapshot(seat, schedules=(term,))
    result = price(snap, request({"term_months": 36, "lines": [{"sku": "SEAT", "quantity": 10}]}))
    line = only_line(result)
    # 10 × 30.00 = 300.00 a month, 6 % for a 36-month term → 282.00; TCV 282.00 × 36 = 10,152.00
    assert line.net == D("282.00")
    assert result.totals.tcv.amount == D("10152.00")
    assert result.totals.list_tcv.amount == D("10800.00")


def test_an_amount_discount_is_taken_off_the_line_and_measured_as_a_percentage():
    onb = product("ONB", one_time(per_unit("1000.00")))
    req = request(
        {"lines": [{"sku": "ONB", "quantity": 1, "discount": {"amount": "150.00"}}]},
        manual_discount_limit=D(10),
    )
    line = only_line(price(snapshot(onb), req))
    # 1,000.00 − 150.00 = 850.00, i.e. 15.00 % of the amount before the manual step > 10 %
    assert line.net == D("850.00")
    assert line.manual_discount_percent == D("15.00")
    assert [a.code for a in line.approvals] == ["discount.over_role_limit"]


def test_a_target_price_sets_the_net_unit_price():
    seat = product("SEAT", monthly(per_unit("30.00")), type=ProductType.SUBSCRIPTION)
    req = request(
        {"lines": [{"sku": "SEAT", "quantity": 50, "discount": {"target_price": "25.50"}}]},
        manual_discount_limit=D(25),
    )
    line = only_line(price(snapshot(seat), req))
    # 50 × 25.50 = 1,275.00; (1,500.00 − 1,275.00) ÷ 1,500.00 = 15.00 %
    assert line.net == D("1275.00")
    assert line.manual_discount_percent == D("15.00")
    assert line.approvals == ()


def test_a_discount_within_the_role_limit_needs_no_approval():
    seat = product("SEAT", monthly(per_unit("30.00")))
    req = request(
        {"lines": [{"sku": "SEAT", "quantity": 1, "discount": {"percent": "10"}}]},
        manual_discount_limit=D(10),
    )
    assert only_line(price(snapshot(seat), req)).approvals == ()


def test_without_a_limit_any_discount_passes():
    seat = product("SEAT", monthly(per_unit("30.00")))
    req = request(
        {"lines": [{"sku": "SEAT", "quantity": 1, "discount": {"percent": "60"}}]}, manual_discount_limit=None
    )
    assert only_line(price(snapshot(seat), req)).approvals == ()


def test_a_net_price_below_the_floor_needs_approval():
    seat = product("SEAT", monthly(per_unit("30.00"), floor_unit_price=D("20.00")))
    req = request(
        {"lines": [{"sku": "SEAT", "quantity": 10, "discount": {"target_price": "19.00"}}]},
        manual_discount_limit=D(100),
    )
    line = only_line(price(snapshot(seat), req))
    # 10 × 19.00 = 190.00 < 10 × 20.00 = 200.00
    assert [(a.code, a.limit, a.actual) for a in line.approvals] == [
        ("price.below_floor", D("200.00"), D("190.00"))
    ]


def test_a_hard_floor_refuses_the_line_naming_its_discount():
    seat = product(
        "SEAT",
        monthly(per_unit("30.00"), floor_unit_price=D("20.00")),
        floor_enforcement=FloorEnforcement.REJECT,
    )
    req = request({"lines": [{"sku": "SEAT", "quantity": 10, "discount": {"target_price": "19.00"}}]})
    with pytest.raises(PricingInputError) as exc:
        price(snapshot(seat), req)
    assert errors_of(exc) == [("lines[0].discount", "pricing.below_floor")]


def test_a_percent_line_follows_the_net_of_the_lines_it_names():
    lic = product("LIC", monthly(per_unit("100.00")), family="licences")
    support = product(
        "SUP",
        monthly(
            PriceModel(PriceModelKind.PERCENT, percent=D(20), percent_of_families=frozenset({"licences"}))
        ),
    )
    result = price(
        snapshot(lic, support),
        request(
            {
                "lines": [
                    {"sku": "LIC", "quantity": 10, "discount": {"percent": "10"}},
                    {"sku": "SUP", "quantity": 1},
                ]
            }
        ),
    )
    sup = result.lines[1]
    # licences list 1,000.00, net 900.00; support list 20 % × 1,000.00 = 200.00, model 20 % × 900.00 = 180.00
    assert steps(sup) == [("list", D("200.00")), ("price_model", D("180.00")), ("net", D("180.00"))]


def test_a_yearly_percent_line_converts_monthly_lines_to_its_period():
    lic = product("LIC", monthly(per_unit("100.00")))
    support = product(
        "SUP",
        monthly(
            PriceModel(PriceModelKind.PERCENT, percent=D(20), percent_of_skus=frozenset({"LIC"})), months=12
        ),
    )
    result = price(
        snapshot(lic, support),
        request({"lines": [{"sku": "LIC", "quantity": 10}, {"sku": "SUP", "quantity": 1}]}),
    )
    # 20 % of 1,000.00 a month × 12 months = 2,400.00 a year
    assert result.lines[1].net == D("2400.00")
    assert result.totals.recurring["year"].amount == D("2400.00")
    assert result.totals.mrr.amount == D("1200.00")  # 1,000.00 + 2,400.00 ÷ 12


def test_a_minimum_per_line_lifts_small_lines():
    small = product("SMS", one_time(per_unit("1.00", minimum=D("50.00"))))
    line = only_line(price(snapshot(small), request({"lines": [{"sku": "SMS", "quantity": 10}]})))
    assert steps(line) == [
        ("list", D("10.00")),
        ("price_model", D("10.00")),
        ("minimum", D("50.00")),
        ("net", D("50.00")),
    ]


def test_tiered_lines_show_their_tier_breakdown():
    storage = product(
        "GB",
        monthly(PriceModel(PriceModelKind.TIERED, tiers=tiers(("0", "100", "1.00"), ("100", None, "0.50")))),
        divisible=True,
    )
    line = only_line(price(snapshot(storage), request({"lines": [{"sku": "GB", "quantity": "150.5"}]})))
    # 100 × 1.00 + 50.5 × 0.50 = 125.25; list at the first tier 150.5 × 1.00 = 150.50
    assert steps(line)[:2] == [("list", D("150.50")), ("price_model", D("125.25"))]
    assert [(t.tier, t.units) for t in line.tiers] == [(1, D(100)), (2, D("50.5"))]


def test_an_amount_promotion_takes_its_amount_off_per_unit():
    widget = product("W", one_time(per_unit("100.00")))
    promo = Promotion(2, "FIVE", "Five off", amount=D("5.00"), currency="EUR")
    line = only_line(
        price(
            snapshot(widget, promotions={"FIVE": promo}),
            request({"lines": [{"sku": "W", "quantity": 10}], "promotion_codes": ["FIVE"]}),
        )
    )
    assert line.net == D("950.00")  # 1,000.00 − 10 × 5.00


def test_an_automatic_promotion_applies_without_a_code():
    widget = product("W", one_time(per_unit("100.00")))
    promo = Promotion(3, "AUTO", "Always", percent=D(1), automatic=True)
    result = price(
        snapshot(widget, promotions={"AUTO": promo}), request({"lines": [{"sku": "W", "quantity": 1}]})
    )
    assert result.lines[0].net == D("99.00")
    assert result.promotions == ("AUTO",)


def test_a_promotion_the_lines_are_not_eligible_for_is_reported_as_a_warning():
    widget = product("W", one_time(per_unit("100.00")))
    promo = Promotion(4, "BULK", "Bulk", percent=D(10), min_quantity=D(100))
    result = price(
        snapshot(widget, promotions={"BULK": promo}),
        request({"lines": [{"sku": "W", "quantity": 1}], "promotion_codes": ["BULK"]}),
    )
    assert result.lines[0].net == D("100.00")
    assert result.warnings == ("promotion BULK applies to none of the lines",)


def test_an_option_included_in_the_bundle_price_costs_nothing():
    pro = product("PRO", monthly(per_unit("500.00")), is_bundle=True)
    training = product("TRAIN", one_time(per_unit("200.00")))
    group = OptionGroup(1, "SVC", "Services", (BundleOption(11, "TRAIN", included_in_price=True),))
    snap = snapshot(pro, training, bundles={"PRO": Bundle("PRO", (group,))})
    result = price(
        snap,
        request(
            {
                "lines": [
                    {"key": "b", "sku": "PRO", "quantity": 1},
                    {"sku": "TRAIN", "quantity": 1, "parent": "b"},
                ]
            }
        ),
    )
    assert steps(result.lines[1]) == [
        ("list", D("200.00")),
        ("price_model", D("200.00")),
        ("bundle_included", D("0")),
        ("net", D("0")),
    ]
    assert result.totals.one_time.amount == D("0.00")


def test_a_tied_option_takes_its_quantity_from_the_bundle_line():
    pro = product("PRO", monthly(per_unit("500.00")), is_bundle=True)
    seat = product("SEAT", monthly(per_unit("10.00")))
    group = OptionGroup(
        1, "SEATS", "Seats", (BundleOption(12, "SEAT", qty_tied_to_parent=True, qty_ratio=D(5)),)
    )
    snap = snapshot(pro, seat, bundles={"PRO": Bundle("PRO", (group,))})
    result = price(
        snap, request({"lines": [{"key": "b", "sku": "PRO", "quantity": 2}, {"sku": "SEAT", "parent": "b"}]})
    )
    assert result.lines[1].quantity == D(10)  # 2 bundles × 5 seats
    assert result.violations == ()


def test_a_credit_line_lowers_the_one_time_total_and_the_contract_value():
    widget = product("W", one_time(per_unit("100.00")))
    result = price(
        snapshot(widget),
        request({"lines": [{"sku": "W", "quantity": 1}, {"credit": "-30.00", "description": "Goodwill"}]}),
    )
    assert result.lines[1].net == D("-30.00")
    assert result.totals.one_time.amount == D("70.00")
    assert result.totals.tcv.amount == D("70.00")
    assert result.totals.discount_percent == D("30.00")


def test_usage_lines_are_estimated_but_kept_out_of_the_contract_value():
    api = product(
        "API",
        usage(
            PriceModel(PriceModelKind.TIERED, tiers=tiers(("0", "100000", "0"), ("100000", None, "0.002")))
        ),
    )
    result = price(snapshot(api), request({"lines": [{"sku": "API", "estimated_quantity": "350000"}]}))
    line = only_line(result)
    assert line.net == D("500.00")  # 250,000 × 0.002
    assert line.estimated
    assert result.totals.usage_estimate.amount == D("500.00")
    assert result.totals.tcv.amount == D("0.00")
    assert len(line.rate_card) == 2


def test_quarterly_lines_count_a_third_towards_mrr():
    svc = product("Q", monthly(per_unit("100.00"), months=3))
    result = price(snapshot(svc), request({"term_months": 12, "lines": [{"sku": "Q", "quantity": 1}]}))
    # 100.00 a quarter: MRR 33.33, ARR 400.00, TCV 4 quarters = 400.00
    assert (result.totals.mrr.amount, result.totals.arr.amount, result.totals.tcv.amount) == (
        D("33.33"),
        D("400.00"),
        D("400.00"),
    )
    assert dict((k, v.amount) for k, v in result.totals.recurring.items()) == {"quarter": D("100.00")}


def test_margin_covers_the_lines_whose_cost_is_known():
    seat = product("SEAT", monthly(per_unit("30.00")), cost=D("10.00"))
    onb = product("ONB", one_time(per_unit("1000.00")))
    result = price(
        snapshot(seat, onb),
        request({"lines": [{"sku": "SEAT", "quantity": 10}, {"sku": "ONB", "quantity": 1}]}),
    )
    # SEAT: TCV 300.00 × 12 = 3,600.00, cost 10.00 × 10 × 12 = 1,200.00 → margin 2,400.00, 66.67 %
    assert result.totals.margin is not None
    assert result.totals.margin.amount == D("2400.00")
    assert result.totals.margin_percent == D("66.67")
    assert result.totals.margin_basis.amount == D("3600.00")


def test_no_cost_anywhere_means_no_margin():
    onb = product("ONB", one_time(per_unit("1000.00")))
    result = price(snapshot(onb), request({"lines": [{"sku": "ONB", "quantity": 1}]}))
    assert result.totals.margin is None and result.totals.margin_percent is None


def test_ssp_follows_the_sale_context():
    seat = product(
        "SEAT",
        monthly(per_unit("30.00")),
        ssp={
            SaleContext.NEW: Ssp(SspMethod.PERCENT_OF_LIST, percent=D(80)),
            SaleContext.ADD_ON: Ssp(SspMethod.RANGE, low=D("20.00"), high=D("28.00")),
        },
    )
    snap = snapshot(seat)
    new = only_line(price(snap, request({"lines": [{"sku": "SEAT", "quantity": 1}]})))
    assert new.ssp_unit == D("24.00")  # 80 % of 30.00
    add_on = only_line(
        price(
            snap,
            request(
                {
                    "sale_context": "add_on",
                    "lines": [{"sku": "SEAT", "quantity": 1, "discount": {"target_price": "25.50"}}],
                }
            ),
        )
    )
    assert add_on.ssp_unit == D("25.50")  # inside [20.00, 28.00]
    above = only_line(
        price(snap, request({"sale_context": "add_on", "lines": [{"sku": "SEAT", "quantity": 1}]}))
    )
    assert above.ssp_unit == D("28.00")  # 30.00 capped at the range's high


def test_half_even_rounding_can_be_asked_for():
    item = product("X", one_time(per_unit("0.125")))
    up = only_line(price(snapshot(item), request({"lines": [{"sku": "X", "quantity": 1}]})))
    even = only_line(
        price(snapshot(item), request({"rounding": "half_even", "lines": [{"sku": "X", "quantity": 1}]}))
    )
    assert (up.net, even.net) == (D("0.13"), D("0.12"))


def test_yen_amounts_round_to_whole_yen():
    item = product("X", one_time(per_unit("100.5")))
    line = only_line(
        price(
            snapshot(item, currency="JPY"),
            request({"currency": "JPY", "lines": [{"sku": "X", "quantity": 1}]}),
        )
    )
    assert line.net == D("101")


# --- bad input -----------------------------------------------------------------------------


def test_an_unknown_sku_is_refused_naming_the_line():
    with pytest.raises(PricingInputError) as exc:
        price(
            widget_catalog()[1],
            request({"lines": [{"sku": "WIDGET", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}),
        )
    assert errors_of(exc) == [("lines[1].sku", "pricing.unknown_sku")]
    assert exc.value.details[0]["line"] == "2"


def test_an_inactive_product_is_refused():
    old = product("OLD", one_time(per_unit("1.00")), active_to=date(2027, 1, 1))
    with pytest.raises(PricingInputError) as exc:
        price(snapshot(old), request({"lines": [{"sku": "OLD", "quantity": 1}]}))
    assert errors_of(exc) == [("lines[0].sku", "pricing.inactive_product")]
    assert "not on 2027-01-10" in exc.value.message


def test_a_product_not_yet_on_sale_is_refused():
    soon = product("NEW", one_time(per_unit("1.00")), active_from=date(2027, 2, 1))
    with pytest.raises(PricingInputError) as exc:
        price(snapshot(soon), request({"lines": [{"sku": "NEW", "quantity": 1}]}))
    assert errors_of(exc) == [("lines[0].sku", "pricing.inactive_product")]


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        (0, "pricing.quantity_not_positive"),
        (-3, "pricing.quantity_not_positive"),
        ("1.5", "pricing.fractional_quantity"),
        ("abc", "pricing.not_a_number"),
    ],
)
def test_bad_quantities_for_whole_units_are_refused(quantity, code):
    seat = product("SEAT", monthly(per_unit("30.00")), uom="seat")
    with pytest.raises(PricingInputError) as exc:
        price(snapshot(seat), request({"lines": [{"sku": "SEAT", "quantity": quantity}]}))
    assert errors_of(exc) == [("lines[0].quantity", code)]


def test_fractional_quantities_are_fine_for_divisible_units():
    hours = product("HOUR", one_time(per_unit("100.00")), uom="hour", divisible=True)
    assert only_line(
        price(snapshot(hours), request({"lines": [{"sku": "HOUR", "quantity": "1.5"}]}))
    ).net == D("150.00")


def test_float_quantities_are_refused():
    seat = product("SEAT", monthly(per_unit("30.00")))
    with pytest.raises(PricingInputError) as exc:
        request({"lines": [{"sku": "SEAT", "quantity": 1.5}]})
    assert errors_of(exc) == [("lines[0].quantity", "pricing.not_a_number")]
    assert seat  # the catalog is not consulted for a malformed request


@pytest.mark.parametrize(
    ("discount", "field", "code"),
    [
        ({"percent": "100.01"}, "lines[0].discount.percent", "pricing.discount_over_100"),
        ({"percent": "-1"}, "lines[0].discount.percent", "pricing.negative_discount"),
        ({"amount": "-5"}, "lines[0].discount.amount", "pricing.negative_discount"),
        ({"percent": "5", "amount": "1"}, "lines[0].discount", "pricing.invalid_discount"),
        ({"bribe": "5"}, "lines[0].discount.bribe", "pricing.invalid_discount"),
    ],
)
def test_bad_discounts_are_refused(discount, field, code):
    with pytest.raises(PricingInputError) as exc:
        request({"lines": [{"sku": "SEAT", "quantity": 1, "discount": discount}]})
    assert errors_of(exc) == [(field, code)]


def test_an_amount_discount_larger_than_the_line_is_over_100_percent():
    onb = product("ONB", one_time(per_unit("100.00")))
    with pytest.raises(PricingInputError) as exc:
        price(
            snapshot(onb),
            request({"lines": [{"sku": "ONB", "quantity": 1, "discount": {"amount": "100.01"}}]}),
        )
    assert errors_of(exc) == [("lines[0].discount.amount", "pricing.discount_over_100")]


def test_a_promotion_outside_its_dates_is_refused():
    widget = product("W", one_time(per_unit("1.00")))
    promo = Promotion(
        5, "XMAS", "Christmas", percent=D(10), valid_from=date(2026, 12, 1), valid_to=date(2027, 1, 1)
    )
    with pytest.raises(PricingInputError) as exc:
        price(
            snapshot(widget, promotions={"XMAS": promo}),
            request({"lines": [{"sku": "W", "quantity": 1}], "promotion_codes": ["XMAS"]}),
        )
    assert errors_of(exc) == [("promotion_codes[0]", "pricing.promotion_outside_dates")]
    assert "from 2026-12-01 until 2027-01-01" in exc.value.message


def test_an_unknown_promotion_code_is_refused():
    widget = product("W", one_time(per_unit("1.00")))
    with pytest.raises(PricingInputError) as exc:
        price(
            snapshot(widget), request({"lines": [{"sku": "W", "quantity": 1}], "promotion_codes": ["FREE"]})
        )
    assert errors_of(exc) == [("promotion_codes[0]", "pricing.unknown_promotion")]


def test_a_price_with_tier_gaps_cannot_be_used_and_the_line_says_so():
    broken = PriceModel(PriceModelKind.TIERED, tiers=(Tier(D(0), D(10), D(1)), Tier(D(20), None, D(1))))
    charge = replace(monthly(broken), model_error=("pricing.tier_gap", "tier 2 starts at 20, leaving a gap"))
    with pytest.raises(PricingInputError) as exc:
        price(snapshot(product("GAP", charge)), request({"lines": [{"sku": "GAP", "quantity": 1}]}))
    assert errors_of(exc) == [("lines[0].sku", "pricing.tier_gap")]


def test_a_price_book_in_another_currency_is_refused():
    widget = product("W", one_time(per_unit("1.00")))
    with pytest.raises(PricingInputError) as exc:
        price(snapshot(widget), request({"currency": "USD", "lines": [{"sku": "W", "quantity": 1}]}))
    assert exc.value.code == "pricing.price_book_currency"
    assert exc.value.field == "currency"


def test_every_problem_of_a_request_is_reported_at_once():
    with pytest.raises(PricingInputError) as exc:
        request(
            {
                "currency": "EURO",
                "term_months": 0,
                "surprise": 1,
                "lines": [{"sku": "A", "quantity": 0}, {"key": "x"}, {"key": "x", "sku": "B", "quantity": 1}],
            }
        )
    assert errors_of(exc) == [
        ("surprise", "pricing.unknown_field"),
        ("currency", "pricing.invalid_currency"),
        ("term_months", "pricing.invalid_term"),
        ("lines[0].quantity", "pricing.quantity_not_positive"),
        ("lines[1].sku", "pricing.missing_sku"),
        ("lines[2].key", "pricing.duplicate_key"),
    ]
    assert "(and 5 more problems)" in exc.value.message


def test_a_line_must_hang_off_a_bundle_line():
    a = product("A", one_time(per_unit("1.00")))
    b = product("B", one_time(per_unit("1.00")))
    with pytest.raises(PricingInputError) as exc:
        price(
            snapshot(a, b),
            request(
                {
                    "lines": [
                        {"key": "1", "sku": "A", "quantity": 1},
                        {"sku": "B", "quantity": 1, "parent": "1"},
                        {"sku": "B", "quantity": 1, "parent": "9"},
                    ]
                }
            ),
        )
    assert errors_of(exc) == [
        ("lines[1].parent", "pricing.parent_not_bundle"),
        ("lines[2].parent", "pricing.unknown_parent"),
    ]


def test_no_lines_is_a_bad_request():
    with pytest.raises(PricingInputError) as exc:
        request({"lines": []})
    assert errors_of(exc) == [("lines", "pricing.no_lines")]


# --- properties ----------------------------------------------------------------------------

MODELS = [
    per_unit("19.99"),
    PriceModel(PriceModelKind.FLAT, price=D("250.00")),
    PriceModel(
        PriceModelKind.TIERED, tiers=tiers(("0", "10", "9.99"), ("10", "100", "7.50"), ("100", None, "3.333"))
    ),
    PriceModel(PriceModelKind.VOLUME, tiers=tiers(("0", "10", "9.99"), ("10", None, "7.25"))),
    PriceModel(PriceModelKind.PACKAGE, price=D("45.00"), block_size=D(25)),
    per_unit("0.0049", minimum=D("5.00"), maximum=D("10000.00")),
]


def _property_catalog():
    products = []
    for i, model in enumerate(MODELS):
        products.append(product(f"O{i}", one_time(model), family="f"))
        products.append(product(f"M{i}", monthly(model), family="f", cost=D("1.10")))
        products.append(product(f"Q{i}", monthly(model, months=3), family="g"))
    products.append(
        product(
            "PCT",
            monthly(
                PriceModel(PriceModelKind.PERCENT, percent=D("17.5"), percent_of_families=frozenset({"f"}))
            ),
        )
    )
    schedule = DiscountSchedule(
        9, "V", "Volume", ScheduleKind.VOLUME, ((D(5), D("2.5")), (D(50), D(7))), families=frozenset({"f"})
    )
    promo = Promotion(9, "P", "Promo", percent=D("3.3"))
    return snapshot(*products, schedules=(schedule,), promotions={"P": promo})


CATALOG = _property_catalog()
SKUS = sorted(CATALOG.products)

discounts = st.one_of(
    st.none(),
    st.decimals(min_value=D(0), max_value=D(100), places=2).map(lambda p: {"percent": str(p)}),
    st.decimals(min_value=D(0), max_value=D(50), places=2).map(lambda p: {"target_price": str(p)}),
)
lines = st.lists(
    st.fixed_dictionaries(
        {
            "sku": st.sampled_from(SKUS),
            "quantity": st.integers(min_value=1, max_value=500),
            "discount": discounts,
        }
    ),
    min_size=1,
    max_size=12,
)


def _request(items, term, codes):
    data = {
        "term_months": term,
        "promotion_codes": codes,
        "lines": [{k: v for k, v in i.items() if v is not None} for i in items],
    }
    return request(data)


@settings(max_examples=150, deadline=None)
@given(lines, st.integers(min_value=1, max_value=60), st.sampled_from([[], ["P"]]))
def test_totals_equal_the_sum_of_the_lines(items, term, codes):
    result = price(CATALOG, _request(items, term, codes))
    t = result.totals
    one_time_sum = sum((x.net for x in result.lines if x.charge_kind == "one_time"), D(0))
    assert t.one_time.amount == one_time_sum
    for period, amount in t.recurring.items():
        assert amount.amount == sum(
            (x.net for x in result.lines if x.billing_period == period and x.charge_kind == "recurring"), D(0)
        )
    assert t.tcv.amount == sum((x.tcv for x in result.lines), D(0))
    assert t.list_tcv.amount == sum((x.list_tcv for x in result.lines), D(0))
    assert t.mrr.amount == sum((x.mrr for x in result.lines), D(0))
    assert t.arr.amount == sum((x.arr for x in result.lines), D(0))
    assert t.discount.amount == t.list_tcv.amount - t.tcv.amount
    for line in result.lines:
        assert line.steps[-1].amount == line.net
        assert line.net == line.net.quantize(D("0.01"))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SKUS), st.integers(min_value=1, max_value=10000), st.sampled_from([[], ["P"]]))
def test_a_full_discount_gives_zero_never_less(sku, quantity, codes):
    result = price(
        CATALOG, _request([{"sku": sku, "quantity": quantity, "discount": {"percent": "100"}}], 12, codes)
    )
    for line in result.lines:
        assert line.net == 0
        assert all(step.amount >= 0 for step in line.steps)
    assert result.totals.tcv.amount == 0


@settings(max_examples=100, deadline=None)
@given(lines, st.integers(min_value=1, max_value=60))
def test_without_credit_lines_no_amount_is_negative(items, term):
    result = price(CATALOG, _request(items, term, ["P"]))
    for line in result.lines:
        assert all(step.amount >= 0 for step in line.steps)
        assert line.tcv >= 0


@settings(max_examples=50, deadline=None)
@given(lines, st.integers(min_value=1, max_value=60))
def test_the_same_request_always_prices_the_same(items, term):
    first = price(CATALOG, _request(items, term, ["P"])).as_dict()
    second = price(CATALOG, _request(items, term, ["P"])).as_dict()
    assert first == second


def test_every_priced_line_and_step_has_all_its_fields():
    # The engine builds results with tuple.__new__ for speed: this guards their shape.
    from q2c.catalog.pricing import PricedLine, Step

    _, snap = widget_catalog()
    result = price(
        snap,
        request(
            {"lines": [{"sku": "WIDGET", "quantity": 20, "discount": {"percent": "5"}}, {"credit": "-1.00"}]}
        ),
    )
    for line in result.lines:
        assert len(line) == len(PricedLine._fields)
        assert all(len(step) == len(Step._fields) for step in line.steps)
    assert result.lines[0].charge_id == snap.products["WIDGET"].charges[0].id

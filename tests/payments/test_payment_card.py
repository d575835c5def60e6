"""Card payments through the sandbox gateway: the test cards (success, declined, insufficient
funds, 3-D Secure with its extra step), settlement after the delay by a signed webhook with the
gateway's fee, webhooks duplicated, replayed, out of order or badly signed, disputes reported by
webhook, and a card payment for an invoice already paid.

Northwind's invoice 2,261.00; the sandbox fee is 1.4 % + 0.25: 2,261.00 × 1.4 % = 31.654 → 31.65,
+ 0.25 = 31.90.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.invoicing.checks import ar_control
from q2c.payments import gateways, services
from q2c.payments.checks import receivables
from q2c.payments.models import GatewayCharge, Payment, WebhookDelivery
from q2c.platform.models import Event
from tests.payments.world import at, balances, customer, eur, invoice, seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    clk = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    return clk, acme, northwind, invoice(northwind)


def ties() -> None:
    assert ar_control() == [] and receivables() == []


def test_the_sandbox_fee_is_percent_plus_fixed_rounded_once():
    from q2c.core.money import Money

    gw = gateways.SandboxGateway(D("1.4"), Money(D("0.25"), "EUR"))
    assert gw.fee(Money(D("2261.00"), "EUR")) == Money(D("31.90"), "EUR")


@pytest.mark.parametrize(
    ("number", "ok"),
    [("4242424242424242", True), ("4242 4242 4242 4241", False), ("1234", False), ("<b>4242</b>", False)],
)
def test_card_numbers_are_luhn_checked(number, ok):
    assert gateways.luhn_ok(number.replace(" ", "")) is ok


def test_a_good_card_pays_the_invoice_and_settles_after_two_days_with_the_fee(world):
    clk, acme, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], "4242 4242 4242 4242")
    assert (charge.status, charge.card_last4, charge.settle_on) == ("captured", "4242", date(2027, 3, 3))
    inv.refresh_from_db()
    assert inv.status == "paid"
    assert balances(acme)["payment_clearing"] == D("2261.00")
    assert services.sandbox_settle_due() == {"settled": 0}  # not yet due
    clk.set(date(2027, 3, 3))
    assert services.sandbox_settle_due() == {"settled": 1}
    b = balances(acme)
    assert (b["bank"], b["bank_fees"], b.get("payment_clearing")) == (D("2229.10"), D("31.90"), None)
    assert services.sandbox_settle_due() == {"settled": 0}  # settled once
    ties()


@pytest.mark.parametrize(("number", "code"), [("4000000000000002", "card_declined"), ("4000000000009995", "insufficient_funds")])
def test_a_declined_card_records_a_failed_payment_and_leaves_the_invoice_open(world, number, code):
    _, acme, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], number)
    assert (charge.status, charge.failure_code) == ("failed", code)
    payment = Payment.objects.get(pk=charge.payment_id)
    assert (payment.status, payment.failure_code) == ("failed", code)
    inv.refresh_from_db()
    assert inv.status == "issued"
    assert Event.objects.filter(type="payments.payment.failed", payload__code=code).count() == 1
    assert "payment_clearing" not in balances(acme)


def test_3d_secure_waits_for_the_challenge_then_pays(world):
    _, _, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], "4000000000003220")
    assert charge.status == "requires_action"
    inv.refresh_from_db()
    assert inv.status == "issued"
    charge = services.confirm_card(charge.pk, passed=True)
    assert charge.status == "captured"
    inv.refresh_from_db()
    assert inv.status == "paid"
    with pytest.raises(DomainError):
        services.confirm_card(charge.pk, passed=True)
    ties()


def test_3d_secure_failed_leaves_the_invoice_open(world):
    _, _, northwind, inv = world
    charge = services.confirm_card(services.pay_by_card(northwind.pk, [inv.pk], "4000000000003220").pk, passed=False)
    assert (charge.status, charge.failure_code) == ("failed", "authentication_failed")


def test_a_card_payment_for_an_invoice_already_paid_is_refused_and_nothing_is_charged(world):
    _, _, northwind, inv = world
    services.pay_by_card(northwind.pk, [inv.pk], "4242424242424242")
    with pytest.raises(DomainError) as err:
        services.pay_by_card(northwind.pk, [inv.pk], "4242424242424242")
    assert err.value.code == "payments.already_paid"
    assert GatewayCharge.objects.count() == 1


def test_an_invalid_card_number_is_refused(world):
    _, _, northwind, inv = world
    with pytest.raises(DomainError) as err:
        services.pay_by_card(northwind.pk, [inv.pk], "4242424242424241")
    assert (err.value.code, err.value.field) == ("payments.invalid_card", "card_number")
    assert not Payment.objects.exists()


def test_a_duplicated_webhook_is_applied_once(world):
    clk, acme, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], "4242424242424242")
    clk.set(date(2027, 3, 3))
    body, sig = services.sandbox_event(charge, "charge.settled", status="settled")
    assert services.handle_webhook("sandbox", body, sig) == "applied"
    assert services.handle_webhook("sandbox", body, sig) == "duplicate"
    assert balances(acme)["bank"] == D("2229.10")
    assert WebhookDelivery.objects.count() == 1


def test_webhooks_out_of_order_converge_on_the_newest_state(world):
    clk, _acme, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], "4242424242424242")
    clk.set(date(2027, 3, 3))
    t0 = clock.now()
    older = services.sandbox_event(charge, "charge.captured", status="captured", created=t0 - timedelta(hours=1))
    newer = services.sandbox_event(charge, "charge.settled", status="settled", created=t0)
    assert services.handle_webhook("sandbox", *newer) == "applied"
    assert services.handle_webhook("sandbox", *older) == "stale"
    charge.refresh_from_db()
    assert charge.status == "settled"
    ties()


def test_a_dispute_lost_reported_before_its_opening_still_reverses_once(world):
    _clk, acme, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], "4242424242424242")
    t0 = clock.now()
    opened = services.sandbox_event(charge, "charge.dispute.created", dispute={"id": "dp_1", "status": "open", "reason": "fraudulent"},
                                    created=t0 + timedelta(hours=1))  # fmt: skip
    lost = services.sandbox_event(charge, "charge.dispute.closed", dispute={"id": "dp_1", "status": "lost", "fee": "15.00"},
                                  created=t0 + timedelta(hours=2))  # fmt: skip
    assert services.handle_webhook("sandbox", *lost) == "applied"
    assert services.handle_webhook("sandbox", *opened) == "stale"
    payment = Payment.objects.get(pk=charge.payment_id)
    assert payment.status == "reversed"
    b = balances(acme)
    # Clearing: +2,261.00 captured − 2,261.00 charged back − 15.00 fee.
    assert (b["payment_clearing"], b["bank_fees"], b["ar"]) == (D("-15.00"), D("15.00"), D("2261.00"))
    inv.refresh_from_db()
    assert inv.status == "issued"
    ties()


@pytest.mark.parametrize("tamper", ["signature", "body", "old"])
def test_a_badly_signed_or_replayed_webhook_is_refused_and_changes_nothing(world, tamper):
    clk, _acme, northwind, inv = world
    charge = services.pay_by_card(northwind.pk, [inv.pk], "4242424242424242")
    body, sig = services.sandbox_event(charge, "charge.settled", status="settled")
    if tamper == "signature":
        sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    elif tamper == "body":
        body = body.replace(b'"settled"', b'"settled" ', 1)
    else:
        clk.set(date(2027, 3, 2))  # the same signed delivery a day later: older than 5 minutes
    with pytest.raises(DomainError) as err:
        services.handle_webhook("sandbox", body, sig)
    assert err.value.code == "payments.invalid_signature"
    assert not WebhookDelivery.objects.exists()
    charge.refresh_from_db()
    assert charge.status == "captured"


def test_a_card_refund_goes_back_through_the_gateway_and_only_what_is_unapplied(world):
    _, acme, northwind, inv = world
    # A card payment of 2,300.00 of which 2,261.00 pays the invoice: 39.00 can go back to the card.
    pay = services.record_payment(northwind.pk, eur("2300.00"), method="card", external_id="ch_manual",
                                  allocations=[(inv.pk, None)])  # fmt: skip
    with pytest.raises(DomainError) as err:
        services.refund_card(pay.pk, eur("39.01"))
    assert err.value.code == "payments.invalid_refund"
    row = services.refund_card(pay.pk)
    assert (row.amount, row.method, row.external_id[:3]) == (eur("39.00"), "original", "re_")
    assert balances(acme)["payment_clearing"] == D("2261.00")
    ties()

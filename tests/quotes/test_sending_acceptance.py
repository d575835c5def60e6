"""Sending a quote and the customer's decision through the signed link: signature evidence,
replays, tampering, expiry, superseded versions, and QuoteAccepted for the contracts app.

Figures are Northwind's (/work/shared/scenarios/northwind.md, steps 1–2).
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from django.core import mail

from q2c.core.errors import InvalidTransition
from q2c.platform import links
from q2c.platform.events import bus
from q2c.platform.models import Event
from q2c.quotes import queries, services
from q2c.quotes.errors import LinkExpired, LinkInvalid, QuoteConflict, QuoteInvalid
from q2c.quotes.models import Acceptance, Opportunity, Quote
from tests.quotes.helpers import approve, send

pytestmark = pytest.mark.django_db


def accept(token: str, **kw):
    kw.setdefault("signer_name", "Nora North")
    kw.setdefault("signer_title", "Managing Director")
    kw.setdefault("agree", True)
    kw.setdefault("ip", "203.0.113.7")
    kw.setdefault("user_agent", "Mozilla/5.0 (test)")
    return services.accept_quote(token, **kw)


def test_sending_stores_the_pdf_with_its_sha256_and_emails_a_signed_link(
    world, northwind_quote, on_day, django_capture_on_commit_callbacks
):
    approve(northwind_quote, world["rita"], world["max"])
    on_day(date(2027, 1, 12))
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.send_quote(northwind_quote.pk, actor=world["rita"], base_url="https://q2c.example")
    document = sent.document
    assert bytes(document.pdf).startswith(b"%PDF")
    assert document.sha256 == hashlib.sha256(bytes(document.pdf)).hexdigest()
    assert sent.url == f"https://q2c.example/quotes/accept/{sent.token}/"
    claims = links.read_token(sent.token, services.LINK_PURPOSE)
    assert claims.object_id == str(document.pk)
    # The link works to the end of the validity date (2027-02-09) in Berlin.
    assert claims.expires_at.isoformat() == "2027-02-09T23:00:00+00:00"
    q = Quote.objects.get(pk=northwind_quote.pk)
    assert q.status == "sent" and q.sent_at.date() == date(2027, 1, 12)
    (message,) = [m for m in mail.outbox if m.to == ["nora@northwind.example"]]
    assert sent.url in message.body and document.sha256 in message.body


def test_only_an_approved_primary_quote_is_sent(world, opportunity, northwind_quote):
    with pytest.raises(InvalidTransition):
        services.send_quote(northwind_quote.pk, actor=world["rita"])
    other = services.create_quote(
        actor=world["rita"], opportunity_id=opportunity.pk, lines=[{"sku": "ONB", "quantity": "1"}]
    )
    approve(other, world["rita"], world["max"])
    with pytest.raises(QuoteConflict) as caught:
        services.send_quote(other.pk, actor=world["rita"])
    assert caught.value.code == "quotes.not_primary"


def test_a_quote_without_a_recipient_is_not_sent(world, northwind_quote):
    q = Quote.objects.get(pk=northwind_quote.pk)
    services.update_quote(q.pk, actor=world["rita"], lock_version=1, changes={"contact_email": ""})
    approve(q, world["rita"], world["max"])
    with pytest.raises(QuoteInvalid) as caught:
        services.send_quote(q.pk, actor=world["rita"])
    assert caught.value.code == "quotes.no_recipient"
    assert Quote.objects.get(pk=q.pk).status == "approved"


def test_acceptance_records_the_signature_evidence_and_wins_the_opportunity(world, northwind_quote, on_day):
    on_day(date(2027, 1, 12))
    sent = send(northwind_quote, world["rita"], world["max"])
    on_day(date(2027, 1, 20))
    acceptance = accept(sent.token)
    assert (acceptance.signer_name, acceptance.signer_title) == ("Nora North", "Managing Director")
    assert acceptance.ip_address == "203.0.113.7"
    assert acceptance.user_agent == "Mozilla/5.0 (test)"
    assert acceptance.document_sha256 == sent.document.sha256
    assert acceptance.decided_at.isoformat() == "2027-01-20T08:00:00+00:00"
    q = Quote.objects.get(pk=northwind_quote.pk)
    assert q.status == "accepted"
    opp = Opportunity.objects.get(pk=q.opportunity_id)
    assert (opp.stage, opp.probability, opp.closed_on) == ("closed_won", 100, date(2027, 1, 20))


def test_quote_accepted_carries_what_the_contracts_app_needs(world, northwind_quote, on_day):
    seen = []
    bus.subscribe("quotes.quote.accepted", seen.append)
    try:
        sent = send(northwind_quote, world["rita"], world["max"])
        accept(sent.token)
    finally:
        bus._handlers["quotes.quote.accepted"].remove(seen.append)
    (event,) = seen
    payload = event.payload
    assert payload == {
        **queries.accepted_quote(northwind_quote.pk),
        "ip_address": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (test)",
    }
    assert (payload["number"], payload["version"], payload["currency"]) == ("Q-2027-000001", 1, "EUR")
    assert (payload["account_id"], payload["entity_id"]) == (world["account"].pk, world["entity"].pk)
    assert (payload["start_date"], payload["end_date"], payload["term_months"]) == (
        "2027-02-01",
        "2028-02-01",
        12,
    )
    seat = next(line for line in payload["lines"] if line["sku"] == "SEAT")
    assert (seat["quantity"], seat["net_unit_price"], seat["discount_percent"]) == ("50", "25.50", "15")
    assert (seat["charge"], seat["charge_kind"], seat["billing_frequency"], seat["sale_context"]) == (
        "SUBSCRIPTION",
        "recurring",
        "month",
        "new",
    )
    assert seat["product_id"] and seat["charge_id"]
    api = next(line for line in payload["lines"] if line["sku"] == "API")
    assert [t["unit_price"] for t in api["rate_card"]] == ["0.00", "0.002", "0.001"]
    assert Event.objects.get(type="quotes.quote.accepted").occurred_at == Acceptance.objects.get().decided_at


def test_a_handler_that_fails_aborts_the_acceptance(world, northwind_quote):
    def broken(event):
        raise RuntimeError("contract could not be created")

    bus.subscribe("quotes.quote.accepted", broken)
    try:
        sent = send(northwind_quote, world["rita"], world["max"])
        with pytest.raises(RuntimeError):
            accept(sent.token)
    finally:
        bus._handlers["quotes.quote.accepted"].remove(broken)
    assert Quote.objects.get(pk=northwind_quote.pk).status == "sent"
    assert not Acceptance.objects.exists()


def test_a_second_acceptance_is_refused_and_the_first_stands(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    first = accept(sent.token)
    with pytest.raises(QuoteConflict) as caught:
        accept(sent.token, signer_name="Mallory")
    assert caught.value.code == "quotes.already_decided"
    with pytest.raises(QuoteConflict):
        services.reject_quote(sent.token, reason="changed my mind")
    assert list(Acceptance.objects.values_list("pk", "signer_name")) == [(first.pk, "Nora North")]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t.replace(t.split(":")[0], t.split(":")[0][::-1], 1),  # payload changed
        lambda t: "",
        lambda t: "not-a-token",
    ],
)
def test_a_tampered_link_opens_nothing(world, northwind_quote, tamper):
    sent = send(northwind_quote, world["rita"], world["max"])
    with pytest.raises(LinkInvalid) as caught:
        accept(tamper(sent.token))
    assert caught.value.code == "links.tampered" and caught.value.status == 404
    assert not Acceptance.objects.exists()


def test_a_link_for_another_purpose_or_document_does_not_open_the_quote(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    other = links.make_token("contract-signature", sent.document.pk, sent.document.link_expires_at)
    with pytest.raises(LinkInvalid):
        accept(other)
    unknown = links.make_token(services.LINK_PURPOSE, 999999, sent.document.link_expires_at)
    with pytest.raises(LinkInvalid):
        accept(unknown)


def test_an_expired_link_is_refused(world, northwind_quote, on_day):
    sent = send(northwind_quote, world["rita"], world["max"])
    on_day(date(2027, 2, 10))  # the quote was valid until 2027-02-09
    with pytest.raises(LinkExpired) as caught:
        accept(sent.token)
    assert caught.value.code == "links.expired" and caught.value.status == 410


def test_editing_after_sending_retires_the_link(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    q = Quote.objects.get(pk=northwind_quote.pk)
    services.update_quote(
        q.pk, actor=world["rita"], lock_version=q.lock_version, changes={"title": "changed"}
    )
    with pytest.raises(InvalidTransition):
        accept(sent.token)
    again = send(Quote.objects.get(pk=q.pk), world["rita"], world["max"])
    with pytest.raises(QuoteConflict) as caught:
        accept(sent.token)
    assert caught.value.code == "quotes.link_not_current"
    accept(again.token)
    assert Acceptance.objects.get().document_id == again.document.pk


def test_a_superseded_version_cannot_be_accepted(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    services.revise_quote(northwind_quote.pk, actor=world["rita"])
    with pytest.raises(QuoteConflict) as caught:
        accept(sent.token)
    assert caught.value.code == "quotes.superseded"


def test_acceptance_needs_a_name_a_title_and_the_ticked_box(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    for kw, field in (
        ({"signer_name": " "}, "signer_name"),
        ({"signer_title": ""}, "signer_title"),
        ({"agree": False}, "agree"),
    ):
        with pytest.raises(QuoteInvalid) as caught:
            accept(sent.token, **kw)
        assert caught.value.field == field
    assert not Acceptance.objects.exists()


def test_the_customer_may_decline_with_a_reason(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    with pytest.raises(QuoteInvalid):
        services.reject_quote(sent.token, reason="")
    decision = services.reject_quote(
        sent.token, reason="Budget frozen", signer_name="Nora North", ip="2001:db8::1"
    )
    assert (decision.outcome, decision.reason, decision.ip_address) == (
        "rejected",
        "Budget frozen",
        "2001:db8::1",
    )
    assert Quote.objects.get(pk=northwind_quote.pk).status == "rejected"
    assert Opportunity.objects.get(pk=northwind_quote.opportunity_id).stage == "prospecting"
    with pytest.raises(QuoteConflict):
        accept(sent.token)


def test_the_daily_job_expires_sent_quotes_past_their_validity_once(world, northwind_quote, on_day):
    sent = send(northwind_quote, world["rita"], world["max"])
    assert services.expire_quotes(date(2027, 2, 9)) == {"expired": 0, "quotes": []}
    assert services.expire_quotes(date(2027, 2, 10)) == {"expired": 1, "quotes": ["Q-2027-000001 v1"]}
    assert services.expire_quotes(date(2027, 2, 10)) == {"expired": 0, "quotes": []}
    assert Quote.objects.get(pk=northwind_quote.pk).status == "expired"
    on_day(date(2027, 2, 9))
    with pytest.raises(InvalidTransition):
        accept(sent.token)


def test_the_expiry_job_is_registered_for_the_worker():
    from q2c.platform.registry import jobs

    assert jobs.get("quotes.expire").run is services.expire_quotes

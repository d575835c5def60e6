"""A contract is created when a quote is accepted, inside the acceptance transaction, with every
line linked to its quote line and the accepted document; and from plain input, with bad input
refused and nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from q2c.contracts import services
from q2c.contracts.errors import ContractInvalid
from q2c.contracts.models import Contract, ContractLine, ContractVersion, Signature
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db


def test_accepting_the_northwind_quote_creates_contract_c1_active_with_its_lines(world, on_day):
    quote = builders.accept_northwind_quote(world, on_day)
    contract = Contract.objects.get(source_quote_id=quote.pk)
    # northwind.md step 2: C-1 [2027-02-01, 2028-02-01), number from CON-2027-000001.
    assert (contract.number, contract.status) == ("CON-2027-000001", "active")
    assert (contract.start_date, contract.end_date, contract.term_months) == (
        date(2027, 2, 1),
        date(2028, 2, 1),
        12,
    )
    assert (contract.account_id, contract.entity_id, contract.currency) == (
        world["account"].pk,
        world["entity"].pk,
        "EUR",
    )
    assert contract.payment_terms_days == 30
    assert contract.sale_context == "new"
    lines = list(ContractLine.objects.filter(version__contract=contract).order_by("position"))
    assert [(x.sku, x.charge_kind, x.quantity, x.net_unit_price) for x in lines] == [
        ("SEAT", "recurring", Decimal(50), Decimal("25.50")),
        ("ONB", "one_time", Decimal(1), Decimal("5000.00")),
        ("EDGE", "one_time", Decimal(2), Decimal("2000.00")),
        ("API", "usage", lines[3].quantity, None),
    ]
    assert all(x.quote_id == quote.pk for x in lines)
    assert [x.quote_line_key for x in lines] == ["1", "2", "3", "4"]
    sha = quote.documents.get().sha256
    assert contract.accepted_document_sha256 == sha and all(x.document_sha256 == sha for x in lines)
    seat = lines[0]
    assert (seat.service_start, seat.service_end, seat.sale_context, seat.revenue_rule) == (
        date(2027, 2, 1),
        date(2028, 2, 1),
        "new",
        "ratable",
    )
    assert seat.ssp_unit == Decimal("30.00")
    # One-time 5,000 + 4,000 = 9,000.00; 1,275.00 a month; value 15,300 + 9,000 = 24,300.00 (step 1).
    assert (str(contract.one_time.amount), str(contract.mrr.amount), str(contract.value.amount)) == (
        "9000.00",
        "1275.00",
        "24300.00",
    )
    signature = Signature.objects.get(contract=contract)
    assert (signature.method, signature.signer_name, signature.ip_address, signature.document_sha256) == (
        "quote_acceptance",
        "Nora North",
        "203.0.113.7",
        sha,
    )


def test_the_contract_events_follow_the_acceptance_in_one_transaction(world, on_day):
    quote = builders.accept_northwind_quote(world, on_day)
    types = list(
        Event.objects.filter(seq__gte=Event.objects.get(type="quotes.quote.accepted").seq)
        .order_by("seq")
        .values_list("type", flat=True)
    )
    assert types[:4] == [
        "quotes.quote.accepted",
        "contracts.contract.created",
        "contracts.contract.signed",
        "contracts.contract.activated",
    ]
    activated = Event.objects.get(type="contracts.contract.activated")
    assert activated.payload["source_quote_id"] == quote.pk
    seat = activated.payload["lines"][0]
    assert (seat["sku"], seat["quantity"], seat["net_unit_price"], seat["amount"]) == (
        "SEAT",
        "50",
        "25.50",
        {"amount": "1275.00", "currency": "EUR"},
    )
    assert (seat["service_start"], seat["service_end"], seat["value"]["amount"]) == (
        "2027-02-01",
        "2028-02-01",
        "15300.00",
    )


def test_a_failing_contract_handler_aborts_the_acceptance(world, on_day, monkeypatch):
    from q2c.contracts.services import creation
    from q2c.quotes.models import Acceptance, Quote

    def boom(*args, **kwargs):
        raise ContractInvalid("no", code="contracts.boom", field="x")

    monkeypatch.setattr(creation, "clean_lines", boom)
    with pytest.raises(ContractInvalid):
        builders.accept_northwind_quote(world, on_day)
    assert Contract.objects.count() == 0
    assert Acceptance.objects.count() == 0
    assert Quote.objects.get().status == "sent"


def test_without_signature_on_acceptance_the_contract_waits_in_draft(world, on_day):
    services.save_settings(world["entity"].pk, {"signature_on_acceptance": False}, actor="test")
    quote = builders.accept_northwind_quote(world, on_day)
    contract = Contract.objects.get(source_quote_id=quote.pk)
    assert contract.status == "draft"
    assert not Event.objects.filter(type="contracts.contract.activated").exists()


def test_version_one_holds_the_library_clauses_with_the_contract_terms(contract):
    version = ContractVersion.objects.get(contract=contract, number=1)
    keys = [c["key"] for c in version.clauses]
    assert keys == [
        "term-and-renewal",
        "payment-terms",
        "cancellation",
        "confidentiality",
        "liability",
        "governing-law",
    ]
    payment = next(c for c in version.clauses if c["key"] == "payment-terms")
    assert "payable within 30 days" in payment["text"]
    law = next(c for c in version.clauses if c["key"] == "governing-law")
    assert law["text"].endswith("is governed by the laws of Germany.")
    assert "runs from 2027-02-01 to 2028-01-31 (12 months)" in version.document_text
    assert "50 × SEAT Platform seat at 25.50 EUR per month" in version.document_text
    assert not version.deviates


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"currency": "EURO"}, "contracts.invalid_currency", "currency"),
        ({"term_months": 0}, "contracts.invalid_number", "term_months"),
        ({"lines": []}, "contracts.no_lines", "lines"),
        ({"billing_frequency": "weekly"}, "contracts.invalid_choice", "billing_frequency"),
        ({"notice_days": -1}, "contracts.invalid_number", "notice_days"),
        ({"renewal_uplift_percent": Decimal(-100)}, "contracts.invalid_percent", "renewal_uplift_percent"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(world, change, code, field):
    with pytest.raises(ContractInvalid) as err:
        services.create_contract(
            builders.new_contract(world["entity"], world["account"], **change), actor="test"
        )
    assert (err.value.code, err.value.field) == (code, field)
    assert Contract.objects.count() == 0 and not Event.objects.filter(type__startswith="contracts.").exists()


def test_a_bad_line_is_refused_naming_the_line(world):
    from q2c.contracts.services import NewContractLine

    lines = [
        *builders.northwind_lines(),
        NewContractLine(
            sku="X", charge="Y", charge_kind="recurring", quantity=Decimal(-1), unit_price=Decimal(1)
        ),
    ]
    with pytest.raises(ContractInvalid) as err:
        services.create_contract(
            builders.new_contract(world["entity"], world["account"], lines=lines), actor="test"
        )
    assert (err.value.code, err.value.field) == ("contracts.invalid_quantity", "lines[4].quantity")
    assert Contract.objects.count() == 0


def test_numbers_are_gapless_per_entity_and_year(world):
    first = services.create_contract(builders.new_contract(world["entity"], world["account"]), actor="test")
    with pytest.raises(ContractInvalid):
        services.create_contract(
            builders.new_contract(world["entity"], world["account"], lines=[]), actor="test"
        )
    second = services.create_contract(builders.new_contract(world["entity"], world["account"]), actor="test")
    assert (first.number, second.number) == ("CON-2027-000001", "CON-2027-000002")

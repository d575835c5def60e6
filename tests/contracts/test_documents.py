"""The clause library, negotiation versions with a redline, internal approval of departures from
the library, and the customer's signature through a signed link with its evidence."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest

from q2c.contracts import queries, services
from q2c.contracts.errors import ContractConflict, ContractForbidden, ContractInvalid
from q2c.contracts.models import Clause, ClauseVersion, Contract, ContractVersion, Signature
from q2c.core.errors import InvalidTransition
from q2c.platform.links import LinkError
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db

LONGER_TERMS = "Invoices are payable within 45 days of the invoice date."


@pytest.fixture
def draft(world, on_day):
    on_day(date(2027, 1, 20))
    return services.create_contract(
        builders.new_contract(world["entity"], world["account"]), actor=world["rita"]
    )


def test_a_clause_departing_from_the_library_needs_approval_before_it_is_sent(world, draft):
    version = services.revise_document(
        draft.pk,
        actor=world["rita"],
        lock_version=draft.lock_version,
        clause_texts={"payment-terms": LONGER_TERMS},
        note="customer asks 45 days",
    )
    assert (version.number, version.kind, version.deviates, version.approval) == (
        2,
        "negotiation",
        True,
        "pending",
    )
    draft.refresh_from_db()
    with pytest.raises(ContractConflict) as err:
        services.send_for_signature(draft.pk, actor=world["rita"], lock_version=draft.lock_version)
    assert err.value.code == "contracts.needs_approval"
    with pytest.raises(ContractForbidden):
        services.decide_version(draft.pk, 2, actor=world["rita"], approve=True)  # not one's own
    services.decide_version(draft.pk, 2, actor=world["max"], approve=True, comment="fine for this customer")
    draft.refresh_from_db()
    contract, token = services.send_for_signature(
        draft.pk, actor=world["rita"], lock_version=draft.lock_version, email="nora@northwind.example"
    )
    assert contract.status == "pending_signature"
    assert token


def test_going_back_to_the_library_text_needs_no_approval(world, draft):
    services.revise_document(
        draft.pk,
        actor=world["rita"],
        lock_version=draft.lock_version,
        clause_texts={"payment-terms": LONGER_TERMS},
    )
    draft.refresh_from_db()
    version = services.revise_document(
        draft.pk, actor=world["rita"], lock_version=draft.lock_version, clause_texts={"payment-terms": None}
    )
    assert (version.number, version.deviates, version.approval) == (3, False, "not_needed")


def test_the_redline_between_two_versions_shows_the_changed_words(world, draft):
    services.revise_document(
        draft.pk,
        actor=world["rita"],
        lock_version=draft.lock_version,
        clause_texts={"payment-terms": LONGER_TERMS},
    )
    red = queries.compare(draft, 1, 2)
    assert "<del>" in red.html and "<ins>" in red.html
    assert "<ins>45</ins>" in red.html
    assert red.stats["inserted"] >= 1 and red.stats["deleted"] >= 1
    back = queries.compare(draft, 2, 1)
    assert "<del>45</del>" in back.html


def test_the_signature_records_signer_time_address_agent_and_document_hash(world, draft, on_day):
    contract, token = services.send_for_signature(
        draft.pk, actor=world["rita"], lock_version=draft.lock_version
    )
    version = ContractVersion.objects.get(contract=contract, number=1)
    assert version.pdf_sha256 == hashlib.sha256(bytes(version.pdf)).hexdigest()
    assert bytes(version.pdf).startswith(b"%PDF")
    on_day(date(2027, 1, 22))
    signature = services.sign(
        token,
        signer_name="Nora North",
        signer_title="CFO",
        ip_address="203.0.113.7",
        user_agent="Firefox/130",
    )
    contract.refresh_from_db()
    assert contract.status == "active"
    assert (
        signature.method,
        signature.signer_name,
        signature.signer_title,
        signature.ip_address,
        signature.user_agent,
    ) == (
        "link",
        "Nora North",
        "CFO",
        "203.0.113.7",
        "Firefox/130",
    )
    assert signature.document_sha256 == version.pdf_sha256
    assert signature.signed_at.date() == date(2027, 1, 22)
    assert (
        Event.objects.filter(type="contracts.contract.activated", aggregate_id=str(contract.pk)).count() == 1
    )
    with pytest.raises(InvalidTransition):
        services.sign(token, signer_name="Nora North")  # signing twice
    assert Signature.objects.count() == 1


def test_signing_a_superseded_version_is_refused_and_changes_nothing(world, draft):
    contract, token = services.send_for_signature(
        draft.pk, actor=world["rita"], lock_version=draft.lock_version
    )
    contract.refresh_from_db()
    services.revise_document(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        clause_texts={"payment-terms": LONGER_TERMS},
    )
    contract.refresh_from_db()
    assert contract.status == "draft"  # the new version took the contract back from signature
    with pytest.raises(ContractConflict) as err:
        services.sign(token, signer_name="Nora North")
    assert (err.value.code, err.value.status) == ("contracts.version_superseded", 409)
    assert Signature.objects.count() == 0
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def test_a_tampered_or_expired_link_is_refused(world, draft, on_day):
    _, token = services.send_for_signature(draft.pk, actor=world["rita"], lock_version=draft.lock_version)
    with pytest.raises(LinkError) as err:
        services.sign(token[:-2] + "xx", signer_name="Nora North")
    assert err.value.code == "links.tampered"
    on_day(date(2027, 1, 20) + timedelta(days=31))
    with pytest.raises(LinkError) as err:
        services.sign(token, signer_name="Nora North")
    assert err.value.code == "links.expired"


def test_a_signature_needs_a_name_and_agreement(world, draft):
    _, token = services.send_for_signature(draft.pk, actor=world["rita"], lock_version=draft.lock_version)
    with pytest.raises(ContractInvalid) as err:
        services.sign(token, signer_name="  ")
    assert err.value.field == "signer_name"
    with pytest.raises(ContractInvalid) as err:
        services.sign(token, signer_name="Nora", agreed=False)
    assert err.value.field == "agreed"


def test_an_active_contract_text_changes_by_amendment_only(world, contract):
    with pytest.raises(ContractConflict) as err:
        services.revise_document(
            contract.pk,
            actor=world["rita"],
            lock_version=contract.lock_version,
            clause_texts={"payment-terms": LONGER_TERMS},
        )
    assert err.value.code == "contracts.not_negotiable"


def test_a_new_library_version_applies_to_new_contracts_and_old_ones_keep_theirs(world, draft):
    version = services.save_clause(
        "payment-terms",
        actor=world["max"],
        title="Payment terms",
        body="Invoices are due {{ payment_terms_days }} days after the invoice date.",
        note="plainer",
    )
    assert version.version == 2
    assert Clause.objects.get(key="payment-terms").current_version == 2
    assert ClauseVersion.objects.filter(clause__key="payment-terms").count() == 2
    old = ContractVersion.objects.get(contract=draft, number=1)
    assert next(c for c in old.clauses if c["key"] == "payment-terms")["library_version"] == 1
    newer = services.create_contract(builders.new_contract(world["entity"], world["account"]), actor="test")
    text = ContractVersion.objects.get(contract=newer, number=1).document_text
    assert "Invoices are due 30 days after the invoice date." in text


def test_a_clause_with_an_unknown_variable_is_refused(world):
    with pytest.raises(ContractInvalid) as err:
        services.save_clause("sla", actor=world["max"], title="SLA", body="Uptime {{ uptime }} %.")
    assert err.value.code == "contracts.unknown_variable"
    assert not Clause.objects.filter(key="sla").exists()

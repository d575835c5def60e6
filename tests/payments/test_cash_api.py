"""The cash-application API (``/api/v1/cash/``) with bearer tokens: a bank file uploaded, stored,
matched and applied; the same file again reported as duplicates; hostile and malformed uploads
refused with problem+json naming the code and nothing written; the workbench (list, suggestions,
apply by hand, not ours) and the account settings; and the pages' upload refusing hostile XML.

Amounts are those of northwind.md (step 4 totals, step 8 payments).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from q2c.invoicing.models import Invoice
from q2c.parties.models import BankAccount
from q2c.payments.cash.models import BankLine, StatementFile
from q2c.payments.models import Payment
from q2c.platform.auth import ApiToken
from tests.billing.world import user
from tests.payments.cash_world import northwind_on_statement_day
from tests.payments.support import camt, fixture_bytes

pytestmark = pytest.mark.django_db

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
    b"<Id>&lol2;</Id></Stmt></BkToCstmrStmt></Document>"
)


def client(role: str) -> Client:
    _, raw = ApiToken.issue(user(role, f"cash_{role}"), "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def story():
    entity, _northwind, invoices = northwind_on_statement_day()
    return entity, invoices


def upload(c: Client, name: str, data: bytes, **form: Any) -> Any:
    return c.post("/api/v1/cash/imports", {"file": SimpleUploadedFile(name, data), **form})


def test_finance_uploads_the_northwind_file_and_every_invoice_is_paid(story):
    _entity, _invoices = story
    finance = client("finance")
    first = upload(finance, "nw.xml", fixture_bytes("camt053_northwind.xml"))
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["format"], body["saved_lines"], body["duplicates"]) == ("camt.053.001.02", 4, 0)
    assert body["matching"]["applied"] == 4
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid"}
    again = upload(finance, "nw.xml", fixture_bytes("camt053_northwind.xml"))
    assert (again.json()["saved_lines"], again.json()["duplicates"], again.json()["file_id"]) == (0, 4, None)
    assert Payment.objects.count() == 4

    listed = finance.get("/api/v1/cash/lines?state=applied")
    assert listed.json()["total"] == 4
    line_id = next(i["id"] for i in listed.json()["items"] if i["amount"] == "4745.00")
    detail = finance.get(f"/api/v1/cash/lines/{line_id}").json()
    assert [(a["number"], a["amount"], a["fee"], a["how"]) for a in detail["applications"]] == [
        ("INV-2027-000002", "4745.00", "15.00", "auto")
    ]
    assert "bank_fee" in {r["code"] for r in detail["applications"][0]["reasons"]}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (LAUGHS, "payments.bank.xml_forbidden"),
        (fixture_bytes("camt053_northwind.xml")[:2500], "payments.bank.truncated"),
        (b"\x00\x01garbage;;;\n1;2;3\n", "payments.bank.csv_mapping_required"),
        (
            camt('<Ntry><Amt Ccy="EUR">1.005</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>'),
            "payments.bank.too_many_decimals",
        ),
    ],
)
def test_hostile_or_malformed_uploads_are_refused_with_problem_json_and_nothing_written(story, data, code):
    response = upload(client("finance"), "bad.xml", data)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert (StatementFile.objects.count(), BankLine.objects.count()) == (0, 0)


def test_an_upload_without_a_file_or_with_a_bad_account_is_refused(story):
    finance = client("finance")
    missing = finance.post("/api/v1/cash/imports", {})
    assert (missing.status_code, missing.json()["code"]) == (422, "payments_cash.invalid_application")
    bad = upload(finance, "nw.xml", fixture_bytes("camt053_northwind.xml"), bank_account_id="1; DROP")
    assert bad.status_code == 422 and bad.json()["code"] == "payments_cash.invalid_application"


def test_a_viewer_reads_the_workbench_but_cannot_upload_or_apply(story):
    viewer = client("viewer")
    assert viewer.get("/api/v1/cash/lines?state=open").status_code == 200
    assert upload(viewer, "nw.xml", fixture_bytes("camt053_northwind.xml")).status_code == 403
    assert BankLine.objects.count() == 0


def post(c: Client, url: str, body: dict[str, Any]) -> Any:
    return c.post(url, json.dumps(body), content_type="application/json")


def test_the_workbench_by_api_suggests_invoices_applies_by_hand_and_sets_lines_aside(story):
    _entity, invoices = story
    finance = client("finance")
    body = camt(
        '<Ntry><Amt Ccy="EUR">1683.66</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2027-04-26</Dt></BookgDt>'
        "<NtryDtls><TxDtls><RmtInf><Ustrd>Zahlung</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        '<Ntry><Amt Ccy="EUR">312.40</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2027-04-26</Dt></BookgDt>'
        "<NtryDtls><TxDtls><RmtInf><Ustrd>Erstattung &lt;b&gt;USt&lt;/b&gt;</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
    assert upload(finance, "apr.xml", body).status_code == 200
    queue = finance.get("/api/v1/cash/lines?state=open").json()
    assert queue["total"] == 2
    by_amount = {i["amount"]: i["id"] for i in queue["items"]}
    found = finance.get(f"/api/v1/cash/lines/{by_amount['1683.66']}/invoices?search=INV-2027-00000").json()
    assert {f["number"] for f in found} == {f"INV-2027-00000{n}" for n in range(1, 6)}
    applied = post(finance, f"/api/v1/cash/lines/{by_amount['1683.66']}/apply", {
        "allocations": [
            {"invoice_id": invoices["INV-2027-000003"].pk, "amount": "1517.25"},
            {"invoice_id": invoices["INV-2027-000004"].pk, "amount": "166.41"},
        ],
        "note": "split by hand",
    })  # fmt: skip
    assert applied.status_code == 200, applied.content
    assert applied.json()["state"] == "applied"
    bad = post(
        finance,
        f"/api/v1/cash/lines/{by_amount['312.40']}/apply",
        {"allocations": [{"invoice_id": invoices["INV-2027-000005"].pk, "amount": "1.001"}]},
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "payments_cash.invalid_application")
    aside = post(finance, f"/api/v1/cash/lines/{by_amount['312.40']}/not-ours", {"note": "tax office refund"})
    assert aside.json()["state"] == "not_ours"
    assert finance.get("/api/v1/cash/lines?state=open").json()["total"] == 0
    twice = post(finance, f"/api/v1/cash/lines/{by_amount['312.40']}/not-ours", {"note": "again"})
    assert twice.status_code == 409


def test_account_settings_by_api(story):
    finance = client("finance")
    bank = BankAccount.objects.get(iban="DE89370400440532013000")
    listed = finance.get("/api/v1/cash/accounts").json()
    assert [(a["iban"], a["fee_tolerance"]) for a in listed] == [("DE89370400440532013000", "20.00")]
    changed = finance.put(
        f"/api/v1/cash/accounts/{bank.pk}",
        json.dumps({"fee_tolerance": "5.00", "auto_threshold": 95}),
        content_type="application/json",
    )
    assert (changed.status_code, changed.json()["fee_tolerance"], changed.json()["auto_threshold"]) == (
        200,
        "5.00",
        95,
    )
    bad = finance.put(
        f"/api/v1/cash/accounts/{bank.pk}",
        json.dumps({"fee_tolerance": "5.001"}),
        content_type="application/json",
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "payments_cash.invalid_settings")


def test_the_upload_page_refuses_hostile_xml_and_writes_nothing(story, client):
    client.force_login(user("finance", "cash_page_finance"))
    response = client.post("/cash/import/", {"file": SimpleUploadedFile("x.xml", LAUGHS)})
    assert response.status_code == 422
    assert b"payments.bank.xml_forbidden" in response.content
    assert BankLine.objects.count() == 0
    page = client.get("/cash/")
    assert page.status_code == 200


def test_the_invoice_whose_open_amount_is_the_lines_comes_first_among_the_suggestions(story):
    finance = client("finance")
    body = camt(
        '<Ntry><Amt Ccy="EUR">166.41</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2027-04-26</Dt></BookgDt>'
        "<NtryDtls><TxDtls><RmtInf><Ustrd>Danke</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
    assert upload(finance, "one.xml", body, match="false").status_code == 200
    line_id = finance.get("/api/v1/cash/lines?state=new").json()["items"][0]["id"]
    found = finance.get(f"/api/v1/cash/lines/{line_id}/invoices").json()
    # INV-4 has 166.41 open (northwind.md step 4); the others follow by due date.
    assert [f["number"] for f in found] == [
        "INV-2027-000004", "INV-2027-000001", "INV-2027-000002", "INV-2027-000003", "INV-2027-000005",
    ]  # fmt: skip

"""Documents of issued invoices and credit notes through the services and the API: rendered once at
issue in the formats the entity or the customer chose, stored with their SHA-256 and served byte
for byte; re-rendering reproduces them or is refused; e-mailed (Django's locmem backend) with the
PDF and, where the customer wants it, the XML; every e-mail logged; re-sending; credit notes;
usage lines with their tier breakdown.

Amounts are worked out by hand in the comments; seller and customers are those of northwind.md
(Acme Cloud GmbH, Northwind Handels GmbH).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from stdnum import iso11649

from q2c.core.errors import DomainError
from q2c.invoicing import services
from q2c.invoicing.documents import validation
from q2c.invoicing.models import DocumentFile, EmailDelivery, InvoiceLine
from q2c.invoicing.services import documents
from q2c.platform.auth import ApiToken
from tests.billing.world import CONTOSO, at, customer, draft_lines, seller, user
from tests.invoicing.readback import UBL_NS, normalize, pdftotext, xml_values

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def acme():
    at(date(2027, 3, 1))
    return seller()


@pytest.fixture
def northwind(acme):
    return customer(acme)


def consulting(account: Any) -> Any:
    # 2 days at 950.00 = 1,900.00; 19 % VAT = 361.00; total 2,261.00 (net 30 from 2027-03-01: 2027-03-31).
    return services.create_draft(
        account_id=account.pk, lines=draft_lines(("Consulting day", "2", "950.00", "service"))
    )


def issued(account: Any, capture: Any) -> Any:
    with capture(execute=True):
        invoice = services.issue(consulting(account).pk, actor="finance")
    invoice.refresh_from_db()
    return invoice


def files_of(doc_type: str, doc_id: int) -> dict[str, DocumentFile]:
    return {f.format: f for f in DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id)}


def api(role: str) -> Client:
    _, raw = ApiToken.issue(user(role, f"api_{role}"), "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def no_fatal(xml: bytes, syntax: str) -> list[str]:
    return [f.rule for f in validation.fatal(validation.validate(xml, syntax))]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- stored at issue


def test_each_format_the_customer_chose_is_stored_at_issue_with_its_sha256_and_served_byte_for_byte(
    northwind, django_capture_on_commit_callbacks
):
    services.save_account_settings(northwind.pk, formats="pdf,ubl,cii,facturx")
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    stored = files_of("invoice", invoice.pk)
    assert set(stored) == {"pdf", "ubl", "cii", "facturx"}
    assert {f.filename for f in stored.values()} == {
        "INV-2027-000001.pdf", "INV-2027-000001.ubl.xml", "INV-2027-000001.cii.xml", "INV-2027-000001.facturx.pdf",
    }  # fmt: skip
    for f in stored.values():
        assert f.sha256 == hashlib.sha256(bytes(f.content)).hexdigest()
    assert no_fatal(bytes(stored["ubl"].content), "ubl") == []
    assert no_fatal(bytes(stored["cii"].content), "cii") == []

    viewer = api("viewer")
    for fmt, f in stored.items():
        first = viewer.get(f"/api/v1/invoicing/invoices/{invoice.pk}/documents/{fmt}")
        again = viewer.get(f"/api/v1/invoicing/invoices/{invoice.pk}/documents/{fmt}")
        assert first.status_code == 200
        assert first.content == again.content == bytes(f.content)
        assert first["X-Content-SHA256"] == f.sha256
        assert first["Content-Disposition"] == f'attachment; filename="{f.filename}"'
    # A format that was not rendered is not there (no silent rendering on download).
    assert viewer.get(f"/api/v1/invoicing/invoices/{invoice.pk}/documents/xls").status_code == 404


def test_the_stored_pdf_reads_back_with_totals_due_date_and_payment_instructions(
    northwind, django_capture_on_commit_callbacks, tmp_path
):
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    text = pdftotext(bytes(files_of("invoice", invoice.pk)["pdf"].content), tmp_path)
    assert "INV-2027-000001" in text
    assert "Northwind Handels GmbH" in text and "DE812651301" in text
    assert "1,900.00" in text and "361.00" in text and "2,261.00" in text
    assert "03/31/2027" in text or "Mar 31, 2027" in text
    # ISO 11649 reference of the number, checked with python-stdnum (an independent checker).
    assert iso11649.is_valid("RF44INV2027000001")
    assert "RF44INV2027000001" in text.replace(" ", "")
    assert "DE89370400440532013000" in text.replace(" ", "") and "COBADEFFXXX" in text


def test_rendering_the_frozen_rows_again_reproduces_every_stored_document(
    northwind, django_capture_on_commit_callbacks
):
    services.save_account_settings(northwind.pk, formats="pdf,ubl,facturx")
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    checked = documents.verify_documents("invoice", invoice.pk)
    assert [(v.format, v.reproduced) for v in checked] == [("facturx", True), ("pdf", True), ("ubl", True)]


def test_a_stored_document_that_no_longer_matches_is_refused_and_never_overwritten(
    northwind, django_capture_on_commit_callbacks
):
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    ubl = files_of("invoice", invoice.pk)["ubl"]
    # Bytes changed behind the application's back: they no longer hash to the stored SHA-256.
    DocumentFile.objects.filter(pk=ubl.pk).update(content=bytes(ubl.content).replace(b"2261.00", b"2262.00"))
    with pytest.raises(DomainError) as bad:
        documents.verify_documents("invoice", invoice.pk)
    assert bad.value.code == "invoicing.document_not_reproducible"
    # Content and hash both replaced: the frozen rows render something else — refused too.
    forged = bytes(ubl.content).replace(b"2261.00", b"2262.00")
    DocumentFile.objects.filter(pk=ubl.pk).update(content=forged, sha256=hashlib.sha256(forged).hexdigest())
    with pytest.raises(DomainError) as differs:
        documents.verify_documents("invoice", invoice.pk)
    assert differs.value.code == "invoicing.document_not_reproducible"
    # Asking for the stored formats again returns the stored row, not a fresh rendering.
    (again,) = documents.ensure_documents("invoice", invoice.pk, ["ubl"])
    assert bytes(again.content) == forged


# --------------------------------------------------------------------------- e-mail


def test_the_email_carries_the_pdf_and_the_xml_by_default_and_only_the_pdf_when_the_customer_says_so(
    acme, northwind, django_capture_on_commit_callbacks, tmp_path
):
    first = issued(northwind, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert (message.to, message.subject) == (["ap@northwind.example"], "Invoice INV-2027-000001")
    stored = files_of("invoice", first.pk)
    assert {(name, body, kind) for name, body, kind in message.attachments} == {
        ("INV-2027-000001.pdf", bytes(stored["pdf"].content), "application/pdf"),
        ("INV-2027-000001.ubl.xml", bytes(stored["ubl"].content), "application/xml"),
    }
    (pdf,) = [body for name, body, _ in message.attachments if name.endswith(".pdf")]
    assert "2,261.00" in pdftotext(pdf, tmp_path)

    services.save_account_settings(northwind.pk, email_xml=False)
    second = issued(northwind, django_capture_on_commit_callbacks)
    assert [a[0] for a in mail.outbox[1].attachments] == ["INV-2027-000002.pdf"]
    # The XML was still rendered and stored: the customer only chose not to receive it by e-mail.
    assert set(files_of("invoice", second.pk)) == {"pdf", "ubl"}
    log = [(d.to, d.status, d.attempts, d.attachments) for d in EmailDelivery.objects.order_by("id")]
    assert log == [
        ("ap@northwind.example", "sent", 1, "pdf,ubl"),
        ("ap@northwind.example", "sent", 1, "pdf"),
    ]


def test_a_factur_x_customer_gets_the_factur_x_pdf_which_carries_the_xml(
    northwind, django_capture_on_commit_callbacks
):
    services.save_account_settings(northwind.pk, formats="facturx", email_xml=False)
    issued(northwind, django_capture_on_commit_callbacks)
    assert [a[0] for a in mail.outbox[0].attachments] == ["INV-2027-000001.facturx.pdf"]


def test_no_email_when_the_customer_does_not_want_one(northwind, django_capture_on_commit_callbacks):
    services.save_account_settings(northwind.pk, send_email=False)
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    assert mail.outbox == [] and not EmailDelivery.objects.filter(doc_id=invoice.pk).exists()


def test_resending_logs_a_new_delivery_with_who_asked_and_sends_the_stored_files(
    northwind, django_capture_on_commit_callbacks
):
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = documents.resend("invoice", invoice.pk, to="controller@northwind.example", actor="rita")
    again.refresh_from_db()
    assert (again.to, again.status, again.requested_by, again.attachments) == (
        "controller@northwind.example", "sent", "rita", "pdf,ubl",
    )  # fmt: skip
    assert [m.to for m in mail.outbox] == [["ap@northwind.example"], ["controller@northwind.example"]]
    assert mail.outbox[0].attachments == mail.outbox[1].attachments
    assert EmailDelivery.objects.filter(doc_type="invoice", doc_id=invoice.pk).count() == 2


@pytest.mark.parametrize(
    ("to", "field"),
    [
        ("not an address", "to"),
        ("a@b.example\nBcc: evil@example.com", "to"),
        ("x" * 250 + "@b.example", "to"),
    ],
)
def test_a_resend_to_a_malformed_address_is_refused_and_nothing_is_logged(
    northwind, django_capture_on_commit_callbacks, to, field
):
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    with pytest.raises(DomainError) as bad:
        documents.resend("invoice", invoice.pk, to=to)
    assert (bad.value.code, bad.value.field) == ("invoicing.invalid_delivery", field)
    assert EmailDelivery.objects.count() == 1


def test_a_draft_cannot_be_resent(northwind):
    draft = consulting(northwind)
    with pytest.raises(DomainError) as bad:
        documents.resend("invoice", draft.pk)
    assert bad.value.code == "invoicing.not_issued"


def test_finance_resends_through_the_api_and_bad_input_is_problem_json(
    northwind, django_capture_on_commit_callbacks
):
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    finance = api("finance")
    url = f"/api/v1/invoicing/invoices/{invoice.pk}/deliveries"
    with django_capture_on_commit_callbacks(execute=True):
        done = finance.post(url, json.dumps({}), content_type="application/json")
    assert done.status_code == 202
    assert (done.json()["to"], done.json()["status"]) == ("ap@northwind.example", "queued")
    bad = finance.post(url, json.dumps({"to": "<script>"}), content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    assert "invalid_delivery" in bad.json()["code"]
    missing = finance.post(
        "/api/v1/invoicing/invoices/999999/deliveries", "{}", content_type="application/json"
    )
    assert missing.status_code == 404
    detail = finance.get(f"/api/v1/invoicing/invoices/{invoice.pk}").json()
    assert [(d["status"], d["requested_by"]) for d in detail["deliveries"]] == [
        ("sent", ""),
        ("sent", "api_finance"),
    ]


def test_finance_sends_again_from_the_invoice_page_and_others_cannot(
    northwind, django_capture_on_commit_callbacks
):
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    url = f"/billing/invoices/{invoice.pk}/send-again/"
    page = Client()
    page.force_login(user("finance", "page_finance"))
    shown = page.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert f'action="{url}"' in shown and "Send again" in shown
    with django_capture_on_commit_callbacks(execute=True):
        done = page.post(url, {"to": "controller@northwind.example"})
    assert (done.status_code, done["Location"]) == (302, f"/billing/invoices/{invoice.pk}/")
    assert [m.to for m in mail.outbox] == [["ap@northwind.example"], ["controller@northwind.example"]]
    assert EmailDelivery.objects.filter(doc_id=invoice.pk).latest("pk").requested_by == "page_finance"
    # A hostile address is refused on an error page that escapes it; nothing is logged.
    bad = page.post(url, {"to": "<script>alert(1)</script>"})
    assert bad.status_code == 422 and "<script>alert(1)" not in bad.content.decode()
    assert EmailDelivery.objects.filter(doc_id=invoice.pk).count() == 2
    viewer = Client()
    viewer.force_login(user("viewer", "page_viewer"))
    assert viewer.post(url).status_code == 403
    assert "Send again" not in viewer.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert Client().post(url).status_code == 302  # to the sign-in page
    assert EmailDelivery.objects.filter(doc_id=invoice.pk).count() == 2


# --------------------------------------------------------------------------- credit notes


def test_a_credit_note_is_rendered_stored_validated_and_emailed(
    northwind, django_capture_on_commit_callbacks, tmp_path
):
    invoice = issued(northwind, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        note = services.credit(invoice.pk, reason_code="pricing_error", full=True, actor="finance")
    stored = files_of("credit_note", note.pk)
    assert set(stored) == {"pdf", "ubl"}
    ubl = bytes(stored["ubl"].content)
    assert no_fatal(ubl, "ubl") == []
    assert xml_values(ubl, "/*/cbc:CreditNoteTypeCode", UBL_NS) == ["381"]
    assert xml_values(ubl, "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", UBL_NS) == [
        "INV-2027-000001"
    ]
    assert xml_values(ubl, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == ["2261.00"]
    text = pdftotext(bytes(stored["pdf"].content), tmp_path)
    assert "CN-2027-000001" in text and "INV-2027-000001" in text and "2,261.00" in text
    assert mail.outbox[-1].subject == "Credit note CN-2027-000001"
    assert [a[0] for a in mail.outbox[-1].attachments] == ["CN-2027-000001.pdf", "CN-2027-000001.ubl.xml"]
    assert [v.reproduced for v in documents.verify_documents("credit_note", note.pk)] == [True, True]


# --------------------------------------------------------------------------- usage tiers


API_TIERS = [  # northwind.md, INV-5: March's 350,000 API calls, graduated
    {"lower": "1", "upper": "100000", "quantity": "100000", "unit_price": "0.00", "amount": "0.00"},
    {"lower": "100001", "upper": "1000000", "quantity": "250000", "unit_price": "0.002", "amount": "500.00"},
]


def usage_line(**overrides: Any) -> dict[str, Any]:
    line = {
        "description": "API calls March 2027", "quantity": D(350000), "unit_code": "C62",
        "tax_category": "digital_service", "revenue_category": "usage", "tiers": API_TIERS,
        "service_start": date(2027, 3, 1), "service_end": date(2027, 4, 1),
    }  # fmt: skip
    return {**line, **overrides}


def test_a_usage_line_keeps_its_tier_breakdown_through_issue_xml_and_pdf(
    northwind, django_capture_on_commit_callbacks, tmp_path
):
    draft = services.create_draft(account_id=northwind.pk, lines=[usage_line()])
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.issue(draft.pk)
    invoice.refresh_from_db()
    # 100,000 × 0.00 + 250,000 × 0.002 = 500.00; 19 % = 95.00; total 595.00.
    assert (invoice.net_minor, invoice.tax_minor, invoice.total_minor) == (50000, 9500, 59500)
    (line,) = InvoiceLine.objects.filter(invoice=invoice)
    assert line.tiers == API_TIERS
    stored = files_of("invoice", invoice.pk)
    ubl = bytes(stored["ubl"].content)
    assert no_fatal(ubl, "ubl") == []
    # Price stated per the whole quantity: 500.00 per 350,000 calls (BT-146/BT-149).
    assert xml_values(ubl, "//cac:InvoiceLine/cac:Price/cbc:PriceAmount", UBL_NS) == ["500.00"]
    assert xml_values(ubl, "//cac:InvoiceLine/cac:Price/cbc:BaseQuantity", UBL_NS) == ["350000"]
    props = xml_values(ubl, "//cac:AdditionalItemProperty/cbc:Name", UBL_NS)
    assert props == ["Tier 1 (1-100000)", "Tier 2 (100001-1000000)"]
    assert (
        xml_values(ubl, "//cac:AdditionalItemProperty/cbc:Value", UBL_NS)[1] == "250000 x 0.002 = 500.00 EUR"
    )
    text = normalize(pdftotext(bytes(stored["pdf"].content), tmp_path))
    assert "Tier 2" in text and "250,000" in text and "500.00" in text and "595.00" in text


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([{**API_TIERS[0]}], "lines[0].tiers"),  # 100,000 of 350,000 units: does not add up
        ([{**API_TIERS[0]}, {**API_TIERS[1], "amount": "500.001"}], "lines[0].tiers[1].amount"),
        ([{**API_TIERS[0]}, {**API_TIERS[1], "unit_price": "-0.002"}], "lines[0].tiers[1].unit_price"),
        ([{**API_TIERS[0]}, {**API_TIERS[1], "upper": "5"}], "lines[0].tiers[1].upper"),
        ([{**API_TIERS[0]}, {**API_TIERS[1], "quantity": "1e400"}], "lines[0].tiers[1].quantity"),
        ([{**API_TIERS[0]}, "tier two"], "lines[0].tiers[1]"),
        ("not a list", "lines[0].tiers"),
    ],
)
def test_a_malformed_tier_breakdown_is_refused_naming_the_tier_and_nothing_is_written(
    northwind, tiers, field
):
    from q2c.invoicing.models import Invoice

    with pytest.raises(DomainError) as bad:
        services.create_draft(account_id=northwind.pk, lines=[usage_line(tiers=tiers)])
    assert bad.value.field == field
    assert not Invoice.objects.exists()


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"formats": "pdf,xls"}, "formats"), ({"email_xml": "yes"}, "email_xml"), ({"formats": 3}, "formats")],
)
def test_customer_document_settings_refuse_bad_values(northwind, changes, field):
    with pytest.raises(DomainError) as bad:
        services.save_account_settings(northwind.pk, **changes)
    assert (bad.value.code, bad.value.field) == ("invoicing.invalid_settings", field)


def test_an_entity_needs_at_least_one_format(acme):
    with pytest.raises(DomainError) as bad:
        services.save_settings(acme.pk, formats=" , ")
    assert bad.value.field == "formats"


# --------------------------------------------------------------------------- every kind, through issue

KINDS = {
    # name: (customer, lines (description, quantity, unit price, tax category[, delivery date]),
    #        expected VAT categories, expected net / VAT / total — worked by hand)
    # 2 × 950.00 = 1,900.00 at 19 %: 361.00.
    "domestic": (None, [("Consulting day", "2", "950.00", "service")], ["S"], ("1900.00", "361.00", "2261.00")),
    # 1,000.00 at 19 % = 190.00 and 3 × 20.00 = 60.00 at 7 % = 4.20.
    "multi_rate": (
        None, [("Consulting day", "1", "1000.00", "service"), ("Handbook", "3", "20.00", "reduced", None, "goods")],
        ["S", "S"], ("1060.00", "194.20", "1254.20"),
    ),
    # A French business buys a service: reverse charge, 0.
    "reverse_charge": ("FABRIKAM", [("Consulting day", "2", "950.00", "service")], ["AE"], ("1900.00", "0.00", "1900.00")),
    # Goods shipped to a French business: intra-Community supply, 0.
    "intra_community": (
        "FABRIKAM", [("Edge appliance", "2", "2000.00", "goods", date(2027, 2, 26))], ["K"],
        ("4000.00", "0.00", "4000.00"),
    ),
    # Goods shipped to the US: export, 0.
    "export": (
        "CONTOSO", [("Edge appliance", "1", "2000.00", "goods", date(2027, 2, 26))], ["G"],
        ("2000.00", "0.00", "2000.00"),
    ),
    # A service to a US business: outside the scope of EU VAT (O), no VAT identifiers (BR-O-02).
    "outside_scope": ("CONTOSO", [("Consulting day", "2", "950.00", "service")], ["O"], ("1900.00", "0.00", "1900.00")),
    # A VAT-exempt supply in Germany, 0 with its exemption reason.
    "exempt": (None, [("Training course", "1", "500.00", "exempt", None, "services")], ["E"], ("500.00", "0.00", "500.00")),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_invoice_q2c_issues_passes_the_en16931_rules_in_ubl_and_cii(
    acme, kind, django_capture_on_commit_callbacks
):
    from tests.billing import world

    who, specs, categories, (net, vat, total) = KINDS[kind]
    data = getattr(world, who) if who else world.NORTHWIND
    buyer = customer(acme, data, currency="EUR") if who == "CONTOSO" else customer(acme, data)
    services.save_account_settings(buyer.pk, formats="pdf,ubl,cii")
    lines = []
    for spec in specs:
        (line,) = draft_lines(spec[:4])
        if len(spec) > 4 and spec[4]:
            line["delivery_date"] = spec[4]
        if len(spec) > 5:
            line["supply_type"] = spec[5]
        lines.append(line)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.issue(services.create_draft(account_id=buyer.pk, lines=lines).pk)
    stored = files_of("invoice", invoice.pk)
    ubl, cii = bytes(stored["ubl"].content), bytes(stored["cii"].content)
    assert no_fatal(ubl, "ubl") == [] and no_fatal(cii, "cii") == []
    assert xml_values(ubl, "//cac:InvoiceLine//cac:ClassifiedTaxCategory/cbc:ID", UBL_NS) == categories
    assert xml_values(ubl, "//cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", UBL_NS) == [net]
    assert xml_values(ubl, "/*/cac:TaxTotal/cbc:TaxAmount", UBL_NS) == [vat]
    assert xml_values(ubl, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == [total]
    schemes = xml_values(
        ubl, "//cac:AccountingSupplierParty//cac:PartyTaxScheme/cac:TaxScheme/cbc:ID", UBL_NS
    )
    assert schemes == (["FC"] if categories == ["O"] else ["VAT"])
    # The credit note of the same invoice passes the rules too.
    note = services.credit(invoice.pk, reason_code="other", full=True)
    credit = bytes(files_of("credit_note", note.pk)["ubl"].content)
    assert no_fatal(credit, "ubl") == []
    assert xml_values(credit, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == [total]


def test_the_entity_brands_its_pdfs_with_its_own_template_and_logo_and_names_print_as_text(
    acme, settings, tmp_path, django_capture_on_commit_callbacks
):
    # Acme Cloud GmbH → slug acme-cloud-gmbh: its template and logo are found under that name.
    folder = tmp_path / "templates" / "invoicing" / "acme-cloud-gmbh"
    folder.mkdir(parents=True)
    (folder / "invoice.html").write_text(
        '{% extends "invoicing/invoice.html" %}{% block notes %}<p>ACME GROUP MEMBER {{ doc.number }}</p>{% endblock %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path / "templates")]}]
    static = tmp_path / "static" / "invoicing" / "acme-cloud-gmbh"
    static.mkdir(parents=True)
    (static / "logo.png").write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
            "0000000d49444154789c6360f8cf000000030101005e5b0a0a0000000049454e44ae426082"
        )
    )
    settings.STATICFILES_DIRS = [str(static.parent.parent)]
    hostile = customer(acme, name='<img src="file:///etc/passwd"> Northwind & Söhne')
    invoice = issued(hostile, django_capture_on_commit_callbacks)
    pdf = bytes(files_of("invoice", invoice.pk)["pdf"].content)
    text = pdftotext(pdf, tmp_path)
    assert "ACME GROUP MEMBER INV-2027-000001" in text
    # The name wraps in its column: the markup is there as text, the file was never read.
    assert '<img src="file:///etc/passwd"> Northwind &' in text and "Söhne" in text
    assert b"root:x:0:0" not in pdf
    from io import BytesIO

    from pypdf import PdfReader

    assert len(PdfReader(BytesIO(pdf)).pages[0].images) == 1


def test_q2c_invoices_verify_reproduces_every_stored_document_and_names_one_that_differs(
    northwind, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    issued(northwind, django_capture_on_commit_callbacks)
    second = issued(northwind, django_capture_on_commit_callbacks)
    out = StringIO()
    call_command("invoices", "verify", stdout=out)
    assert out.getvalue().splitlines()[-1] == "4 stored document(s) reproduced byte for byte"
    pdf = files_of("invoice", second.pk)["pdf"]
    DocumentFile.objects.filter(pk=pdf.pk).update(content=bytes(pdf.content) + b"\n%tampered")
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("invoices", "verify", stdout=out)
    assert failed.value.returncode == 1
    assert [line for line in out.getvalue().splitlines() if line.startswith("FAIL")] == [
        "FAIL the stored pdf document of INV-2027-000002 no longer matches its SHA-256"
    ]


def test_an_invoice_outside_the_scope_of_vat_states_no_vat_ids_and_identifies_the_seller_otherwise(
    acme, django_capture_on_commit_callbacks
):
    # BR-O-02: no seller or buyer VAT identifier; BR-CO-26: the seller still identified — here by
    # its VAT number as seller identifier (BT-29) and tax registration (BT-32), as it has no
    # commercial register entry.
    contoso = customer(acme, CONTOSO, currency="EUR", tax_id="12-3456789")
    services.save_account_settings(contoso.pk, formats="ubl,cii")
    draft = services.create_draft(
        account_id=contoso.pk, lines=draft_lines(("Consulting day", "2", "950.00", "service"))
    )
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.issue(draft.pk)
    stored = files_of("invoice", invoice.pk)
    ubl, cii = bytes(stored["ubl"].content), bytes(stored["cii"].content)
    assert no_fatal(ubl, "ubl") == [] and no_fatal(cii, "cii") == []
    assert b"DE136457858" in ubl and b"12-3456789" not in ubl
    assert (
        xml_values(ubl, "//cac:AccountingSupplierParty//cac:PartyIdentification/cbc:ID", UBL_NS)[0]
        == "DE136457858"
    )
    assert xml_values(ubl, "//cac:PartyTaxScheme/cac:TaxScheme/cbc:ID", UBL_NS) == ["FC"]

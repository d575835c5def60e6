"""``q2c invoices export``: the Northwind story's invoices (../shared/scenarios/northwind.md,
table 4) and its EU-customer variant, issued by the real bill runs, exported one file per document
and validated against the official EN 16931 rules; PDFs read back; bad input refused with nothing
written.

Expected totals are the story's, as literals (INV-5 with March's 350,000 API calls: 2,030.00 net +
385.70 VAT = 2,415.70, the usage line printing its tiers). The EU variant: totals equal the nets.
"""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.invoicing import services
from q2c.invoicing.documents import validation
from q2c.invoicing.models import DocumentFile, Invoice
from tests.invoicing.readback import CII_NS, UBL_NS, pdftotext, xml_values
from tests.scenarios.test_northwind_billing import FABRIKAM, NORTHWIND, tell_the_story

pytestmark = pytest.mark.django_db

NUMBERS = [f"INV-2027-00000{n}" for n in range(1, 6)]
NORTHWIND_PAYABLE = ["7467.25", "4760.00", "1517.25", "166.41", "2415.70"]
FABRIKAM_PAYABLE = ["6275.00", "4000.00", "1275.00", "139.84", "2030.00"]
FABRIKAM_CATEGORIES = [["AE"], ["K"], ["AE"], ["AE"], ["AE"]]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def export(*args: str) -> str:
    out = StringIO()
    call_command("invoices", "export", *args, stdout=out)
    return out.getvalue()


def fatal(xml: bytes, syntax: str) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in validation.fatal(validation.validate(xml, syntax))]  # type: ignore[arg-type]


def test_the_northwind_invoices_export_as_ubl_and_each_file_passes_the_en16931_rules(
    tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tell_the_story(NORTHWIND)
    out = tmp_path / "ubl"
    printed = export("--format", "ubl", "--out", str(out))
    assert printed.splitlines()[-1] == f"wrote 5 ubl document(s) to {out}"
    assert sorted(p.name for p in out.iterdir()) == [f"{n}.ubl.xml" for n in NUMBERS]
    for number, payable in zip(NUMBERS, NORTHWIND_PAYABLE, strict=True):
        xml = (out / f"{number}.ubl.xml").read_bytes()
        assert fatal(xml, "ubl") == []
        assert xml_values(xml, "/*/cbc:ID", UBL_NS) == [number]
        assert xml_values(xml, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == [payable]
        assert xml_values(xml, "/*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", UBL_NS) == ["S"]
        # The exported file is the copy stored at issue, byte for byte.
        stored = DocumentFile.objects.get(doc_type="invoice", format="ubl", filename=f"{number}.ubl.xml")
        assert hashlib.sha256(xml).hexdigest() == stored.sha256
    # INV-5's usage line: 100,000 × 0.00 + 250,000 × 0.002 = 500.00, its tiers as item properties.
    inv5 = (out / "INV-2027-000005.ubl.xml").read_bytes()
    assert xml_values(inv5, "//cac:AdditionalItemProperty/cbc:Name", UBL_NS) == [
        "Tier 1 (1-100000)",
        "Tier 2 (100001-1000000)",
    ]
    assert xml_values(inv5, "//cac:AdditionalItemProperty/cbc:Value", UBL_NS) == [
        "100000 x 0.00 = 0.00 EUR",
        "250000 x 0.002 = 500.00 EUR",
    ]


def test_the_eu_variant_exports_as_cii_with_reverse_charge_and_the_intra_community_supply(
    tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tell_the_story(FABRIKAM)
    out = tmp_path / "cii"
    listing = json.loads(export("--format", "cii", "-o", str(out), "--json"))
    assert [row["file"] for row in listing] == [f"{n}.cii.xml" for n in NUMBERS]
    for number, payable, categories in zip(NUMBERS, FABRIKAM_PAYABLE, FABRIKAM_CATEGORIES, strict=True):
        xml = (out / f"{number}.cii.xml").read_bytes()
        assert fatal(xml, "cii") == []
        assert xml_values(
            xml, "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:DuePayableAmount", CII_NS
        ) == [payable]
        assert xml_values(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode", CII_NS) == (
            categories
        )  # fmt: skip
    # INV-2 ships the appliances to France: the deliver-to country and the delivery date (BR-IC-11/12).
    inv2 = (out / "INV-2027-000002.cii.xml").read_bytes()
    assert xml_values(inv2, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID", CII_NS) == ["FR"]
    assert xml_values(inv2, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString", CII_NS) == [
        "20270210"
    ]
    # CII was not chosen at issue: the export rendered it from the frozen rows and stored it, so a
    # second export writes the same bytes.
    again = tmp_path / "again"
    export("--format", "cii", "-o", str(again))
    assert all((again / p.name).read_bytes() == p.read_bytes() for p in out.iterdir())


def test_the_eu_variant_pdfs_export_and_read_back_with_totals_and_legal_mentions(
    tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tell_the_story(FABRIKAM)
    out = tmp_path / "pdf"
    export("--format", "pdf", "-o", str(out), "--from", "2027-02-01", "--to", "2027-02-28")
    assert sorted(p.name for p in out.iterdir()) == ["INV-2027-000001.pdf", "INV-2027-000002.pdf"]
    # Fabrikam's locale is French: amounts with a comma and narrow spaces (normalized to spaces).
    inv1 = pdftotext((out / "INV-2027-000001.pdf").read_bytes(), tmp_path)
    assert "6 275,00" in inv1 and "Art. 196" in inv1 and "FR40303265045" in inv1
    inv2 = pdftotext((out / "INV-2027-000002.pdf").read_bytes(), tmp_path)
    assert "4 000,00" in inv2 and "Art. 138" in inv2


def test_credit_notes_export_beside_the_invoices_and_a_kind_can_be_chosen(
    tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tell_the_story(NORTHWIND)
        invoice = Invoice.objects.get(number="INV-2027-000004")
        services.credit(invoice.pk, reason_code="pricing_error", full=True)
    out = tmp_path / "notes"
    export("--format", "ubl", "-o", str(out), "--kind", "credit_note")
    assert [p.name for p in out.iterdir()] == ["CN-2027-000001.ubl.xml"]
    xml = (out / "CN-2027-000001.ubl.xml").read_bytes()
    assert fatal(xml, "ubl") == []
    assert xml_values(xml, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == ["166.41"]


def test_bad_export_arguments_are_refused_with_a_message_and_nothing_is_written(
    tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tell_the_story(NORTHWIND)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(CommandError, match="is not a directory"):
        export("--format", "ubl", "-o", str(a_file))
    with pytest.raises(CommandError):
        export("--format", "docx", "-o", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="--to"):
        export("--format", "ubl", "-o", str(tmp_path / "y"), "--from", "2027-03-01", "--to", "2027-02-01")
    with pytest.raises(CommandError, match="not a date"):
        export("--format", "ubl", "-o", str(tmp_path / "z"), "--from", "01/03/2027")
    assert not (tmp_path / "x").exists() and not (tmp_path / "z").exists()
    # A file of the same name with other content is never overwritten.
    out = tmp_path / "busy"
    out.mkdir()
    (out / "INV-2027-000001.ubl.xml").write_bytes(b"<mine/>")
    with pytest.raises(CommandError, match="exists with other content"):
        export("--format", "ubl", "-o", str(out))
    assert (out / "INV-2027-000001.ubl.xml").read_bytes() == b"<mine/>"

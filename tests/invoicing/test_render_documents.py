"""Rendering for issue: refuse incomplete or invalid documents, hash the files, and reproduce
the same bytes when an issued document is rendered again (in this process and in a fresh one).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from q2c.core.errors import Conflict, ValidationError
from q2c.invoicing.documents.cii import to_cii
from q2c.invoicing.documents.errors import DocumentNotReproducible, EInvoiceInvalid, MissingInvoiceData
from q2c.invoicing.documents.facturx import facturx_pdf
from q2c.invoicing.documents.pdf import invoice_pdf
from q2c.invoicing.documents.render import DocumentFormat, render_documents, rerender
from q2c.invoicing.documents.ubl import to_ubl
from tests.invoicing import samples

ROOT = Path(__file__).resolve().parents[2]


def test_render_documents_gives_each_format_with_name_type_and_sha256():
    doc = samples.northwind_invoices()[0]
    files = render_documents(doc, ["pdf", "ubl", "cii", "facturx"])
    assert [f.filename for f in files.values()] == [
        "INV-2027-000001.pdf",
        "INV-2027-000001.ubl.xml",
        "INV-2027-000001.cii.xml",
        "INV-2027-000001.facturx.pdf",
    ]
    assert files[DocumentFormat.UBL].content_type == "application/xml"
    assert files[DocumentFormat.PDF].content.startswith(b"%PDF-")
    for f in files.values():
        assert f.sha256 == hashlib.sha256(f.content).hexdigest()


def test_an_incomplete_invoice_is_refused_naming_what_is_missing():
    doc = samples.fabrikam_invoices()[0]
    doc = replace(doc, buyer=replace(doc.buyer, vat_id=""), seller=replace(doc.seller, iban=""))
    with pytest.raises(MissingInvoiceData) as err:
        render_documents(doc)
    assert isinstance(err.value, ValidationError)
    assert err.value.code == "invoicing.missing_data"
    assert {d["field"] for d in err.value.details} == {"buyer.vat_id", "seller.iban"}
    assert "the buyer's VAT identifier" in err.value.message
    assert "the payee's IBAN" in err.value.message


def test_an_e_invoice_that_breaks_the_rules_is_refused_with_the_rule_ids():
    doc = samples.northwind_invoices()[0]
    bad = replace(
        doc, totals=replace(doc.totals, total=samples.eur("7000.00"), payable=samples.eur("7000.00"))
    )
    with pytest.raises(EInvoiceInvalid) as err:
        render_documents(bad, ["ubl"])
    assert err.value.code == "invoicing.einvoice_invalid"
    assert "BR-CO-15" in {d["rule"] for d in err.value.details}
    with pytest.raises(EInvoiceInvalid):
        render_documents(bad, ["facturx"])


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="'docx'"):
        render_documents(samples.northwind_invoices()[0], ["docx"])


def test_file_names_are_safe_whatever_the_number():
    doc = replace(samples.northwind_invoices()[0], number="2027/../INV 7")
    files = render_documents(doc, ["ubl"], validate=False)
    assert files[DocumentFormat.UBL].filename == "2027_.._INV_7.ubl.xml"


@pytest.mark.parametrize(
    "render", [to_ubl, to_cii, invoice_pdf, facturx_pdf], ids=["ubl", "cii", "pdf", "facturx"]
)
def test_the_same_document_renders_to_the_same_bytes(render):
    doc = samples.northwind_invoices()[4]
    assert render(doc) == render(doc)


def test_a_fresh_process_renders_the_same_bytes():
    doc = samples.northwind_invoices()[4]
    here = {
        "ubl": hashlib.sha256(to_ubl(doc)).hexdigest(),
        "cii": hashlib.sha256(to_cii(doc)).hexdigest(),
        "pdf": hashlib.sha256(invoice_pdf(doc)).hexdigest(),
        "facturx": hashlib.sha256(facturx_pdf(doc)).hexdigest(),
    }
    script = (
        "import django, hashlib; django.setup()\n"
        "from tests.invoicing import samples\n"
        "from q2c.invoicing.documents.ubl import to_ubl\n"
        "from q2c.invoicing.documents.cii import to_cii\n"
        "from q2c.invoicing.documents.pdf import invoice_pdf\n"
        "from q2c.invoicing.documents.facturx import facturx_pdf\n"
        "doc = samples.northwind_invoices()[4]\n"
        "for name, f in [('ubl', to_ubl), ('cii', to_cii), ('pdf', invoice_pdf), ('facturx', facturx_pdf)]:\n"
        "    print(name, hashlib.sha256(f(doc)).hexdigest())\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "q2c.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PYTHONHASHSEED": "12345",  # a different hash seed than this process's, on purpose
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    there = dict(line.split() for line in out.strip().splitlines())
    assert there == here


def test_rerendering_an_issued_document_reproduces_it_or_is_refused():
    doc = samples.northwind_invoices()[0]
    issued = render_documents(doc, ["pdf", "ubl"])
    for fmt, stored in issued.items():
        again = rerender(doc, fmt, stored.sha256)
        assert again.content == stored.content
    changed = replace(doc, payment_terms="Net 14 days")
    with pytest.raises(DocumentNotReproducible) as err:
        rerender(changed, "pdf", issued[DocumentFormat.PDF].sha256)
    assert isinstance(err.value, Conflict)
    assert err.value.code == "invoicing.document_not_reproducible"


@pytest.mark.django_db
def test_rendering_for_issue_runs_no_database_query_inside_the_issuing_transaction(django_assert_num_queries):
    # Documents are rendered inside the issuing transaction; they must not touch the database
    # (bill runs render many of them).
    from django.db import transaction

    with transaction.atomic(), django_assert_num_queries(0):
        files = render_documents(samples.northwind_invoices()[1], ["pdf", "ubl"])
    assert set(files) == {DocumentFormat.PDF, DocumentFormat.UBL}

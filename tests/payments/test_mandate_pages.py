"""The SEPA Direct Debit pages under /payments/: mandates with their status, recording one (IBAN
and BIC checked by schwifty; a bad value shows the form again with the error and the field named,
422, nothing written), revoking one, the pain.008 collection files with their download; other
roles get 403, names are escaped.

The IBAN DE89 3704 0044 0532 0130 00 is the German example IBAN of the ECBS/EPC IBAN guidance
(bank code 370 400 44, Commerzbank Köln, BIC COBADEFFXXX); changing its last digit breaks the
ISO 7064 mod 97-10 check. Northwind's invoice is 1,900.00 + 19 % VAT = 2,261.00 EUR, due
2027-03-31, so a collection on that date debits 2,261.00 (tests/payments/world.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from q2c.payments import services
from q2c.payments.models import Mandate
from tests.payments.world import at, customer, invoice, seller, user

pytestmark = pytest.mark.django_db

GOOD = {"debtor_name": "Northwind Handels GmbH", "iban": "DE89 3704 0044 0532 0130 00", "bic": "",
        "signed_on": "2027-02-15", "reference": "NW-2027-001"}  # fmt: skip


@pytest.fixture
def world():
    clk = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme, name="Northwind <b>Handels</b> GmbH")
    return clk, acme, northwind, invoice(northwind)


def signed_in(role: str) -> Client:
    c = Client()
    c.force_login(user(role, f"sepa_{role}"))
    return c


def test_finance_records_a_mandate_and_sees_it_with_its_status(world):
    _, _, northwind, _ = world
    finance = signed_in("finance")
    answer = finance.post("/payments/mandates/", {**GOOD, "account_id": str(northwind.pk)})
    assert answer.status_code == 302 and answer["Location"] == "/payments/mandates/"
    mandate = Mandate.objects.get()
    # The compact IBAN and the BIC schwifty derives from its bank code.
    assert (mandate.reference, mandate.iban, mandate.bic, mandate.status) == (
        "NW-2027-001", "DE89370400440532013000", "COBADEFFXXX", "active",
    )  # fmt: skip
    html = finance.get("/payments/mandates/").content.decode()
    assert '<tr data-mandate="NW-2027-001"><td>NW-2027-001</td>' in html
    assert (
        "<td>DE89370400440532013000</td><td>COBADEFFXXX</td><td>2027-02-15</td><td>—</td><td>active</td>"
        in html
    )
    assert "Northwind &lt;b&gt;Handels&lt;/b&gt; GmbH" in html and "<b>Handels</b>" not in html
    assert "Revoke</button>" in html


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"iban": "DE89 3704 0044 0532 0130 01"}, "iban", "payments.invalid_iban"),  # mod 97 broken
        ({"iban": "<script>alert(1)</script>"}, "iban", "payments.invalid_iban"),
        ({"bic": "NOTABIC"}, "bic", "payments.invalid_bic"),
        ({"debtor_name": "<script>alert(1)</script>"}, "debtor_name", "payments.invalid_mandate"),
        ({"signed_on": "2027-03-02"}, "signed_on", "payments.invalid_mandate"),  # after today (03-01)
        ({"signed_on": "15.02.2027"}, "signed_on", "payments.invalid_mandate"),
        ({"account_id": "x"}, "account_id", "payments.invalid_mandate"),
        ({"account_id": "999999"}, "account_id", "payments.invalid_mandate"),
    ],
)
def test_bad_input_shows_the_form_again_naming_the_field_and_writes_nothing(world, change, field, code):
    _, _, northwind, _ = world
    answer = signed_in("finance").post(
        "/payments/mandates/", {**GOOD, "account_id": str(northwind.pk), **change}
    )
    assert answer.status_code == 422
    html = answer.content.decode()
    assert f'data-field="{field}"' in html and f"<code>{code}</code>" in html
    assert 'id="mandate-form"' in html  # the form again, with what was typed
    assert 'value="NW-2027-001"' in html
    assert "Northwind &lt;b&gt;Handels&lt;/b&gt; GmbH" in html
    assert "<script>alert(1)</script>" not in html
    assert not Mandate.objects.exists()


def test_finance_revokes_a_mandate_and_a_revoked_one_cannot_be_revoked_again(world):
    _, _, northwind, _ = world
    mandate = services.create_mandate(northwind.pk, iban=GOOD["iban"], debtor_name="Northwind Handels GmbH",
                                      signed_on=date(2027, 2, 15), reference="NW-2027-001")  # fmt: skip
    finance = signed_in("finance")
    assert finance.post(f"/payments/mandates/{mandate.pk}/revoke/").status_code == 302
    mandate.refresh_from_db()
    assert mandate.status == "revoked"
    html = finance.get("/payments/mandates/").content.decode()
    assert "<td>revoked</td>" in html and "Revoke</button>" not in html
    assert finance.post(f"/payments/mandates/{mandate.pk}/revoke/").status_code == 409


def test_collections_list_their_file_and_finance_downloads_it(world, django_capture_on_commit_callbacks: Any):
    _, acme, northwind, _ = world
    services.create_mandate(northwind.pk, iban=GOOD["iban"], debtor_name="Northwind Handels GmbH",
                            signed_on=date(2027, 2, 15), reference="NW-2027-001")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        collection = services.create_collection(acme.pk, collection_date=date(2027, 3, 31))
    finance = signed_in("finance")
    html = finance.get("/payments/collections/").content.decode()
    assert (
        f'<td>{collection.message_id}</td><td>2027-03-31</td><td class="num">1</td><td class="num">2261.00 EUR</td><td>no</td>'
        in html
    )
    link = f"/payments/collections/{collection.pk}/file.xml"
    assert f'href="{link}"' in html
    file = finance.get(link)
    assert file.status_code == 200 and file["Content-Type"] == "application/xml"
    assert f'filename="{collection.message_id}.xml"' in file["Content-Disposition"]
    body = file.content
    assert (
        b"urn:iso:std:iso:20022:tech:xsd:pain.008.001.08" in body
        and b'<InstdAmt Ccy="EUR">2261.00</InstdAmt>' in body
    )
    # Viewers read the list but not the file (the debtors' IBANs); no link is shown to them.
    viewer = signed_in("viewer")
    assert f'href="{link}"' not in viewer.get("/payments/collections/").content.decode()
    assert viewer.get(link).status_code == 403
    assert finance.get("/payments/collections/999999/file.xml").status_code == 404


@pytest.mark.parametrize(
    ("role", "method", "url", "status"),
    [
        ("viewer", "get", "/payments/mandates/", 200),
        ("viewer", "post", "/payments/mandates/", 403),
        ("viewer", "post", "/payments/mandates/1/revoke/", 403),
        ("sales_rep", "get", "/payments/mandates/", 403),
        ("sales_manager", "get", "/payments/collections/", 403),
        ("sales_rep", "get", "/payments/collections/1/file.xml", 403),
    ],
)
def test_other_roles_are_refused(world, role, method, url, status):
    assert getattr(signed_in(role), method)(url).status_code == status
    assert not Mandate.objects.exists()


def test_viewers_see_no_form(world):
    html = signed_in("viewer").get("/payments/mandates/").content.decode()
    assert 'id="mandate-form"' not in html

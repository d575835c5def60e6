"""Catalog pages: lists and details render with the roles' views, the price check shows the
waterfall, the import page lists bad rows, and names are escaped."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from q2c.catalog import services
from q2c.catalog.models import PriceBook, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(make_user):
    def make(role: str) -> Client:
        client = Client()
        client.force_login(make_user(role, f"page_{role}"))
        return client

    return make


def test_the_product_list_finds_products(northwind_catalog, login):
    page = login("viewer").get("/catalog/?q=seat")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Platform seat" in html and "Edge appliance" not in html
    assert "1 product matching" in html


def test_a_product_page_shows_its_prices_and_hides_cost_from_reps(northwind_catalog, login):
    services.update_product(Product.objects.get(sku="SEAT").pk, {"cost": "8.00", "cost_currency": "EUR"})
    seat = Product.objects.get(sku="SEAT")
    rep_html = login("sales_rep").get(f"/catalog/products/{seat.pk}/").content.decode()
    assert "EUR-LIST" in rep_html and "30.00" in rep_html
    assert "8.00 EUR" not in rep_html
    finance_html = login("finance").get(f"/catalog/products/{seat.pk}/").content.decode()
    assert "8.00 EUR" in finance_html
    api = Product.objects.get(sku="API")
    tiers_html = login("viewer").get(f"/catalog/products/{api.pk}/").content.decode()
    assert "100000–1000000: 0.002" in tiers_html


def test_a_missing_product_is_404(login):
    assert login("viewer").get("/catalog/products/999999/").status_code == 404


def test_price_books_list_and_show_their_prices(northwind_catalog, login):
    client = login("viewer")
    assert "EUR-LIST" in client.get("/catalog/price-books/").content.decode()
    book = PriceBook.objects.get(code="EUR-LIST")
    assert "5000.00" in client.get(f"/catalog/price-books/{book.pk}/").content.decode()


def test_the_price_check_shows_the_northwind_waterfall_and_the_approval(northwind_catalog, login):
    response = login("sales_rep").post(
        "/catalog/price-check/",
        {
            "currency": "EUR",
            "term_months": "12",
            "sale_context": "new",
            "as_of": "2027-01-10",
            "lines": "SEAT 50 15\nONB 1\nEDGE 2\nAPI",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "24300.00" in html and "10.00 %" in html
    assert "manual: 1275.00 (-225.00)" in html
    assert "the manual discount of 15 % is above your limit of 10 %" in html


def test_the_price_check_explains_bad_input(northwind_catalog, login):
    response = login("sales_rep").post(
        "/catalog/price-check/", {"currency": "EUR", "lines": "SEAT 1.5\nNOPE 1"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "SEAT is sold in whole seat, not 1.5" in html
    assert "there is no product with SKU &#x27;NOPE&#x27;" in html


def test_the_import_page_lists_every_bad_row(login):
    upload = SimpleUploadedFile("p.csv", b"sku,name,type,unit\nA,A,gizmo,each\nB,B,good,parsec\n")
    response = login("admin").post("/catalog/import/", {"kind": "products", "file": upload})
    assert response.status_code == 422
    html = response.content.decode()
    assert "nothing was imported" in html
    assert "there is no unit of measure &#x27;parsec&#x27;" in html
    assert not Product.objects.exists()


def test_the_import_page_imports_a_good_file(login):
    upload = SimpleUploadedFile("p.csv", b"sku,name,type,unit\nA,Alpha,good,each\n")
    response = login("admin").post("/catalog/import/", {"kind": "products", "file": upload})
    assert response.status_code == 200
    assert "Imported: 1 new, 0 updated" in response.content.decode()


def test_names_with_html_are_escaped(login):
    services.create_product(
        {"sku": "XSS", "name": "<script>alert(1)</script>", "type": "good", "unit": "each"}
    )
    html = login("viewer").get("/catalog/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_catalog_is_in_the_navigation(login):
    assert 'href="/catalog/"' in login("sales_rep").get("/catalog/").content.decode()

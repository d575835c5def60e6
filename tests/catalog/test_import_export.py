"""CSV and XLSX import and export of products, charges, price books and price entries: every bad
row is reported with its row number and field, and nothing is imported when any row is bad."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from q2c.catalog import services
from q2c.catalog.errors import ImportRejected
from q2c.catalog.models import Charge, PriceBook, PriceEntry, Product, ProductSsp

pytestmark = pytest.mark.django_db

PRODUCTS_CSV = """sku,name,type,unit,family,revenue_category,revenue_rule,cost,cost_currency,ssp
SEAT,Platform seat,subscription,seat,platform,subscriptions,ratable,8.00,EUR,new=fixed 30.00 EUR; add_on=fixed 25.50 EUR
ONB,Onboarding,service,each,services,services,point_in_time,,,new=fixed 4000.00 EUR
GB,Storage,usage,gb,platform,usage,as_used,,,
"""


def rows_of(exc) -> list[tuple[int, str, str]]:
    return [(d["row"], d["field"], d["code"]) for d in exc.value.details]


def test_a_valid_products_file_is_imported():
    result = services.import_file("products", "products.csv", PRODUCTS_CSV.encode())
    assert result == {"kind": "products", "rows": 3, "dry_run": False, "created": 3, "updated": 0}
    seat = Product.objects.get(sku="SEAT")
    assert (seat.unit.code, seat.cost, seat.revenue_rule) == ("seat", D("8.00"), "ratable")
    assert sorted(ProductSsp.objects.filter(product=seat).values_list("context", "amount")) == [
        ("add_on", D("25.50")),
        ("new", D("30.00")),
    ]


def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_cell():
    bad = (
        PRODUCTS_CSV
        + "BAD SKU,Broken,gadget,parsec,,,,-1,EUR,\nSEAT,Again,service,each,,,,,,\n,No sku,good,each,,,,,,\n"
    )
    with pytest.raises(ImportRejected) as exc:
        services.import_file("products", "products.csv", bad.encode())
    assert rows_of(exc) == [
        (6, "sku", "catalog.import_duplicate"),
        (5, "sku", "catalog.invalid_code"),
        (5, "type", "catalog.invalid_choice"),
        (5, "cost", "catalog.out_of_range"),
        (5, "unit", "catalog.unknown_unit"),
        (7, "sku", "catalog.required"),
    ]
    assert exc.value.message.startswith("6 problems in 3 rows; nothing was imported.")
    assert not Product.objects.exists()


def test_unknown_and_missing_columns_are_refused():
    with pytest.raises(ImportRejected) as exc:
        services.import_file("products", "p.csv", b"name,colour\nSeat,blue\n")
    assert rows_of(exc) == [
        (1, "colour", "catalog.import_unknown_column"),
        (1, "sku", "catalog.import_missing_column"),
    ]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("products.pdf", b"%PDF", "catalog.import_file"),
        ("products.csv", b"", "catalog.import_file"),
        ("products.csv", b"sku,name\n", "catalog.import_empty"),
        ("products.csv", "sku,name\nSÉAT,x\n".encode("latin-1"), "catalog.import_file"),
        ("products.xlsx", b"not a zip", "catalog.import_file"),
    ],
)
def test_unreadable_files_are_refused(name, data, code):
    with pytest.raises(ImportRejected) as exc:
        services.import_file("products", name, data)
    assert exc.value.code == code


def test_reimporting_updates_by_sku_and_changes_only_the_given_columns():
    services.import_file("products", "products.csv", PRODUCTS_CSV.encode())
    result = services.import_file("products", "p.csv", b"sku,name\nSEAT,Seat (renamed)\n")
    assert (result["created"], result["updated"]) == (0, 1)
    seat = Product.objects.get(sku="SEAT")
    assert (seat.name, seat.family, seat.cost) == ("Seat (renamed)", "platform", D("8.00"))


def _catalog_files():
    services.import_file("products", "products.csv", PRODUCTS_CSV.encode())
    services.import_file(
        "charges",
        "charges.csv",
        b"sku,code,kind,billing_period,usage_metric,usage_aggregation\n"
        b"SEAT,SUB,recurring,month,,\nONB,FEE,one_time,,,\nGB,STORAGE,usage,month,gb_stored,max\n",
    )
    services.import_file(
        "price_books",
        "books.csv",
        b"code,name,currency,segment,parent\nEUR-LIST,List EUR,EUR,,\nEUR-ENT,Enterprise EUR,EUR,enterprise,EUR-LIST\n",
    )
    services.import_file(
        "price_entries",
        "entries.csv",
        b"price_book,sku,charge,model,price,tiers\n"
        b"EUR-LIST,SEAT,SUB,per_unit,30.00,\n"
        b"EUR-LIST,ONB,FEE,per_unit,5000.00,\n"
        b"EUR-LIST,GB,STORAGE,tiered,,0-100:0;100-:0.05\n"
        b"EUR-ENT,SEAT,SUB,per_unit,28.00,\n",
    )


def test_charges_books_and_entries_import_and_price():
    _catalog_files()
    assert Charge.objects.count() == 3
    assert PriceBook.objects.get(code="EUR-ENT").parent.code == "EUR-LIST"
    gb = PriceEntry.objects.get(charge__code="STORAGE")
    assert [(t.lower, t.upper, t.unit_price) for t in gb.tiers.all()] == [
        (D(0), D(100), D(0)),
        (D(100), None, D("0.05")),
    ]
    result = services.price_quote(
        {
            "currency": "EUR",
            "segment": "enterprise",
            "lines": [{"sku": "SEAT", "quantity": 2}, {"sku": "GB", "estimated_quantity": "300"}],
        },
        None,
    )
    assert [str(line.net) for line in result.lines] == ["56.00", "10.00"]


def test_price_entries_with_tier_gaps_or_overlapping_dates_are_refused_by_row():
    _catalog_files()
    bad = (
        b"price_book,sku,charge,model,price,valid_from,tiers\n"
        b"EUR-LIST,GB,STORAGE,volume,,2028-01-01,0-100:0;150-:0.05\n"
        b"EUR-LIST,SEAT,SUB,per_unit,31.00,2027-06-01,\n"
        b"EUR-LIST,ONB,NOPE,per_unit,1,,\n"
        b"USD-LIST,ONB,FEE,per_unit,1,,\n"
    )
    with pytest.raises(ImportRejected) as exc:
        services.import_file("price_entries", "e.csv", bad)
    assert rows_of(exc) == [
        (2, "tiers[1].lower", "pricing.tier_gap"),
        (4, "charge", "catalog.unknown_charge"),
        (5, "price_book", "catalog.unknown_price_book"),
    ]
    assert PriceEntry.objects.count() == 4
    overlapping = (
        b"price_book,sku,charge,model,price,valid_from\nEUR-LIST,SEAT,SUB,per_unit,31.00,2027-06-01\n"
    )
    with pytest.raises(ImportRejected) as exc:
        services.import_file("price_entries", "e.csv", overlapping)
    assert rows_of(exc) == [(2, "valid_from", "catalog.overlapping_price")]


def test_an_export_reimports_without_changes():
    _catalog_files()
    for kind in ("products", "charges", "price_books", "price_entries"):
        content, content_type, name = services.export_file(kind, "csv")
        assert content_type.startswith("text/csv") and name == f"{kind}.csv"
        result = services.import_file(kind, name, content, dry_run=True)
        assert result["created"] == 0, kind
    [seat_row] = [row for row in services.export_rows("products") if row[0] == "SEAT"]
    assert seat_row[-1] == "new=fixed 30.00 EUR; add_on=fixed 25.50 EUR"


def test_xlsx_files_import_numbers_without_floating_point_errors():
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "name", "type", "unit", "cost", "cost_currency", "floor_price", "floor_currency"])
    sheet.append(["CABLE", "Cable", "good", "each", 0.1, "EUR", 19.99, "EUR"])  # numeric cells
    buffer = io.BytesIO()
    book.save(buffer)
    services.import_file("products", "p.xlsx", buffer.getvalue())
    cable = Product.objects.get(sku="CABLE")
    assert (str(cable.cost), str(cable.floor_price)) == ("0.1", "19.99")


def test_an_xlsx_export_holds_text_cells_only():
    _catalog_files()
    content, _content_type, name = services.export_file("price_entries", "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]
    assert all(isinstance(v, str) for v in values)
    assert services.import_file("price_entries", name, content, dry_run=True)["created"] == 0


def test_the_import_api_reports_rows_and_the_export_api_downloads(api_as):
    admin = api_as("admin", "cat_admin")
    upload = SimpleUploadedFile("products.csv", PRODUCTS_CSV.encode(), content_type="text/csv")
    response = admin.post("/api/v1/catalog/import", data={"kind": "products", "file": upload})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 3
    bad = SimpleUploadedFile(
        "products.csv", b"sku,name,type,unit\nX,X,nonsense,each\n", content_type="text/csv"
    )
    response = admin.post("/api/v1/catalog/import", data={"kind": "products", "file": bad})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "row": 2,
            "field": "type",
            "code": "catalog.invalid_choice",
            "message": "type: 'nonsense' is not one of good, service, subscription, usage",
        }
    ]
    export = admin.get("/api/v1/catalog/export/products?format=xlsx")
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="products.xlsx"'
    assert admin.get("/api/v1/catalog/export/widgets").status_code == 422
    rep = api_as("sales_rep", "rep")
    assert rep.get("/api/v1/catalog/export/products").status_code == 403


def test_text_that_looks_like_a_formula_is_exported_defused_and_reads_back_unchanged():
    services.import_file(
        "products",
        "p.csv",
        b'sku,name,description,type,unit\nEVIL,"=HYPERLINK(""http://x"")",-sharp,good,each\n',
    )
    content, _, _ = services.export_file("products", "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "EVIL")
    assert row[1] == '\'=HYPERLINK("http://x")'  # text, not a live formula
    assert row[2] == "'-sharp"
    csv_content, _, _ = services.export_file("products", "csv")
    assert services.import_file("products", "p.csv", csv_content, dry_run=True)["created"] == 0
    services.import_file("products", "p.xlsx", content)
    evil = Product.objects.get(sku="EVIL")
    assert (evil.name, evil.description) == ('=HYPERLINK("http://x")', "-sharp")

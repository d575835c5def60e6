"""CSV and XLSX export: values round-trip and formula injection is neutralised (OWASP CSV
Injection: cells beginning with = + - @, tab or carriage return)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from q2c.analytics.export import DANGEROUS_PREFIXES, Cell, ExportError, neutralise, to_csv, to_xlsx
from tests.analytics.conftest import d, eur

HEADERS = ["Customer", "Amount", "Issued", "Note"]
ROWS: list[list[Cell]] = [
    ['=HYPERLINK("http://x","click")', eur("12.50"), d("2027-01-31"), "+1 555"],
    ["Acme", Decimal("-3.25"), d("2027-02-01"), "-2+3"],
    ["@SUM(A1)", 7, None, "\tcmd"],
    ["Plain", Decimal("1E+3"), datetime(2027, 3, 1, 12, tzinfo=UTC), "\rx"],
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Acme = good", "Acme = good"),
        ("", ""),
    ],
)
def test_neutralise_prefixes_text_a_spreadsheet_would_read_as_a_formula(text, expected):
    assert neutralise(text) == expected


def test_csv_neutralises_dangerous_text_and_keeps_numbers_and_dates():
    data = to_csv(HEADERS, ROWS)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert rows[1] == ['\'=HYPERLINK("http://x","click")', "12.50", "2027-01-31", "'+1 555"]
    assert rows[2] == ["Acme", "-3.25", "2027-02-01", "'-2+3"]
    assert rows[3] == ["'@SUM(A1)", "7", "", "'\tcmd"]
    assert rows[4] == ["Plain", "1000", "2027-03-01T12:00:00+00:00", "'\rx"]


def test_xlsx_writes_dangerous_text_as_text_and_numbers_as_numbers():
    book = load_workbook(io.BytesIO(to_xlsx(HEADERS, ROWS, title="AR aging: 2027/01")))
    sheet = book.active
    assert sheet.title == "AR aging 202701"
    assert [c.value for c in sheet[1]] == HEADERS
    formula_cell = sheet["A2"]
    assert formula_cell.value == '\'=HYPERLINK("http://x","click")'
    assert formula_cell.data_type == "s"
    assert sheet["B2"].value == 12.5 and sheet["B2"].data_type == "n"
    assert sheet["B3"].value == -3.25
    assert sheet["C2"].value == datetime(2027, 1, 31)
    assert sheet["C4"].value is None
    assert sheet["C5"].value == datetime(2027, 3, 1, 12)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"


@given(st.text(max_size=20))
def test_no_exported_text_cell_starts_with_a_formula_character(text):
    rows = list(csv.reader(io.StringIO(to_csv(["h"], [[text]]).decode("utf-8-sig"), newline="")))
    assert not rows[1][0].startswith(DANGEROUS_PREFIXES)


def test_a_row_of_the_wrong_length_is_refused():
    with pytest.raises(ExportError) as err:
        to_csv(HEADERS, [["only one"]])
    assert err.value.code == "analytics.export_invalid"
    assert err.value.field == "rows"


def test_an_export_without_columns_is_refused():
    with pytest.raises(ExportError):
        to_xlsx([], [])


def test_floats_and_unknown_types_are_refused():
    with pytest.raises(TypeError):
        to_csv(["x"], [[1.5]])  # type: ignore[list-item]
    with pytest.raises(ExportError):
        to_csv(["x"], [[object()]])  # type: ignore[list-item]
    with pytest.raises(ExportError):
        to_csv(["x"], [[True]])

"""Table export to CSV and XLSX, safe against formula injection.

Owns: turning a header row and data rows into CSV or XLSX bytes. A spreadsheet treats a text cell
that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some programs, a leading tab or carriage
return) as a formula — a customer name like ``=HYPERLINK(...)`` would run when finance opens the
export. Such text is neutralised by a leading apostrophe (OWASP "CSV Injection" guidance). Numbers
stay numbers: a negative Decimal is not text a customer typed, and an XLSX numeric cell cannot hold
a formula.

Pure: no Django, no platform, no app imports; only ``q2c.core`` and openpyxl.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import Workbook

from q2c.core.errors import ValidationError
from q2c.core.money import Money

Cell = str | int | Decimal | date | datetime | Money | None

#: Leading characters that make a spreadsheet read text as a formula.
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValidationError):
    default_code = "analytics.export_invalid"


def neutralise(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would otherwise read it as a formula."""
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def _plain(value: Cell) -> str | int | Decimal | date | datetime | None:
    if isinstance(value, bool):
        raise ExportError("booleans are not exported; write yes/no text", field="rows")
    if isinstance(value, float):
        raise TypeError("floats are not exported; use Decimal")
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, str):
        return neutralise(value)
    if value is None or isinstance(value, int | Decimal | date | datetime):
        return value
    raise ExportError(f"cannot export a {type(value).__name__}", field="rows")


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> list[list[str | int | Decimal | date | datetime | None]]:
    if not headers:
        raise ExportError("an export needs at least one column", field="headers")
    out: list[list[str | int | Decimal | date | datetime | None]] = [[_plain(h) for h in headers]]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(headers):
            raise ExportError(f"row {number} has {len(row)} cells for {len(headers)} columns", field="rows")
        out.append([_plain(v) for v in row])
    return out


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 CSV (with a BOM so spreadsheet programs detect the encoding), every field quoted.

    Dates as ISO 8601, Decimals as written (no exponent), Money as its amount, None as empty.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in _table(headers, rows):
        writer.writerow(["" if v is None else _text(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _text(value: str | int | Decimal | date | datetime) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str = "Export") -> bytes:
    """An XLSX workbook with one sheet: text as text cells, numbers and dates as typed cells.

    Decimals are written as numbers (Excel stores doubles; the export is for reading, the exact
    value lives in q2c). Timezone-aware datetimes are written in UTC without the zone (XLSX has none).
    """
    table = _table(headers, rows)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    # Sheet names may not hold []:*?/\ and are at most 31 characters long.
    sheet.title = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31].strip("'") or "Export"
    for r, row in enumerate(table, start=1):
        for c, value in enumerate(row, start=1):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                # openpyxl itself turns any text starting with "=" into a formula; force text.
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""Reading rendered documents back: PDF text (pypdf and poppler's pdftotext) and XML values."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from lxml import etree
from pypdf import PdfReader

UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def normalize(text: str) -> str:
    """Collapse every kind of space (no-break, narrow no-break, newlines) to one plain space."""
    return re.sub(r"[\s\u00a0\u202f\u2009]+", " ", text).strip()


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, spaces normalized (pypdf)."""
    return [normalize(page.extract_text() or "") for page in PdfReader(BytesIO(pdf)).pages]


def pdf_text(pdf: bytes) -> str:
    return " ".join(page_texts(pdf))


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The text as poppler reads it (a second, independent extractor)."""
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext (poppler-utils) is required"
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([exe, "-layout", str(source), "-"], check=True, capture_output=True)
    return normalize(out.stdout.decode("utf-8"))


@dataclass(frozen=True)
class Word:
    text: str
    page: int
    x_min: float
    x_max: float


def words(pdf: bytes, tmp_path: Path) -> tuple[list[Word], list[float]]:
    """Every word with its horizontal extent, and each page's width (pdftotext -bbox)."""
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext (poppler-utils) is required"
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([exe, "-bbox", str(source), "-"], check=True, capture_output=True).stdout
    tree = etree.fromstring(out, etree.HTMLParser())
    result: list[Word] = []
    widths: list[float] = []
    for n, page in enumerate(tree.iter("page")):
        widths.append(float(page.get("width")))
        for w in page.iter("word"):
            result.append(Word(w.text or "", n, float(w.get("xmin")), float(w.get("xmax"))))
    return result, widths


def xml_values(xml: bytes, xpath: str, ns: dict[str, str]) -> list[str]:
    root = etree.fromstring(xml)
    return [v if isinstance(v, str) else (v.text or "") for v in root.xpath(xpath, namespaces=ns)]

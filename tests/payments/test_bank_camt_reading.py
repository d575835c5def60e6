"""How the camt reader reads large files: stored fingerprints keep their values, entries of
different shapes in one file are each read by their own elements, and errors come in file order.

Expected values are worked out by hand from the documents written in each test.
"""

import hashlib
import json
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring_ascii  # what the importer writes references with

from q2c.core.money import Money
from q2c.payments.bank import parse_file
from q2c.payments.bank.common import amount_of, decimal_text, money
from tests.payments.support import camt, entry, fixture_bytes, refused

ACCOUNT = "DE89370400440532013000"  # the account of tests.payments.support.camt


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def sha32(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def test_a_line_fingerprint_is_the_hash_of_what_the_bank_wrote_joined_by_unit_separators():
    details = (
        "<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RltdPties><Dbtr><Nm>Acme GmbH</Nm></Dbtr>"
        "<DbtrAcct><Id><IBAN>DE02 1203 0000 0000 2020 51</IBAN></Id></DbtrAcct></RltdPties>"
        "<RmtInf><Ustrd>Rechnung  1</Ustrd><Strd><CdtrRefInf><Ref>RF18 5390 0754 7034</Ref></CdtrRefInf></Strd>"
        "</RmtInf></TxDtls>"
    )
    ((_, line_entry, line),) = parse_file(camt(entry("10.00", details=details))).details()
    # account, entry amount as written, currency, indicator, booking and value date, status,
    # reversal, bank reference, entry reference; the line's amount, end-to-end id, remittance,
    # references, debtor IBAN, creditor IBAN, bank reference — absent ones as "None".
    parts = [
        "detail", ACCOUNT, "10.00", "EUR", "CRDT", "2027-03-01", "2027-03-01", "BOOK", "False", "None", "None",
        "10.00", "E2E-1", "Rechnung 1", "('RF18539007547034',)", "DE02120300000000202051", "None", "None",
    ]  # fmt: skip
    assert line.fingerprint == sha32("\x1f".join(parts))
    assert line_entry.fingerprint == sha32("entry\x1f" + line.fingerprint)


def test_an_entry_without_details_is_fingerprinted_with_its_own_reference_and_no_references():
    data = camt(entry("5.00", "DBIT", extra="<AcctSvcrRef> B-7 </AcctSvcrRef>"))
    ((_, _, line),) = parse_file(data).details()
    parts = [
        "detail", ACCOUNT, "5.00", "EUR", "DBIT", "2027-03-01", "2027-03-01", "BOOK", "False", "B-7", "None",
        "-5.00", "None", "", "None", "None", "None", "B-7",
    ]  # fmt: skip
    assert line.fingerprint == sha32("\x1f".join(parts))
    assert (line.implicit, line.references, line.bank_reference) == (True, (), "B-7")


def test_the_northwind_fingerprints_keep_the_values_earlier_imports_stored():
    parsed = parse_file(fixture_bytes("camt053_northwind.xml"))
    assert [(e.fingerprint, d.fingerprint) for _, e, d in parsed.details()] == [
        ("e64d5067d86808ff535b044ce2c3057b", "fd2219acd4c3d311ad38ea7766d07832"),
        ("5456c394c9e1563deee195f34fd73edb", "7bfd4cff54ce988cd7ca6358c03faff3"),
        ("50455cddaefcde69b6d01c517f547e18", "29064ecff1e891068be48dae17e2fe20"),
        ("15ee6c763efd1474ebcfee37478a689e", "8ccbc732375d4d47078455e04008dd04"),
    ]


def test_entries_of_different_shapes_in_one_file_are_each_read_from_their_own_elements():
    with_pty = (
        "<TxDtls><Amt Ccy='EUR'>1.00</Amt><RltdPties><Dbtr><Pty><Nm>Pty Name</Nm></Pty></Dbtr></RltdPties>"
        "<RmtInf><Ustrd>first</Ustrd></RmtInf></TxDtls>"
    )
    with_nm = (
        "<TxDtls><RltdPties><Dbtr><Nm>Plain Name</Nm></Dbtr><DbtrAcct><Id><Othr><Id>0532 013000</Id></Othr>"
        "</Id></DbtrAcct></RltdPties><RmtInf><Ustrd>second</Ustrd></RmtInf></TxDtls>"
    )
    # An element the reader does not read (Chrgs) moves every later element of the entry.
    shifted = "<TxDtls><Chrgs/><RmtInf><Ustrd>third</Ustrd><Ustrd>line</Ustrd></RmtInf></TxDtls>"
    body = (
        entry("1.00", details=with_pty)
        + entry("2.00", details=with_nm)
        + entry("3.00", details=shifted)
        + entry("1.00", details=with_pty)
    )
    lines = [d for _, _, d in parse_file(camt(body)).details()]
    assert [(d.amount, d.debtor_name, d.debtor_iban, d.remittance) for d in lines] == [
        (eur("1.00"), "Pty Name", None, "first"),
        (eur("2.00"), "Plain Name", "0532013000", "second"),
        (eur("3.00"), None, None, "third line"),
        (eur("1.00"), "Pty Name", None, "first"),
    ]
    # Entries 1 and 4 are identical: the repeat is numbered, not merged.
    assert lines[3].fingerprint == lines[0].fingerprint + "#2"


def test_a_refusal_in_an_entry_comes_before_a_syntax_error_later_in_the_file():
    data = camt(entry("1.0.0") + entry("2.00")).replace(b"</Ntry></Stmt>", b"</Ntry></Stmnt>")
    error = refused("payments.bank.bad_amount", parse_file, data)
    assert error.where == "Stmt 1, entry 1"
    refused(
        "payments.bank.malformed", parse_file, camt(entry("1.00") + entry("2.00")).replace(b"</Stmt>", b"")
    )


def test_amount_of_gives_the_same_money_or_refusal_as_reading_text_then_currency():
    cases = [
        ("45.96", "EUR", 1), ("45.96", "EUR", -1), ("0.00", "EUR", -1), (" 7.5 ", "EUR", 1), ("12.300", "EUR", 1),
        ("100", "JPY", -1), ("1.005", "KWD", 1), ("10.005", "EUR", 1), ("1e3", "EUR", 1), ("", "EUR", 1),
        (None, "EUR", 1), ("5.00", None, 1), ("5.00", " EUR", 1), ("5.00", "XXX", 1), ("1000000000000000", "EUR", 1),
    ]  # fmt: skip

    def reference(text, currency, sign):
        try:
            value = decimal_text(text, where="here")
            return money(value * sign if sign < 0 else value, currency, where="here")
        except Exception as exc:
            return (type(exc), exc.code, exc.message)

    for text, currency, sign in cases:
        try:
            got = amount_of(text, currency, sign, lambda: "here")
        except Exception as exc:
            got = (type(exc), exc.code, exc.message)
        expected = reference(text, currency, sign)
        assert got == expected and repr(got) == repr(expected), (text, currency, sign)
    # The sign stays on a zero (as the file said DBIT): -0.00, not 0.00.
    assert repr(amount_of("0.00", "EUR", -1, lambda: "here").amount) == "Decimal('-0.00')"


def test_references_are_stored_as_the_json_dumps_text_of_their_list():
    for refs in (["RF18539007547034"], ["INV-1", 'Müller "Ref"'], ["a\\b", "\u20ac"]):
        assert f"[{', '.join(map(encode_basestring_ascii, refs))}]" == json.dumps(refs)


def test_an_entry_inside_a_comment_or_another_namespace_is_not_read():
    body = (
        entry("1.00")
        + "<!-- "
        + entry("2.00")
        + " -->"
        + '<x:Wrap xmlns:x="urn:other" xmlns="urn:other">'
        + entry("3.00")
        + "</x:Wrap>"
        + entry("4.00")
    )
    assert [d.amount for _, _, d in parse_file(camt(body)).details()] == [eur("1.00"), eur("4.00")]


def test_plainly_written_entries_read_entities_line_ends_and_dates_as_the_xml_says():
    details = (
        "<TxDtls><RltdPties>\r\n  <Dbtr><Pty><Nm>M&amp;S &lt;Ltd&gt;</Nm></Pty></Dbtr>\r\n</RltdPties>"
        "<RmtInf><Ustrd>line one\r\nline  two</Ustrd><Ustrd>&quot;3&apos;</Ustrd></RmtInf></TxDtls>"
    )
    data = camt(
        entry("7.00", details=details).replace(
            "<Dt>2027-03-01</Dt>", "<DtTm>2027-03-02T23:30:00+02:00</DtTm>"
        )
    )
    ((_, line_entry, line),) = parse_file(data).details()
    assert (line.debtor_name, line.remittance) == ("M&S <Ltd>", "line one line two \"3'")
    assert (line_entry.booking_date, line_entry.value_date) == (date(2027, 3, 2), date(2027, 3, 2))


def test_a_file_in_another_encoding_is_read_to_the_same_lines():
    body = entry("1.00") + entry(
        "2.50", "DBIT", details="<TxDtls><RmtInf><Ustrd>Fee</Ustrd></RmtInf></TxDtls>"
    )
    utf8 = camt(body)
    latin1 = utf8.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    assert [(d.amount, d.fingerprint) for _, _, d in parse_file(latin1).details()] == [
        (d.amount, d.fingerprint) for _, _, d in parse_file(utf8).details()
    ]

"""Helpers for the bank-import and cash-matching tests: fixture files, refusals by code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from q2c.payments.bank import BankFileError

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def refused(code: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> BankFileError:
    """Run ``call`` and return the BankFileError it must raise with ``code``."""
    with pytest.raises(BankFileError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.message)
    return caught.value


def camt(
    body: str, *, version: str = "camt.053.001.02", opening: str | None = None, closing: str | None = None
) -> bytes:
    """A minimal camt.053 statement around hand-written ``<Ntry>`` elements."""
    balances = ""
    for code, amount in (("OPBD", opening), ("CLBD", closing)):
        if amount is not None:
            indicator = "DBIT" if amount.startswith("-") else "CRDT"
            balances += (
                f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount.lstrip("-")}</Amt>'
                f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>2027-03-01</Dt></Dt></Bal>"
            )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">'
        "<BkToCstmrStmt><GrpHdr><MsgId>T</MsgId><CreDtTm>2027-03-01T10:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{balances}{body}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def entry(
    amount: str, indicator: str = "CRDT", *, ccy: str = "EUR", details: str = "", extra: str = ""
) -> str:
    return (
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{extra}<Sts>BOOK</Sts>'
        f"<BookgDt><Dt>2027-03-01</Dt></BookgDt><ValDt><Dt>2027-03-01</Dt></ValDt>"
        f"{'<NtryDtls>' + details + '</NtryDtls>' if details else ''}</Ntry>"
    )

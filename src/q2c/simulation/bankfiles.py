"""Bank statements the simulated bank sends: one camt.053.001.08 file per account and day.

Pure: plain transfers in, the file's bytes out. Balances are chained from the previous day's
closing balance; every entry has the bank's own reference, so a file imported twice is the same
file. The payer writes what customers write (see ``behaviour.reference_quality``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Transfer:
    amount_minor: int  # > 0: money in
    currency: str
    payer_name: str
    payer_iban: str
    remittance: str = ""  # unstructured text
    reference: str = ""  # structured creditor reference (RF…), if the payer used it
    end_to_end_id: str = ""


def _amount(minor: int) -> str:
    return f"{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _balance(code: str, minor: int, currency: str, day: date) -> str:
    sign = "CRDT" if minor >= 0 else "DBIT"
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{_amount(minor)}</Amt>'
        f"<CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


def camt053(
    *,
    iban: str,
    bic: str,
    currency: str,
    day: date,
    opening_minor: int,
    transfers: Sequence[Transfer],
    sequence: int,
) -> tuple[bytes, int]:
    """One day's statement of one account; returns the file and the closing balance (minor units)."""
    closing = opening_minor + sum(t.amount_minor for t in transfers)
    stamp = day.strftime("%Y%m%d")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>DEMO-{iban[-6:]}-{stamp}</MsgId><CreDtTm>{day.isoformat()}T20:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{iban[-6:]}-{stamp}</Id><ElctrncSeqNb>{sequence}</ElctrncSeqNb>"
        f"<CreDtTm>{day.isoformat()}T20:00:00</CreDtTm>"
        f"<FrToDt><FrDtTm>{day.isoformat()}T00:00:00</FrDtTm><ToDtTm>{day.isoformat()}T23:59:59</ToDtTm></FrToDt>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy><Svcr><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></Svcr></Acct>"
        f"{_balance('OPBD', opening_minor, currency, day)}{_balance('CLBD', closing, currency, day)}"
    ]
    for n, t in enumerate(transfers, start=1):
        credit = t.amount_minor > 0
        amount = f'<Amt Ccy="{t.currency}">{_amount(t.amount_minor)}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
        role = "Dbtr" if credit else "Cdtr"
        party = f"<{role}><Pty><Nm>{escape(t.payer_name)}</Nm></Pty></{role}><{role}Acct><Id><IBAN>{t.payer_iban}</IBAN></Id></{role}Acct>"
        info = f"<Ustrd>{escape(t.remittance)}</Ustrd>" if t.remittance else ""
        if t.reference:
            info += (
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                f"<Ref>{escape(t.reference)}</Ref></CdtrRefInf></Strd>"
            )
        ref = f"{stamp}{n:06d}"
        out.append(
            f"<Ntry><NtryRef>{ref}</NtryRef>{amount}<Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{day.isoformat()}</Dt></BookgDt><ValDt><Dt>{day.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{iban[-4:]}{ref}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(t.end_to_end_id or 'NOTPROVIDED')}</EndToEndId></Refs>"
            f"{amount}<RltdPties>{party}</RltdPties><RmtInf>{info}</RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    out.append("</Stmt></BkToCstmrStmt></Document>\n")
    return "".join(out).encode("utf-8"), closing

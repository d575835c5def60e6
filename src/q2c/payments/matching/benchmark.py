"""The cash-application benchmark's data, pure: open items, bank lines with known truth, scoring.

:func:`generate` builds M open invoices of C = M/10 customers (each with one or two bank accounts,
85 % of them learned from earlier payments) and N bank lines with issue 14's fixed noise mix:

========================  ====  =====================================================================
category                  share what the line carries
========================  ====  =====================================================================
``rf_exact``              40 %  the invoice's RF reference, the exact amount
``number_typo``           20 %  the invoice number in free text with one typo: a digit wrong, missing
                                or doubled, two digits swapped, or O/I typed for 0/1
``iban_amount``           10 %  no reference; the amount is unique among the customer's open
                                invoices; the payer's IBAN is known
``multi_invoice``         10 %  one payment for 2–5 invoices of one customer: half list the numbers,
                                half only come from the customer's known IBAN
``bank_fee``               5 %  short by a bank fee (0.01 … tolerance), with RF or the number
``foreign_name``           5 %  no reference, an unknown foreign account, the customer's name as a
                                foreign bank writes it (case, accents, legal form, order, suffixes)
``partial``                5 %  part of an invoice (a fifth to four fifths), with RF or the number;
                                some invoices are paid in two parts
``no_invoice``             5 %  refunds received and debits that belong to no invoice
========================  ====  =====================================================================

The truth of a line is the set of (item, cash, fee) it should apply, or None. :func:`evaluate`
scores outcomes against it: ``auto_matched_pct`` over lines that have a true match, and
``precision_pct``, the share of automatic applications that are exactly right.
:func:`camt053_document` writes the lines as a camt.053.001.08 file so the benchmark measures the
import too; :func:`run_cash_bench` runs generation (setup), import and matching.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import gc
import math
import random
import resource
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

from q2c.core.errors import ValidationError
from q2c.core.money import Money
from q2c.payments.bank.parse import parse_file
from q2c.payments.matching.adapters import bank_lines
from q2c.payments.matching.engine import CashMatcher
from q2c.payments.matching.model import (
    BankLine,
    Customer,
    KnownPayer,
    MatchSettings,
    OpenItem,
    Outcome,
    Status,
)
from q2c.payments.matching.references import fast_creditor_reference

MIX: tuple[tuple[str, int], ...] = (
    ("rf_exact", 40),
    ("number_typo", 20),
    ("iban_amount", 10),
    ("multi_invoice", 10),
    ("bank_fee", 5),
    ("foreign_name", 5),
    ("partial", 5),
    ("no_invoice", 5),
)
ACCOUNT = "DE89370400440532013000"  # the seller's account (the Northwind story's Acme Cloud GmbH)
TOLERANCE = Money("20.00", "EUR")
CURRENCY = "EUR"

Truth = tuple[tuple[int | str, int, int], ...] | None

_FIRST = [
    "Nord",
    "Sued",
    "Ost",
    "West",
    "Alpen",
    "Rhein",
    "Elb",
    "Main",
    "Isar",
    "Donau",
    "Hanse",
    "Berg",
    "Tal",
    "Wald",
    "Stadt",
    "Land",
    "See",
    "Inn",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Proseware",
    "Adventure",
    "Blue",
    "Yonder",
    "Coho",
    "Lucerne",
    "Margie",
    "Trey",
    "Wide",
    "Humongous",
    "Alpine",
    "Fourth",
    "Graphic",
    "Woodgrove",
    "Consolidated",
    "Lamna",
    "Atlas",
    "Orion",
    "Vega",
    "Polaris",
    "Zenit",
    "Merkur",
    "Saturn",
    "Aurora",
    "Nova",
    "Helix",
    "Quantum",
    "Vertex",
    "Apex",
    "Summit",
]
_SECOND = [
    "Handels",
    "Technik",
    "Logistik",
    "Systems",
    "Solutions",
    "Foods",
    "Bau",
    "Medien",
    "Software",
    "Consulting",
    "Partners",
    "Industries",
    "Trading",
    "Services",
    "Energie",
    "Maschinen",
    "Elektro",
    "Textil",
    "Moebel",
    "Papier",
    "Druck",
    "Chemie",
    "Pharma",
    "Optik",
    "Metall",
    "Holz",
    "Glas",
    "Kunststoff",
    "Transport",
    "Reisen",
    "Versand",
    "Immobilien",
    "Gastro",
    "Agrar",
    "Fahrzeug",
    "Werkzeug",
    "Daten",
    "Netz",
    "Sicherheit",
    "Verpackung",
    "Labor",
    "Design",
    "Marketing",
    "Finanz",
    "Spedition",
    "Kontor",
]
_THIRD = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "García",
    "Martínez",
    "Rossi",
    "Bianchi",
    "Novák",
    "Kowalski",
    "Jansen",
    "Visser",
    "Andersson",
    "Nieminen",
    "Horváth",
    "Popescu",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Walsh",
    "Byrne",
]
_FORMS = (
    "GmbH",
    "GmbH & Co. KG",
    "AG",
    "KG",
    "SARL",
    "SAS",
    "B.V.",
    "Ltd",
    "S.p.A.",
    "S.L.",
    "Oy",
    "AB",
    "Inc",
)
_NOISE_PAYERS = (
    "Allianz Versicherungs-AG", "Finanzamt Hamburg-Mitte", "Amazon Payments Europe", "Deutsche Telekom",
    "Stadtwerke München", "AOK Bayern", "Lufthansa AG", "Office Depot", "DHL Paket GmbH", "Techem GmbH",
)  # fmt: skip
_NOISE_CREDITS = (
    "Erstattung Bestellung {n}", "Refund order #A-{n}", "Gutschrift Schadenfall {n}", "Steuererstattung 2026",
    "Rueckerstattung Kaution", "Bonus Q1 Lieferant {n}", "Zinsen 1. Quartal",
)  # fmt: skip
_NOISE_DEBITS = (
    "Miete Buero Mai", "Lastschrift Telekom Kd {n}", "Gehalt Mai", "Kartenumsatz {n}", "Versicherung Beitrag",
    "Leasingrate {n}",
)  # fmt: skip
_GENERIC = ("", "Zahlung", "Payment", "Ueberweisung", "Begleichung offene Posten", "thank you", "Paiement")


@dataclass(frozen=True)
class BenchData:
    items: list[OpenItem]
    customers: list[Customer]
    payers: list[KnownPayer]
    lines: list[BankLine]
    truth: dict[str, Truth]  # by line id (= end-to-end id)
    category: dict[str, str]
    settings: MatchSettings


def _iban(rng: random.Random, country: str) -> str:
    lengths = {"DE": 18, "AT": 16, "NL": 14, "FR": 23, "BE": 12, "ES": 20, "IT": 23, "PL": 24}
    if country == "NL":
        bban = rng.choice(("INGB", "RABO", "ABNA")) + "".join(rng.choice("0123456789") for _ in range(10))
    elif country == "IT":
        bban = rng.choice("ABCDEFGHIJ") + "".join(rng.choice("0123456789") for _ in range(22))
    else:
        bban = "".join(rng.choice("0123456789") for _ in range(lengths.get(country, 18)))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def _typo(number: str, rng: random.Random) -> str:
    """One slip in the digits of ``number`` (never the prefix letters)."""
    positions = [i for i, c in enumerate(number) if c.isdigit()]
    kind = rng.choice(("substitute", "delete", "swap", "lookalike"))
    if kind == "lookalike":
        zeros = [i for i in positions if number[i] in "01"]
        if zeros:
            i = rng.choice(zeros)
            return number[:i] + ("O" if number[i] == "0" else rng.choice("Il")) + number[i + 1 :]
        kind = "substitute"
    if kind == "swap":
        pairs = [i for i in positions if i + 1 in positions and number[i] != number[i + 1]]
        if pairs:
            i = rng.choice(pairs)
            return number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        kind = "substitute"
    i = rng.choice(positions)
    if kind == "delete":
        return number[:i] + number[i + 1 :]
    return number[:i] + rng.choice([d for d in "0123456789" if d != number[i]]) + number[i + 1 :]


def _foreign(name: str, rng: random.Random) -> str:
    """The customer's name as another bank writes it."""
    words = name.split()
    form = next((f for f in _FORMS if name.endswith(" " + f)), "")
    base = name[: -len(form) - 1] if form else name
    kind = rng.randrange(7)
    if kind == 0:
        out = base.upper()
    elif kind == 1:
        out = (
            base.replace("ü", "ue")
            .replace("ö", "oe")
            .replace("ä", "ae")
            .replace("é", "e")
            .replace("è", "e")
            .upper()
            + " "
            + form.upper()
        )
    elif kind == 2:
        out = " ".join(reversed(base.split())) + " " + form
    elif kind == 3:
        out = (
            name.upper()
            + " "
            + rng.choice(("HAMBURG", "PARIS", "MILANO", "WIEN", "ROTTERDAM", "LONDON", "DE", "FR"))
        )
    elif kind == 4:
        out = (form.replace(" ", "").replace(".", "") + " " + base) if form else base
    elif kind == 5:
        letters = [c for c in form if c.isalpha()]
        out = base + " " + ".".join(letters) + "." if letters else base  # "G.m.b.H."
    else:
        out = name[:27].upper()  # fixed-width legacy systems cut the name
    return " ".join(out.split()) if out.strip() else " ".join(words)


def generate(n_lines: int, n_items: int, *, seed: int = 2027) -> BenchData:
    """Open items and bank lines with known truth (deterministic for a seed)."""
    if n_lines < 20 or n_items < 2 * n_lines:
        raise ValidationError(
            "the cash benchmark needs at least 20 lines and twice as many open items as lines",
            code="payments.bench_size",
            field="open_items",
        )
    rng = random.Random(seed)
    n_customers = max(1, n_items // 10)
    width = max(6, len(str(n_items)))
    countries = ("DE", "DE", "DE", "AT", "NL", "FR", "BE", "ES", "IT", "PL")
    customers: list[Customer] = []
    accounts: list[list[str]] = []
    for c in range(n_customers):
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_THIRD)} {rng.choice(_FORMS)}"
        customers.append(Customer(c, name, f"K-{10_000_000 + c}"))
        accounts.append([_iban(rng, rng.choice(countries)) for _ in range(rng.choice((1, 1, 2)))])
    known = [rng.random() < 0.85 for _ in range(n_customers)]
    payers = [
        KnownPayer(iban, c, customers[c].name) for c in range(n_customers) if known[c] for iban in accounts[c]
    ]
    start = date(2027, 1, 1)
    low, high = math.log(2_000), math.log(2_500_000)  # 20.00 … 25,000.00 EUR, log-uniform
    items: list[OpenItem] = []
    by_customer: list[list[int]] = [[] for _ in range(n_customers)]
    for i in range(n_items):
        c = rng.randrange(n_customers)
        number = f"INV-2027-{i + 1:0{width}d}"
        items.append(
            OpenItem(
                item_id=i + 1,
                customer_id=c,
                number=number,
                open_minor=int(math.exp(rng.uniform(low, high))),
                currency=CURRENCY,
                due_date=start + timedelta(days=rng.randrange(180)),
                reference=fast_creditor_reference(number),
            )
        )
        by_customer[c].append(i)
    counts = {name: n_lines * share // 100 for name, share in MIX}
    counts["rf_exact"] += n_lines - sum(counts.values())
    used = bytearray(n_items)
    tolerance = TOLERANCE.minor_units()
    lines: list[BankLine] = []
    truth: dict[str, Truth] = {}
    category: dict[str, str] = {}

    def free_item(min_amount: int = 0) -> int:
        while True:
            i = rng.randrange(n_items)
            if not used[i] and items[i].open_minor > min_amount:
                used[i] = 1
                return i

    def payer_of(c: int, *, known_only: bool) -> str:
        if known_only or (known[c] and rng.random() < 0.7):
            return rng.choice(accounts[c])
        return _iban(rng, rng.choice(countries))

    def add(
        kind: str,
        amount: int,
        t: Truth,
        *,
        name: str | None,
        iban: str | None,
        text: str = "",
        refs: tuple[str, ...] = (),
    ) -> None:
        line_id = f"L{len(lines) + 1:07d}"
        lines.append(
            BankLine(
                line_id=line_id,
                amount_minor=amount,
                currency=CURRENCY,
                account=ACCOUNT,
                booking_date=date(2027, 5, 1) + timedelta(days=len(lines) % 20),
                remittance=text,
                references=refs,
                payer_name=name,
                payer_iban=iban,
                end_to_end_id=line_id,
            )
        )
        truth[line_id] = t
        category[line_id] = kind

    def known_customer(min_items: int = 1) -> int:
        while True:
            c = rng.randrange(n_customers)
            if known[c] and sum(1 for i in by_customer[c] if not used[i]) >= min_items:
                return c

    def written(number: str) -> str:
        digits = number[4:]
        return rng.choice(
            (
                number,
                "INV " + digits.replace("-", " "),
                "INV" + digits,
                digits.replace("-", "/"),
                "Nr. " + number,
            )
        )

    for _ in range(counts["rf_exact"]):
        i = free_item()
        it = items[i]
        c = int(it.customer_id)
        name = rng.choice((customers[c].name, customers[c].name.upper()))
        text = rng.choice(("", "", "Invoice " + it.number, "Rechnung"))
        add(
            "rf_exact",
            it.open_minor,
            ((it.item_id, it.open_minor, 0),),
            name=name,
            iban=payer_of(c, known_only=False),
            text=text,
            refs=(it.reference or "",),
        )
    for _ in range(counts["number_typo"]):
        i = free_item()
        it = items[i]
        c = int(it.customer_id)
        text = rng.choice(
            (
                "Rechnung {}",
                "Invoice {} thank you",
                "{}",
                "Zahlung {} Kd " + customers[c].name.split()[0],
                "RE {} vom 12.04.",
            )
        ).format(_typo(written(it.number), rng))
        add(
            "number_typo",
            it.open_minor,
            ((it.item_id, it.open_minor, 0),),
            name=customers[c].name,
            iban=payer_of(c, known_only=False),
            text=text,
        )
    for _ in range(counts["iban_amount"]):
        while True:
            c = known_customer()
            pool = [i for i in by_customer[c] if not used[i]]
            i = rng.choice(pool)
            amounts = Counter(items[j].open_minor for j in by_customer[c] if not used[j])
            if amounts[items[i].open_minor] == 1:
                break
        used[i] = 1
        it = items[i]
        add(
            "iban_amount",
            it.open_minor,
            ((it.item_id, it.open_minor, 0),),
            name=customers[c].name,
            iban=rng.choice(accounts[c]),
            text=rng.choice(_GENERIC),
        )
    for _ in range(counts["multi_invoice"]):
        c = known_customer(2)
        pool = [i for i in by_customer[c] if not used[i]]
        chosen = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
        for i in chosen:
            used[i] = 1
        chosen_items = [items[i] for i in chosen]
        total = sum(it.open_minor for it in chosen_items)
        if rng.random() < 0.5:
            text = " ".join(it.number for it in chosen_items)
        else:
            text = rng.choice(
                ("Sammelzahlung", "Payment of open invoices", "Begleichung Rechnungen April", "")
            )
        add(
            "multi_invoice",
            total,
            tuple(sorted((it.item_id, it.open_minor, 0) for it in chosen_items)),
            name=customers[c].name,
            iban=rng.choice(accounts[c]),
            text=text,
        )
    for _ in range(counts["bank_fee"]):
        i = free_item(min_amount=10 * tolerance)
        it = items[i]
        c = int(it.customer_id)
        fee = rng.choice((250, 500, 750, 1000, 1250, 1500, 2000, rng.randint(1, tolerance)))
        by_rf = rng.random() < 0.5
        add(
            "bank_fee",
            it.open_minor - fee,
            ((it.item_id, it.open_minor - fee, fee),),
            name=customers[c].name,
            iban=payer_of(c, known_only=False),
            text="" if by_rf else "Invoice " + it.number,
            refs=(it.reference or "",) if by_rf else (),
        )
    for _ in range(counts["foreign_name"]):
        i = free_item()
        it = items[i]
        c = int(it.customer_id)
        add(
            "foreign_name",
            it.open_minor,
            ((it.item_id, it.open_minor, 0),),
            name=_foreign(customers[c].name, rng),
            iban=_iban(rng, rng.choice(("FR", "IT", "ES", "PL", "BE"))),
            text=rng.choice(("Paiement facture", "Pago factura", "Platnosc", "Betaling", "")),
        )
    partial_left = counts["partial"]
    while partial_left > 0:
        i = free_item(min_amount=50 * tolerance)
        it = items[i]
        c = int(it.customer_id)
        first = it.open_minor * rng.randint(20, 80) // 100
        two = partial_left >= 2 and rng.random() < 0.4
        parts = (first, it.open_minor - first) if two else (first,)
        by_rf = rng.random() < 0.5
        for part in parts:
            add(
                "partial",
                part,
                ((it.item_id, part, 0),),
                name=customers[c].name,
                iban=payer_of(c, known_only=False),
                text=("Teilzahlung" if by_rf else "Teilzahlung " + it.number),
                refs=(it.reference or "",) if by_rf else (),
            )
            partial_left -= 1
    for _ in range(counts["no_invoice"]):
        n = rng.randint(1000, 99999)
        amount = int(math.exp(rng.uniform(low, high)))
        if rng.random() < 0.5:
            add(
                "no_invoice",
                amount,
                None,
                name=rng.choice(_NOISE_PAYERS),
                iban=_iban(rng, "DE"),
                text=rng.choice(_NOISE_CREDITS).format(n=n),
            )
        else:
            add(
                "no_invoice",
                -amount,
                None,
                name=rng.choice(_NOISE_PAYERS),
                iban=_iban(rng, "DE"),
                text=rng.choice(_NOISE_DEBITS).format(n=n),
            )
    order = list(range(len(lines)))
    rng.shuffle(order)
    # Keep the two parts of an invoice paid twice in order; shuffling everything else is what banks do.
    shuffled = [lines[k] for k in order]
    settings = MatchSettings(fee_tolerance={ACCOUNT: TOLERANCE})
    return BenchData(items, customers, payers, shuffled, truth, category, settings)


def applied(outcome: Outcome) -> Truth:
    if outcome.proposal is None:
        return None
    return tuple(
        sorted(
            (a.item_id, a.amount.minor_units(), a.fee.minor_units()) for a in outcome.proposal.applications
        )
    )


def evaluate(outcomes: Iterable[Outcome], lines: Sequence[BankLine], data: BenchData) -> dict[str, Any]:
    """Scores against the truth; lines are identified by their end-to-end id."""
    ids = {line.line_id: (line.end_to_end_id or line.line_id) for line in lines}
    with_truth = auto_true = auto = correct = 0
    per: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        key = ids[outcome.line_id]
        expected = data.truth.get(key)
        kind = data.category.get(key, "?")
        tally = per.setdefault(kind, Counter())
        tally["lines"] += 1
        is_auto = outcome.status is Status.AUTO
        if expected is not None:
            with_truth += 1
            auto_true += is_auto
        if is_auto:
            auto += 1
            tally["auto"] += 1
            if applied(outcome) == expected:
                correct += 1
                tally["correct"] += 1
            else:
                tally["wrong"] += 1
    return {
        "auto_matched_pct": round(100 * auto_true / with_truth, 2) if with_truth else 0.0,
        "precision_pct": round(100 * correct / auto, 3) if auto else 100.0,
        "auto_applied": auto,
        "auto_wrong": auto - correct,
        "by_category": {k: dict(v) for k, v in sorted(per.items())},
    }


def camt053_document(
    lines: Sequence[BankLine], *, account: str = ACCOUNT, per_statement: int = 5_000
) -> bytes:
    """The lines as a camt.053.001.08 file: statements of ``per_statement`` entries, balances chained."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>BENCH-CAMT053</MsgId><CreDtTm>2027-05-31T22:00:00+02:00</CreDtTm></GrpHdr>"
    ]
    balance = 0
    for s, start in enumerate(range(0, len(lines), per_statement), start=1):
        chunk = lines[start : start + per_statement]
        currency = chunk[0].currency
        opening = balance
        balance += sum(line.amount_minor for line in chunk)
        out.append(
            f"<Stmt><Id>BENCH-{s:05d}</Id><ElctrncSeqNb>{s}</ElctrncSeqNb><Acct><Id><IBAN>{account}</IBAN></Id>"
            f"<Ccy>{currency}</Ccy></Acct>{_balance('OPBD', opening, currency)}{_balance('CLBD', balance, currency)}"
        )
        for n, line in enumerate(chunk, start=start + 1):
            credit = line.amount_minor > 0
            amount = f'<Amt Ccy="{currency}">{_decimal(abs(line.amount_minor))}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
            day = (line.booking_date or date(2027, 5, 1)).isoformat()
            role = "Dbtr" if credit else "Cdtr"
            party = (
                f"<{role}><Pty><Nm>{escape(line.payer_name)}</Nm></Pty></{role}>" if line.payer_name else ""
            )
            party += (
                f"<{role}Acct><Id><IBAN>{line.payer_iban}</IBAN></Id></{role}Acct>" if line.payer_iban else ""
            )
            remittance = f"<Ustrd>{escape(line.remittance)}</Ustrd>" if line.remittance else ""
            remittance += "".join(
                f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{escape(r)}</Ref></CdtrRefInf></Strd>"
                for r in line.references
            )
            out.append(
                f"<Ntry><NtryRef>{n}</NtryRef>{amount}<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
                f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>BENCH{n:09d}</AcctSvcrRef>"
                f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(line.end_to_end_id or line.line_id)}</EndToEndId></Refs>{amount}"
                f"<RltdPties>{party}</RltdPties><RmtInf>{remittance}</RmtInf></TxDtls></NtryDtls></Ntry>"
            )
        out.append("</Stmt>")
    out.append("</BkToCstmrStmt></Document>\n")
    return "".join(out).encode("utf-8")


def _decimal(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _balance(code: str, minor: int, currency: str) -> str:
    indicator = "CRDT" if minor >= 0 else "DBIT"
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{_decimal(abs(minor))}</Amt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>2027-05-31</Dt></Dt></Bal>"
    )


def run_cash_bench(lines: int, open_items: int, *, seed: int = 2027, via_file: bool = True) -> dict[str, Any]:
    """Generate (setup), then import the camt.053 file and match every line; report the figures.

    The pure pipeline: applications are proposed and tracked in memory, not written — writing them
    through the payments service belongs to the payments app.
    """
    started = time.perf_counter()
    data = generate(lines, open_items, seed=seed)
    document = camt053_document(data.lines) if via_file else b""
    # The generated data lives for the whole run: keep the garbage collector from re-walking it.
    gc.collect()
    gc.freeze()
    setup_s = time.perf_counter() - started
    try:
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        if via_file:
            parsed = parse_file(document)
            bank = bank_lines(parsed.statements)
        else:
            bank = data.lines
        t1 = time.perf_counter()
        matcher = CashMatcher(data.items, data.customers, data.payers, data.settings)
        t2 = time.perf_counter()
        outcomes = matcher.match_all(bank)
        t3 = time.perf_counter()
        cpu_s = time.process_time() - cpu0
    finally:
        gc.unfreeze()  # hand the objects back to the collector (tests run this in-process)
    scores = evaluate(outcomes, bank, data)
    statuses = Counter(o.status.value for o in outcomes)
    return {
        "lines": lines,
        "open_items": open_items,
        "seconds": round(t3 - t0, 2),
        "cpu_s": round(cpu_s, 2),
        "auto_matched_pct": scores["auto_matched_pct"],
        "precision_pct": scores["precision_pct"],
        "setup_s": round(setup_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "import_s": round(t1 - t0, 2),
        "index_s": round(t2 - t1, 2),
        "match_s": round(t3 - t2, 2),
        "statuses": dict(statuses),
        "auto_wrong": scores["auto_wrong"],
        "by_category": scores["by_category"],
        "applications_written": False,
        "note": "pure pipeline (import + matching); applications are not yet written to the database",
    }


def add_arguments(parser: Any) -> None:
    """Options of ``q2c bench cash`` (the composition root registers the benchmark)."""
    parser.add_argument("--lines", type=int, default=100_000, help="bank lines (N)")
    parser.add_argument(
        "--open-items", dest="open_items", type=int, default=1_000_000, help="open invoices (M)"
    )
    parser.add_argument("--seed", type=int, default=2027)


def run(**options: Any) -> dict[str, Any]:
    """``q2c bench cash``: the pure pipeline, labelled as such until the payments app writes."""
    return run_cash_bench(options["lines"], options["open_items"], seed=options.get("seed") or 2027)

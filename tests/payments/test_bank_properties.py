"""Properties of the importers: exact amounts and signs survive any text the banks may send."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.core.money import Money
from q2c.payments.bank import parse_file
from q2c.payments.matching import BankLine
from q2c.payments.matching.adapters import bank_lines
from q2c.payments.matching.benchmark import camt053_document

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=40)
lines = st.lists(
    st.tuples(st.integers(min_value=-(10**12), max_value=10**12).filter(bool), text, text),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(lines)
def test_any_amount_name_and_remittance_survives_a_camt_round_trip(rows):
    written = [
        BankLine(
            f"L{i}",
            cents,
            "EUR",
            booking_date=date(2027, 5, 1),
            remittance=remit,
            payer_name=name or None,
            end_to_end_id=f"L{i}",
        )
        for i, (cents, remit, name) in enumerate(rows)
    ]
    parsed = parse_file(camt053_document(written, per_statement=5))
    back = bank_lines(parsed.statements)
    assert [b.amount_minor for b in back] == [w.amount_minor for w in written]
    # XML keeps the characters; q2c collapses runs of whitespace in texts.
    assert [b.remittance for b in back] == [" ".join(w.remittance.split()) for w in written]
    assert [b.payer_name for b in back] == [(" ".join((w.payer_name or "").split()) or None) for w in written]
    assert parsed.warnings == ()


# SWIFT MT940 field 61: the direction money moves for each debit/credit mark (independent table).
DIRECTION = {"C": 1, "D": -1, "RC": -1, "RD": 1}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(DIRECTION)), st.booleans(), st.integers(min_value=1, max_value=10**9)
        ),
        min_size=1,
        max_size=10,
    )
)
def test_every_mt940_mark_in_either_case_signs_by_the_direction_money_moves(marks):
    body = ""
    total = 0
    for mark, lower, cents in marks:
        written = mark.lower() if lower else mark
        body += f":61:2705020502{written}{cents // 100},{cents % 100:02d}NTRFNONREF\n:86:line\n"
        total += DIRECTION[mark] * cents
    closing = f"{'C' if total >= 0 else 'D'}270502EUR{abs(total) // 100},{abs(total) % 100:02d}"
    data = (
        f":20:P\n:25:DE89370400440532013000\n:28C:1\n:60F:C270501EUR0,00\n{body}:62F:{closing}\n-\n".encode()
    )
    parsed = parse_file(data)
    amounts = [e.amount for e in parsed.statements[0].entries]
    assert amounts == [Money(Decimal(DIRECTION[m] * c).scaleb(-2), "EUR") for m, _, c in marks]
    assert [e.reversal for e in parsed.statements[0].entries] == [m.startswith("R") for m, _, _ in marks]
    assert parsed.warnings == ()  # the balances add up

"""Pure validation of entry drafts: exact balance, sources, decimals, currencies, originals.

No database: ``validate`` is plain Python over plain dataclasses.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.core.errors import DomainError, InvalidTransition
from q2c.core.money import Money, allocate_minor
from q2c.core.statemachine import all_moves, transition
from q2c.ledger.domain import (
    PERIOD_TRANSITIONS,
    DraftLine,
    EntryDraft,
    PeriodStatus,
    SourceRef,
    digest_rows,
    month_key,
    parse_month,
    reversal_lines,
    validate,
)

SRC = SourceRef("invoicing", "invoice", 42)


def eur(a: str) -> Money:
    return Money(a, "EUR")


def draft(*lines: DraftLine, source: SourceRef | None = SRC, **kw) -> EntryDraft:
    fields = {"entity_id": 1, "date": date(2027, 3, 1), "description": "INV-42", "source": source}
    fields.update(kw)
    return EntryDraft(lines=lines, **fields)


def code_of(d: EntryDraft, currency: str = "EUR") -> tuple[str, str | None]:
    with pytest.raises(DomainError) as err:
        validate(d, currency)
    return err.value.code, err.value.field


def test_a_balanced_draft_validates_and_returns_its_total():
    d = draft(DraftLine.dr("ar", eur("119.00")), DraftLine.cr("revenue.services", eur("100.00")),
              DraftLine.cr("tax_payable.DE-S-19", eur("19.00")))  # fmt: skip
    assert validate(d, "EUR") == eur("119.00")


def test_one_cent_off_is_unbalanced_there_is_no_tolerance():
    d = draft(DraftLine.dr("ar", eur("100.00")), DraftLine.cr("revenue.services", eur("99.99")))
    code, field = code_of(d)
    assert (code, field) == ("ledger.unbalanced", "lines")
    with pytest.raises(DomainError, match=r"debits 100.00 EUR ≠ credits 99.99 EUR \(difference 0.01 EUR\)"):
        validate(d, "EUR")


@pytest.mark.parametrize(
    ("source", "field"),
    [
        (None, "source"),
        (SourceRef("", "invoice", 1), "source.app"),
        (SourceRef("invoicing", "  ", 1), "source.type"),
        (SourceRef("invoicing", "invoice", ""), "source.id"),
        (SourceRef("invoicing", "invoice", "x" * 65), "source.id"),
    ],
)
def test_an_entry_without_a_full_source_reference_is_refused(source, field):
    d = draft(DraftLine.dr("ar", eur("1.00")), DraftLine.cr("bank", eur("1.00")), source=source)
    assert code_of(d) == ("ledger.no_source", field)


def test_more_decimals_than_the_currency_allows_are_refused():
    d = draft(DraftLine.dr("ar", eur("10.005")), DraftLine.cr("bank", eur("10.005")))
    assert code_of(d) == ("ledger.too_many_decimals", "lines[0].debit")
    yen = draft(DraftLine.dr("ar", Money("1.5", "JPY")), DraftLine.cr("bank", Money("1.5", "JPY")))
    assert code_of(yen, "JPY") == ("ledger.too_many_decimals", "lines[0].debit")


def test_a_line_in_another_currency_than_the_entitys_is_refused():
    d = draft(DraftLine.dr("ar", eur("10.00")), DraftLine.cr("bank", Money("10.00", "USD")))
    assert code_of(d) == ("ledger.currency_mismatch", "lines[1].credit")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ((DraftLine.dr("ar", eur("1.00")),), ("ledger.empty_entry", "lines")),
        ((), ("ledger.empty_entry", "lines")),
        ((DraftLine("ar", debit=eur("1.00"), credit=eur("1.00")), DraftLine.cr("bank", eur("0.00"))),
         ("ledger.invalid_line", "lines[0]")),
        ((DraftLine("ar"), DraftLine.cr("bank", eur("1.00"))), ("ledger.invalid_line", "lines[0]")),
        ((DraftLine.dr("ar", eur("0.00")), DraftLine.cr("bank", eur("0.00"))), ("ledger.invalid_line", "lines[0].debit")),
        ((DraftLine.dr("ar", eur("-5.00")), DraftLine.cr("bank", eur("-5.00"))), ("ledger.invalid_line", "lines[0].debit")),
        ((DraftLine.dr("AR!", eur("1.00")), DraftLine.cr("bank", eur("1.00"))), ("ledger.unknown_account", "lines[0].account")),
        ((DraftLine.dr(0, eur("1.00")), DraftLine.cr("bank", eur("1.00"))), ("ledger.unknown_account", "lines[0].account")),
        ((DraftLine.dr("ar", "1.00"), DraftLine.cr("bank", eur("1.00"))), ("ledger.invalid_line", "lines[0].debit")),
        ((DraftLine.dr("ar", eur("1.00"), memo="m" * 256), DraftLine.cr("bank", eur("1.00"))), ("ledger.invalid_line", "lines[0].memo")),
    ],
)  # fmt: skip
def test_malformed_lines_are_refused_naming_the_line(lines, expected):
    assert code_of(draft(*lines)) == expected


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "  "}, "description"),
        ({"description": "d" * 256}, "description"),
        ({"date": datetime(2027, 3, 1, 12, 0)}, "date"),
        ({"entity_id": 0}, "entity_id"),
        ({"entity_id": True}, "entity_id"),
    ],
)
def test_a_bad_header_is_refused(changes, field):
    d = draft(DraftLine.dr("ar", eur("1.00")), DraftLine.cr("bank", eur("1.00")), **changes)
    assert code_of(d) == ("ledger.invalid_entry", field)


def test_floats_cannot_even_be_written_as_amounts():
    with pytest.raises(TypeError):
        Money(10.5, "EUR")


# --- original-currency amounts --------------------------------------------------------------
def usd_line(original: str, rate: str, amount: str) -> DraftLine:
    return DraftLine.dr("ar", eur(amount), original=Money(original, "USD"), rate=Decimal(rate))


def test_an_original_amount_converted_and_rounded_to_the_line_is_accepted():
    # 108.50 USD × 0.9217 = 100.00445 EUR → 100.00 EUR (worked by hand).
    d = draft(usd_line("108.50", "0.9217", "100.00"), DraftLine.cr("revenue.services", eur("100.00")))
    assert validate(d, "EUR") == eur("100.00")


def test_an_original_amount_that_does_not_convert_to_the_line_is_refused():
    # 108.50 USD × 0.9217 = 100.00445 EUR, which does not round to 100.01 EUR.
    d = draft(usd_line("108.50", "0.9217", "100.01"), DraftLine.cr("revenue.services", eur("100.01")))
    assert code_of(d) == ("ledger.rate_mismatch", "lines[0].rate")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (DraftLine.dr("ar", eur("1.00"), original=Money("1.08", "USD")), ("ledger.invalid_line", "lines[0].original")),
        (DraftLine.dr("ar", eur("1.00"), rate=Decimal("0.9")), ("ledger.invalid_line", "lines[0].original")),
        (DraftLine.dr("ar", eur("1.00"), original=eur("1.00"), rate=Decimal(1)), ("ledger.invalid_line", "lines[0].original")),
        (DraftLine.dr("ar", eur("1.00"), original=Money("1.001", "USD"), rate=Decimal(1)),
         ("ledger.too_many_decimals", "lines[0].original")),
        (DraftLine.dr("ar", eur("1.00"), original=Money("1.00", "USD"), rate=Decimal(0)), ("ledger.invalid_line", "lines[0].rate")),
        (DraftLine.dr("ar", eur("1.00"), original=Money("-1.00", "USD"), rate=Decimal(-1)),
         ("ledger.invalid_line", "lines[0].original")),
    ],
)  # fmt: skip
def test_incomplete_or_inconsistent_original_amounts_are_refused(line, expected):
    assert code_of(draft(line, DraftLine.cr("bank", eur("1.00")))) == expected


# --- properties -------------------------------------------------------------------------------
amounts = st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=8)


def _balanced(debits: list[int], credit_parts: int) -> EntryDraft:
    total = sum(debits)
    credits = [c for c in allocate_minor(total, [1] * credit_parts) if c > 0]
    lines = [DraftLine.dr("ar", Money.from_minor(d, "EUR")) for d in debits]
    lines += [DraftLine.cr("revenue.other", Money.from_minor(c, "EUR")) for c in credits]
    return draft(*lines)


@given(debits=amounts, credit_parts=st.integers(min_value=1, max_value=5))
def test_any_split_of_the_debits_into_credits_validates_to_the_debits_sum(debits, credit_parts):
    assert validate(_balanced(debits, credit_parts), "EUR") == Money.from_minor(sum(debits), "EUR")


@given(debits=amounts, credit_parts=st.integers(min_value=1, max_value=5), index=st.integers(min_value=0))
def test_moving_any_one_line_by_one_minor_unit_unbalances_the_entry(debits, credit_parts, index):
    d = _balanced(debits, credit_parts)
    i = index % len(d.lines)
    line = d.lines[i]
    bumped = DraftLine(line.account, debit=line.debit and line.debit + Money("0.01", "EUR"),
                       credit=line.credit and line.credit + Money("0.01", "EUR"))  # fmt: skip
    lines = list(d.lines)
    lines[i] = bumped
    with pytest.raises(DomainError) as err:
        validate(draft(*lines), "EUR")
    assert err.value.code == "ledger.unbalanced"


@given(debits=amounts, credit_parts=st.integers(min_value=1, max_value=5))
def test_a_reversal_validates_to_the_same_total_with_every_side_swapped(debits, credit_parts):
    d = _balanced(debits, credit_parts)
    rev = reversal_lines(d.lines)
    assert validate(draft(*rev), "EUR") == validate(d, "EUR")
    assert [(r.debit, r.credit) for r in rev] == [(ln.credit, ln.debit) for ln in d.lines]


# --- periods and digests ----------------------------------------------------------------------
@pytest.mark.parametrize(("current", "target", "allowed"), list(all_moves(PeriodStatus, PERIOD_TRANSITIONS)))
def test_the_period_transition_table(current, target, allowed):
    if allowed:
        assert transition(PERIOD_TRANSITIONS, current, target, what="period") == target
    else:
        with pytest.raises(InvalidTransition):
            transition(PERIOD_TRANSITIONS, current, target, what="period")


def test_months_are_keyed_and_parsed_as_year_dash_month():
    assert month_key(date(2027, 3, 31)) == "2027-03"
    assert parse_month("2027-03") == date(2027, 3, 1)
    for bad in ["2027-3", "2027-13", "03-2027", "2027/03", ""]:
        with pytest.raises(DomainError) as err:
            parse_month(bad)
        assert err.value.code == "ledger.invalid_period"


def test_a_digest_changes_when_any_value_changes():
    rows = [(1, "JE-2027-000001", date(2027, 3, 1)), (2, 12345, 0, None)]
    assert digest_rows(rows) == digest_rows(list(rows))
    assert digest_rows(rows) != digest_rows([(1, "JE-2027-000001", date(2027, 3, 2)), (2, 12345, 0, None)])
    assert digest_rows(rows) != digest_rows([(1, "JE-2027-000001", date(2027, 3, 1)), (2, 12346, 0, None)])

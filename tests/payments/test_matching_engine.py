"""The cash-matching engine: what it applies by itself, what it leaves to a person, and why.

Open items are plain data; amounts in cents. The Northwind expectations are the table of
shared/scenarios/northwind.md step 8, the invoices its step 4.
"""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.core.errors import ValidationError
from q2c.core.money import Money
from q2c.payments.bank import parse_file
from q2c.payments.matching import (
    BankLine,
    CashMatcher,
    Customer,
    KnownPayer,
    MatchSettings,
    OpenItem,
    Status,
    bank_lines,
    creditor_reference,
    match_lines,
)
from tests.payments.support import fixture_bytes

ACME = "DE89370400440532013000"
NORTHWIND_IBAN = "DE34200505501234567890"
TOLERANCE = MatchSettings(fee_tolerance={ACME: Money("20.00", "EUR")})


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def invoice(n: int, cents: int, customer: int | str = "NW", due: date = date(2027, 3, 1)) -> OpenItem:
    number = f"INV-2027-{n:06d}"
    return OpenItem(n, customer, number, cents, "EUR", due, creditor_reference(number))


def line(
    cents: int,
    text: str = "",
    *,
    refs: tuple[str, ...] = (),
    name: str | None = None,
    iban: str | None = None,
    line_id: str = "L1",
) -> BankLine:
    return BankLine(line_id, cents, "EUR", ACME, date(2027, 4, 1), text, refs, name, iban)


def applications(outcome) -> list[tuple[int | str, Money, Money]]:
    return [(a.item_id, a.amount, a.fee) for a in outcome.proposal.applications]


def codes(outcome) -> set[str]:
    return {r.code for r in outcome.proposal.reasons}


NORTHWIND_ITEMS = [
    # northwind.md step 4: totals and due dates of INV-2027-000001 … 000005
    invoice(1, 746725, due=date(2027, 3, 3)),
    invoice(2, 476000, due=date(2027, 3, 12)),
    invoice(3, 151725, due=date(2027, 3, 31)),
    invoice(4, 16641, due=date(2027, 4, 14)),
    invoice(5, 241570, due=date(2027, 5, 1)),
]


def test_the_northwind_bank_lines_apply_themselves_exactly_as_the_story_lists_them():
    statements = parse_file(fixture_bytes("camt053_northwind.xml")).statements
    outcomes = match_lines(
        bank_lines(statements),
        NORTHWIND_ITEMS,
        customers=[Customer("NW", "Northwind Handels GmbH", "10001")],
        settings=TOLERANCE,
    )
    assert [o.status for o in outcomes] == [Status.AUTO] * 4
    assert [applications(o) for o in outcomes] == [
        [(1, eur("7467.25"), eur("0.00"))],  # INV-1 by its RF reference
        [(2, eur("4745.00"), eur("15.00"))],  # INV-2 4,745.00 + 15.00 bank fee (letter O for zero)
        [(3, eur("1517.25"), eur("0.00"))],  # INV-3 by its RF reference
        [(4, eur("166.41"), eur("0.00")), (5, eur("2415.70"), eur("0.00"))],  # one line, two invoices
    ]
    assert "rf_reference" in codes(outcomes[0])
    assert {"invoice_number", "lookalike_repaired", "bank_fee"} <= codes(outcomes[1])
    assert outcomes[1].proposal.fee == eur("15.00")
    assert "amount_sum" in codes(outcomes[3])


def test_a_shortfall_beyond_the_fee_tolerance_is_a_partial_payment_not_a_fee():
    matcher = CashMatcher([invoice(2, 476000)], settings=TOLERANCE)
    outcome = matcher.match(line(473900, refs=("RF17INV2027000002",)))  # 21.00 short, tolerance 20.00
    assert applications(outcome) == [(2, eur("4739.00"), eur("0.00"))]
    assert "partial" in codes(outcome)
    assert matcher.open_amounts() == {2: 2100}
    # Without a tolerance for the account, no fee is ever written off.
    strict = CashMatcher([invoice(2, 476000)]).match(line(474500, refs=("RF17INV2027000002",)))
    assert applications(strict) == [(2, eur("4745.00"), eur("0.00"))]


def test_two_payments_settle_one_invoice_in_turn():
    matcher = CashMatcher([invoice(7, 100000)], settings=TOLERANCE)
    first = matcher.match(line(40000, "Teilzahlung INV-2027-000007", name="Northwind", line_id="a"))
    second = matcher.match(line(60000, refs=(creditor_reference("INV-2027-000007"),), line_id="b"))
    assert [o.status for o in (first, second)] == [Status.PROPOSED, Status.AUTO]
    # The first (number in text, partial, nothing else agreeing) waits for a person; the second
    # settles by RF reference as a partial of the full 1,000.00.
    assert applications(second) == [(7, eur("600.00"), eur("0.00"))]
    # With the customer's known account and name agreeing (84 + 4 + 4), the first applies itself too.
    matcher = CashMatcher(
        [invoice(7, 100000)],
        customers=[Customer("NW", "Northwind Handels GmbH")],
        payers=[KnownPayer(NORTHWIND_IBAN, "NW")],
        settings=TOLERANCE,
    )
    first = matcher.match(
        line(
            40000,
            "Teilzahlung INV-2027-000007",
            name="NORTHWIND HANDELS GMBH",
            iban=NORTHWIND_IBAN,
            line_id="a",
        )
    )
    second = matcher.match(line(60000, refs=(creditor_reference("INV-2027-000007"),), line_id="b"))
    assert [o.status for o in (first, second)] == [Status.AUTO, Status.AUTO]
    assert "amount_exact" in codes(second)  # the remainder, exactly
    assert matcher.open_amounts() == {7: 0}


def test_a_mistyped_number_that_is_another_invoices_number_loses_to_the_one_with_the_exact_amount():
    # Dense numbering: 000123 typed as 000133 names a real invoice — of another amount.
    items = [invoice(123, 55000, customer="A"), invoice(133, 99900, customer="B")]
    outcome = CashMatcher(items).match(line(55000, "Rechnung INV-2027-000133"))
    assert outcome.status is Status.AUTO
    assert applications(outcome) == [(123, eur("550.00"), eur("0.00"))]
    assert "invoice_number_typo" in codes(outcome)


def test_each_kind_of_typo_in_an_invoice_number_is_forgiven_when_the_amount_agrees():
    items = [invoice(4711, 123456)]
    for text in (
        "INV-2027-004171",
        "INV-2027-00471",
        "INV-2027-0047111",
        "INV-2027-004712",
        "INV 2027 OO4711",
    ):
        outcome = CashMatcher(items).match(line(123456, text))
        assert outcome.status is Status.AUTO, text
        assert applications(outcome) == [(4711, eur("1234.56"), eur("0.00"))]


def test_a_known_payer_iban_and_a_unique_amount_find_the_invoice():
    items = [invoice(1, 10000, "C1"), invoice(2, 25000, "C1"), invoice(3, 25000, "C2")]
    payers = [KnownPayer(NORTHWIND_IBAN, "C1")]
    outcome = CashMatcher(items, payers=payers).match(line(25000, "Zahlung", iban=NORTHWIND_IBAN))
    assert outcome.status is Status.AUTO
    assert applications(outcome) == [(2, eur("250.00"), eur("0.00"))]
    assert {"payer_iban", "amount_exact"} <= codes(outcome)


def test_one_payment_for_several_invoices_of_a_customer_is_found_by_subset_sum():
    items = [
        invoice(1, 10000, "C1"),
        invoice(2, 23456, "C1"),
        invoice(3, 30001, "C1"),
        invoice(4, 7777, "C1"),
    ]
    payers = [KnownPayer(NORTHWIND_IBAN, "C1")]
    outcome = CashMatcher(items, payers=payers).match(line(41233, "Sammelzahlung", iban=NORTHWIND_IBAN))
    assert outcome.status is Status.AUTO
    # 234.56 + 100.00 + 77.77 = 412.33
    assert sorted(applications(outcome)) == [
        (1, eur("100.00"), eur("0.00")),
        (2, eur("234.56"), eur("0.00")),
        (4, eur("77.77"), eur("0.00")),
    ]


def test_two_combinations_with_the_same_sum_wait_for_a_person():
    items = [invoice(1, 100, "C1"), invoice(2, 200, "C1"), invoice(3, 300, "C1"), invoice(4, 400, "C1")]
    outcome = CashMatcher(items, payers=[KnownPayer(NORTHWIND_IBAN, "C1")]).match(
        line(500, iban=NORTHWIND_IBAN)
    )
    assert outcome.status is Status.PROPOSED
    assert outcome.proposal.confidence < 90
    assert outcome.alternatives  # the other combination


def test_a_foreign_banks_spelling_of_the_payer_and_the_exact_amount_find_the_invoice():
    items = [invoice(9, 87654, "C9"), invoice(10, 87654, "C10")]
    customers = [Customer("C9", "Müller & Söhne KG"), Customer("C10", "Contoso Ltd")]
    outcome = CashMatcher(items, customers=customers).match(
        line(87654, "Paiement facture", name="MUELLER UND SOEHNE")
    )
    assert outcome.status is Status.AUTO
    assert applications(outcome) == [(9, eur("876.54"), eur("0.00"))]


def test_a_customer_number_in_the_text_narrows_the_search_to_that_customer():
    items = [invoice(1, 31415, "C1"), invoice(2, 31415, "C2")]
    customers = [Customer("C1", "Adventure Works", "K-10442"), Customer("C2", "Tailspin Toys", "K-20999")]
    outcome = CashMatcher(items, customers=customers).match(line(31415, "Kundennr 10442"))
    assert applications(outcome) == [(1, eur("314.15"), eur("0.00"))]
    assert "customer_number" in codes(outcome)


def test_more_money_than_the_invoice_is_proposed_with_the_rest_unapplied():
    outcome = CashMatcher([invoice(3, 151725)]).match(line(160000, refs=("RF87INV2027000003",)))
    assert outcome.status is Status.PROPOSED
    assert applications(outcome) == [(3, eur("1517.25"), eur("0.00"))]
    assert outcome.proposal.unapplied == eur("82.75")


def test_a_second_payment_of_a_paid_invoice_is_flagged_not_applied():
    matcher = CashMatcher([invoice(1, 746725)])
    assert matcher.match(line(746725, refs=("RF44INV2027000001",), line_id="a")).status is Status.AUTO
    again = matcher.match(line(746725, refs=("RF44INV2027000001",), line_id="b"))
    assert again.status is Status.PROPOSED
    assert again.proposal.applications == ()
    assert "already_paid" in codes(again)


def test_money_out_and_lines_nothing_points_to_are_never_applied():
    matcher = CashMatcher([invoice(1, 746725)])
    assert matcher.match(line(-746725, refs=("RF44INV2027000001",))).status is Status.NOT_RECEIVABLE
    lost = matcher.match(line(12345, "Erstattung Bestellung 48812", name="Allianz Versicherungs-AG"))
    assert lost.status is Status.UNIDENTIFIED
    assert lost.proposal is None and lost.reasons


def test_invoices_in_another_currency_are_not_candidates():
    usd = OpenItem(1, "C1", "INV-2027-000001", 746725, "USD", None, "RF44INV2027000001")
    assert CashMatcher([usd]).match(line(746725, refs=("RF44INV2027000001",))).status is Status.UNIDENTIFIED


def test_invoices_of_different_customers_named_on_one_line_wait_for_a_person():
    items = [invoice(4, 16641, "C1"), invoice(5, 241570, "C2")]
    outcome = CashMatcher(items).match(line(258211, "INV-2027-000004 INV-2027-000005"))
    assert outcome.status is Status.PROPOSED
    assert "several_customers" in codes(outcome)


def test_a_payer_iban_known_for_another_customer_lowers_the_confidence():
    items = [invoice(1, 746725, "C1")]
    other = [KnownPayer(NORTHWIND_IBAN, "C2")]
    alone = CashMatcher(items).match(line(746725, "INV-2027-000001"))
    against = CashMatcher(items, payers=other).match(line(746725, "INV-2027-000001", iban=NORTHWIND_IBAN))
    assert against.proposal.confidence == alone.proposal.confidence - 10
    assert "payer_iban_other" in codes(against)


cents = st.integers(min_value=1, max_value=500_000)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(cents, st.sampled_from(["C1", "C2", "C3"])), min_size=1, max_size=8),
    st.lists(
        st.tuples(
            st.integers(min_value=-50_000, max_value=600_000),
            st.integers(min_value=0, max_value=9),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_no_proposal_ever_applies_more_than_the_line_or_more_than_an_invoice_is_open(open_items, paid):
    items = [invoice(i + 1, amount, customer) for i, (amount, customer) in enumerate(open_items)]
    open_before = {it.item_id: it.open_minor for it in items}
    payers = [KnownPayer(NORTHWIND_IBAN, "C1")]
    matcher = CashMatcher(items, payers=payers, settings=TOLERANCE)
    lines = []
    for k, (amount, which, by_rf) in enumerate(paid):
        target = items[which % len(items)]
        text, refs = ("", (target.reference or "",)) if by_rf else (f"INV-2027-{which:06d}", ())
        lines.append(line(amount, text, refs=refs, iban=NORTHWIND_IBAN if k % 2 else None, line_id=f"L{k}"))
    applied: dict[int | str, int] = {}
    for ln, outcome in zip(lines, matcher.match_all(lines), strict=True):
        if outcome.proposal is None:
            continue
        p = outcome.proposal
        assert 0 <= p.confidence <= 99
        cash = sum((a.amount for a in p.applications), eur("0"))
        # Cash applied plus cash left over is the line, to the cent.
        assert (cash + p.unapplied).minor_units() == ln.amount_minor
        assert p.fee == sum((a.fee for a in p.applications), eur("0"))
        assert p.fee <= Money("20.00", "EUR")
        if outcome.status is Status.AUTO:
            for a in p.applications:
                applied[a.item_id] = applied.get(a.item_id, 0) + a.settled.minor_units()
    for item_id, settled in applied.items():
        assert 0 < settled <= open_before[item_id]
        assert matcher.open_amounts()[item_id] == open_before[item_id] - settled


def test_a_typo_is_still_found_when_hundreds_of_invoices_share_the_amount():
    # 300 invoices of 30.00 (a seat price): the engine looks the typo's neighbours up instead of
    # scanning the amount's invoices.
    items = [invoice(n, 3000, customer=f"C{n}") for n in range(1, 301)]
    outcome = CashMatcher(items).match(line(3000, "Rechnung INV-2027-00O2l7"))  # 000217 with O and l
    assert outcome.status is Status.AUTO
    assert applications(outcome) == [(217, eur("30.00"), eur("0.00"))]
    # A swap (217 → 271) that lands on another open invoice of the same amount cannot be told
    # apart from a correct number: the invoice the text names wins.
    swapped = CashMatcher(items).match(line(3000, "Rechnung INV-2027-000271", line_id="b"))
    assert applications(swapped) == [(271, eur("30.00"), eur("0.00"))]


def test_a_name_alone_does_not_pick_among_too_many_invoices_of_one_amount():
    items = [invoice(n, 3000, customer=f"C{n}") for n in range(1, 601)]
    customers = [Customer(f"C{n}", f"Customer {n} GmbH") for n in range(1, 601)]
    outcome = CashMatcher(items, customers=customers).match(line(3000, "seats", name="Customer 17 GmbH"))
    assert outcome.status is Status.UNIDENTIFIED


def test_a_name_and_an_amount_shared_by_two_of_its_invoices_wait_for_a_person():
    items = [invoice(1, 5000, "C1"), invoice(2, 5000, "C1")]
    outcome = CashMatcher(items, customers=[Customer("C1", "Coho Winery")]).match(
        line(5000, name="COHO WINERY")
    )
    assert outcome.status is Status.PROPOSED
    assert "ambiguous" in codes(outcome)
    assert len(outcome.alternatives) == 1


def test_references_worked_out_from_the_numbers_find_the_same_invoices_as_printed_ones():
    # The same open items twice: once with their RF references printed (creditor_reference, the
    # reference implementation), once without, the matcher working them out from the numbers.
    # Several numbers share their digits (INV-/CN-2027-000007) so the lookup must tell them apart.
    numbers = [f"INV-2027-{n:06d}" for n in range(1, 40)] + ["CN-2027-000007", "Ü-2027-000008", "X" * 30]
    printed = [
        OpenItem(n, f"C{n % 5}", number, 1000 + n, "EUR", date(2027, 3, 1), _printed(number))
        for n, number in enumerate(numbers)
    ]
    derived = [
        OpenItem(i.item_id, i.customer_id, i.number, i.open_minor, "EUR", i.due_date, None)
        if i.number.isascii()
        else i
        for i in printed
    ]
    lines = [
        line(1000 + n, refs=(ref,), line_id=f"L{n}")
        for n, item in enumerate(printed)
        if (ref := item.reference)
    ]
    lines += [
        line(1039, f"Zahlung {creditor_reference('CN-2027-000007')}", line_id="T1"),  # CN- is item 39
        line(1000, "RF18 5390 0754 7034", line_id="T2"),  # a valid reference of no open item
    ]
    expected = CashMatcher(printed, settings=TOLERANCE).match_all(lines)
    got = CashMatcher(derived, settings=TOLERANCE, references_from_numbers=True).match_all(lines)
    assert got == expected
    # Every printed reference applies its invoice; T1 pays CN-2027-000007 a second time (L39 paid
    # it), T2 names no open item.
    assert [o.line_id for o in got if o.status != Status.AUTO] == ["T1", "T2"]
    assert "CN-2027-000007" in " ".join(r.text for r in got[-2].reasons + got[-2].proposal.reasons)


def _printed(number: str) -> str | None:
    try:
        return creditor_reference(number)
    except ValidationError:  # a number too long for a reference prints none
        return None

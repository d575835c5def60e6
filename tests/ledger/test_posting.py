"""Posting: books and charts, the posting API (single and bulk), bad input refused with nothing
written, reruns that cannot double-post, original-currency lines, accounts users add."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.ledger import accounts, chart, services
from q2c.ledger.categories import RevenueCategory
from q2c.ledger.domain import DraftLine, SourceRef
from q2c.ledger.models import Account, Book, JournalEntry, JournalLine
from q2c.platform.models import Event
from tests.ledger.conftest import ENTITY, draft, eur, sale

pytestmark = pytest.mark.django_db


def nothing_posted() -> bool:
    return (
        not JournalEntry.objects.exists()
        and not JournalLine.objects.exists()
        and not Event.objects.filter(type="ledger.entry_posted").exists()
    )


def refused(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)
    return err.value


# --- books and charts -------------------------------------------------------------------------
def test_opening_a_book_creates_the_template_chart_for_the_entity(book):
    assert (book.entity_id, book.currency, book.rounding) == (ENTITY, "EUR", "half_up")
    assert Account.objects.filter(entity_id=ENTITY).count() == len(chart.DEFAULT_CHART)
    assert accounts.by_key(ENTITY, "ar").name == "Accounts receivable"
    assert accounts.revenue_account(ENTITY, RevenueCategory.SUBSCRIPTIONS).code == "4000"
    assert Event.objects.filter(type="ledger.book_opened", entity_id=ENTITY).count() == 1


def test_opening_a_book_again_returns_it_and_another_currency_is_a_conflict(book):
    assert services.open_book(ENTITY, "EUR").pk == book.pk
    err = refused(services.open_book, ENTITY, "USD")
    assert (err.code, err.status) == ("ledger.book_exists", 409)
    assert Book.objects.count() == 1


@pytest.mark.parametrize(
    ("entity", "currency", "code"),
    [(0, "EUR", "ledger.invalid_entry"), (2, "EURO", "money.invalid_currency")],
)
def test_a_book_with_a_bad_entity_or_currency_is_refused(entity, currency, code):
    assert refused(services.open_book, entity, currency).code == code
    assert not Book.objects.exists() and not Account.objects.exists()


def test_each_entity_has_its_own_chart(book):
    services.open_book(2, "USD")
    assert accounts.by_key(2, "ar").pk != accounts.by_key(ENTITY, "ar").pk
    assert refused(accounts.by_key, 3, "ar").code == "ledger.unknown_account"


# --- posting ----------------------------------------------------------------------------------
def test_a_posted_entry_is_numbered_and_stored_in_minor_units(book):
    entry = services.post(sale("1275.00"), actor="rita")
    assert (entry.number, entry.date, entry.period.key, entry.currency) == (
        "JE-2027-000001",
        date(2027, 3, 1),
        "2027-03",
        "EUR",
    )
    assert entry.source == "tests/doc/1"
    with connection.cursor() as cur:
        cur.execute("SELECT line_no, debit_minor, credit_minor, currency FROM ledger_line ORDER BY line_no")
        assert cur.fetchall() == [(1, 127500, 0, "EUR"), (2, 0, 127500, "EUR")]
    event = Event.objects.get(type="ledger.entry_posted")
    assert (event.actor, event.payload["number"], event.payload["total"]) == (
        "rita", "JE-2027-000001", {"amount": "1275.00", "currency": "EUR"},
    )  # fmt: skip


def test_a_batch_is_posted_with_consecutive_numbers_and_one_event_per_entry(book):
    entries = services.post_many([sale("1.00", doc=str(i)) for i in range(1, 6)])
    assert [e.number for e in entries] == [f"JE-2027-00000{i}" for i in range(1, 6)]
    assert JournalLine.objects.count() == 10
    assert Event.objects.filter(type="ledger.entry_posted").count() == 5


def test_a_large_batch_records_one_event_per_block_of_numbers(book):
    drafts = [sale("1.00", doc=str(i)) for i in range(30)]
    drafts += [sale("2.50", doc=f"n{i}", day=date(2028, 1, 5)) for i in range(4)]
    services.post_many(drafts, actor="bill-run")
    assert not Event.objects.filter(type="ledger.entry_posted").exists()
    blocks = list(Event.objects.filter(type="ledger.entries_posted").order_by("seq"))
    assert [(e.aggregate_id, e.payload["entries"], e.payload["total"]["amount"]) for e in blocks] == [
        ("JE-2027-000001..JE-2027-000030", 30, "30.00"),
        ("JE-2028-000001..JE-2028-000004", 4, "10.00"),
    ]
    assert {e.actor for e in blocks} == {"bill-run"}


def test_numbers_run_per_year():
    services.open_book(ENTITY, "EUR")
    a, b = services.post_many(
        [sale("1.00", doc="1", day=date(2027, 12, 31)), sale("1.00", doc="2", day=date(2028, 1, 1))]
    )
    assert (a.number, b.number) == ("JE-2027-000001", "JE-2028-000001")


def _statements(n: int, start: int) -> dict[str, int]:
    """Statements run to post ``n`` entries at once, by kind."""
    with CaptureQueriesContext(connection) as q:
        services.post_many([sale("2.00", doc=str(start + i)) for i in range(n)])
    kinds = {"entries": 0, "lines": 0, "events": 0, "other": 0}
    for query in q.captured_queries:
        # How Django logs executemany (SQLite), and how the ledger logs its COPY (PostgreSQL).
        sql = re.sub(r"^\d+ (times|rows): ", "", query["sql"]).replace("COPY ", "INSERT INTO ")
        if sql.startswith('INSERT INTO "ledger_entry"'):
            kinds["entries"] += 1
        elif sql.startswith('INSERT INTO "ledger_line"'):
            kinds["lines"] += 1
        elif sql.startswith('INSERT INTO "platform_event"'):
            kinds["events"] += 1
        else:
            kinds["other"] += 1
    return kinds


def test_bulk_posting_takes_the_same_number_of_statements_for_2_or_200_entries(book):
    services.post(sale("1.00", doc="warm-up"))  # the period and counter rows exist from here on
    small, big = _statements(2, 1000), _statements(200, 2000)
    assert small["other"] == big["other"]  # reads, locks, numbering: per batch, never per entry
    assert small["entries"] == big["entries"] == 1
    assert small["lines"] == big["lines"] == 1
    # The platform's event log writes its rows with one executemany.
    assert small["events"] == big["events"] == 1


def test_post_runs_inside_the_callers_transaction_and_rolls_back_with_it(book):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.post(sale("5.00"))
        raise RuntimeError("the caller's use case failed")
    assert nothing_posted()
    assert services.post(sale("5.00")).number == "JE-2027-000001"  # the number came back too


# --- bad input: clear error, nothing posted ---------------------------------------------------
def test_an_unbalanced_entry_is_refused_and_nothing_is_posted(book):
    d = draft([DraftLine.dr("ar", eur("100.00")), DraftLine.cr("revenue.other", eur("99.99"))])
    err = refused(services.post, d)
    assert (err.code, err.status, err.field) == ("ledger.unbalanced", 422, "lines")
    assert nothing_posted()


def test_an_unknown_account_key_is_refused_naming_the_line(book):
    d = draft([DraftLine.dr("ar", eur("1.00")), DraftLine.cr("tax_payable.XX", eur("1.00"))])
    err = refused(services.post, d)
    assert (err.code, err.field) == ("ledger.unknown_account", "lines[1].account")
    assert "tax_payable.XX" in err.message
    assert nothing_posted()


def test_another_entitys_account_id_is_an_unknown_account(book):
    services.open_book(2, "EUR")
    foreign = accounts.by_key(2, "bank").pk
    d = draft([DraftLine.dr("ar", eur("1.00")), DraftLine.cr(foreign, eur("1.00"))])
    assert refused(services.post, d).code == "ledger.unknown_account"
    assert refused(
        services.post, draft([DraftLine.dr(10**9, eur("1.00")), DraftLine.cr("bank", eur("1.00"))])
    ).code == ("ledger.unknown_account")
    assert nothing_posted()


def test_an_inactive_account_is_refused(book):
    Account.objects.filter(entity_id=ENTITY, key="refunds").update(is_active=False)
    d = draft([DraftLine.dr("refunds", eur("1.00")), DraftLine.cr("bank", eur("1.00"))])
    assert refused(services.post, d).code == "ledger.inactive_account"
    assert nothing_posted()


def test_an_entry_without_a_source_is_refused(book):
    d = draft(
        [DraftLine.dr("ar", eur("1.00")), DraftLine.cr("bank", eur("1.00"))], source=SourceRef("", "", "")
    )
    assert refused(services.post, d).code == "ledger.no_source"
    assert nothing_posted()


def test_more_decimals_than_the_currency_allows_are_refused(book):
    d = draft([DraftLine.dr("ar", eur("0.001")), DraftLine.cr("bank", eur("0.001"))])
    assert refused(services.post, d).code == "ledger.too_many_decimals"
    assert nothing_posted()


def test_mixed_currencies_are_refused(book):
    d = draft([DraftLine.dr("ar", Money("10.00", "USD")), DraftLine.cr("bank", eur("10.00"))])
    err = refused(services.post, d)
    assert (err.code, err.field) == ("ledger.currency_mismatch", "lines[0].debit")
    assert nothing_posted()


def test_an_entity_without_a_book_cannot_post(db):
    err = refused(services.post, sale("1.00"))
    assert (err.code, err.status) == ("ledger.no_book", 404)
    assert nothing_posted()


def test_one_bad_draft_refuses_the_whole_batch_naming_it(book):
    bad = draft(
        [DraftLine.dr("ar", eur("2.00")), DraftLine.cr("bank", eur("1.00"))],
        source=SourceRef("tests", "doc", "x"),
    )
    err = refused(services.post_many, [sale("1.00", doc="1"), bad, sale("1.00", doc="3")])
    assert (err.code, err.field) == ("ledger.unbalanced", "drafts[1].lines")
    assert nothing_posted()


# --- reruns -------------------------------------------------------------------------------------
def test_a_rerun_cannot_post_the_same_source_and_purpose_twice(book):
    first = services.post(sale("10.00"))
    err = refused(services.post, sale("10.00"))
    assert (err.code, err.status) == ("ledger.already_posted", 409)
    assert first.number in err.message
    assert JournalEntry.objects.count() == 1


def test_the_same_source_may_post_again_for_another_purpose(book):
    services.post(sale("10.00"))
    services.post(sale("3.00", purpose="recognition:2027-03"))
    assert JournalEntry.objects.count() == 2


def test_a_batch_repeating_a_source_is_refused(book):
    err = refused(services.post_many, [sale("1.00", doc="9"), sale("2.00", doc="9")])
    assert (err.code, err.field) == ("ledger.already_posted", "drafts[1].source")
    assert nothing_posted()


def test_the_database_refuses_a_duplicate_source_even_past_the_service(book):
    from django.db import IntegrityError

    entry = services.post(sale("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger_entry (entity_id, year, seq, number, date, period_id, description, source_app,"
            " source_type, source_id, purpose, currency, posted_at, posted_by, digest)"
            " SELECT entity_id, year, seq + 1, 'X', date, period_id, description, source_app, source_type, source_id,"
            " purpose, currency, posted_at, posted_by, digest FROM ledger_entry WHERE id = %s",
            [entry.pk],
        )


# --- original currency ----------------------------------------------------------------------
def test_an_original_currency_amount_and_rate_are_kept_beside_the_line(book):
    # 1,000.00 USD at 0.9217 EUR/USD = 921.70 EUR (worked by hand).
    d = draft(
        [
            DraftLine.dr("ar", eur("921.70"), original=Money("1000.00", "USD"), rate=Decimal("0.9217")),
            DraftLine.cr(
                "revenue.hardware", eur("921.70"), original=Money("1000.00", "USD"), rate=Decimal("0.9217")
            ),
        ]
    )
    entry = services.post(d)
    line = entry.lines.get(line_no=1)
    assert (line.debit, line.original, line.rate) == (
        eur("921.70"),
        Money("1000.00", "USD"),
        Decimal("0.9217"),
    )
    with connection.cursor() as cur:
        cur.execute("SELECT original_minor, original_currency, rate FROM ledger_line WHERE line_no = 1")
        assert cur.fetchone() == (100000, "USD", "0.9217")


# --- accounts users add, tax accounts on demand ------------------------------------------------
def test_users_can_add_accounts_and_post_to_them_by_id(book):
    marketing = services.create_account(ENTITY, code="6500", name="Marketing", type="expense", actor="fin")
    assert (marketing.normal_side, marketing.key) == ("debit", None)
    services.post(draft([DraftLine.dr(marketing.pk, eur("50.00")), DraftLine.cr("bank", eur("50.00"))]))
    assert Event.objects.filter(type="ledger.account_created", aggregate_id=str(marketing.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"code": "1200", "name": "Dup", "type": "asset"}, "ledger.duplicate_account"),
        ({"code": "7000", "name": "Dup key", "type": "asset", "key": "ar"}, "ledger.duplicate_account"),
        ({"code": "", "name": "No code", "type": "asset"}, "ledger.invalid_account"),
        ({"code": "7001", "name": "", "type": "asset"}, "ledger.invalid_account"),
        ({"code": "7002", "name": "Odd", "type": "income"}, "ledger.invalid_account"),
        ({"code": "7003", "name": "Bad key", "type": "asset", "key": "Has Space"}, "ledger.invalid_account"),
    ],
)
def test_a_bad_or_duplicate_account_is_refused(book, fields, code):
    before = Account.objects.count()
    assert refused(services.create_account, ENTITY, **fields).code == code
    assert Account.objects.count() == before


def test_an_account_for_an_entity_without_a_book_is_refused(db):
    assert refused(services.create_account, 5, code="1", name="x", type="asset").code == "ledger.no_book"


def test_tax_payable_accounts_are_created_on_demand_one_per_tax_code(book):
    de19 = accounts.tax_payable_account(ENTITY, "DE-S-19")
    de7 = accounts.tax_payable_account(ENTITY, "DE-S-7")
    assert (de19.code, de19.key, de19.type) == ("2300", "tax_payable.DE-S-19", "liability")
    assert (de7.code, de7.name) == ("2301", "Tax payable — DE-S-7")
    assert accounts.tax_payable_account(ENTITY, "DE-S-19").pk == de19.pk
    assert accounts.by_key(ENTITY, chart.tax_payable("DE-S-7")).pk == de7.pk

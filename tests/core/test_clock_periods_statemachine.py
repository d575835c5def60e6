from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import pytest

from q2c.core import clock
from q2c.core.errors import InvalidTransition, ValidationError
from q2c.core.periods import Period, add_months, month_end, months
from q2c.core.statemachine import all_moves, transition


def test_simulation_clock_sets_today_and_never_runs_backwards():
    sim = clock.SimulationClock(date(2027, 1, 10), default_tz="Europe/Berlin")
    with clock.use(sim):
        assert clock.today() == date(2027, 1, 10)
        sim.advance(timedelta(days=1))
        assert clock.today() == date(2027, 1, 11)
        with pytest.raises(ValidationError):
            sim.set(date(2027, 1, 1))
    assert clock.today() != date(2027, 1, 11) or datetime.now(UTC).date() == date(2027, 1, 11)


def test_parse_date_rejects_anything_but_iso_dates():
    assert clock.parse_date("2027-02-28") == date(2027, 2, 28)
    for bad in ("2027-02-30", "27-02-01", "2027/02/01", "tomorrow", "2027-2-1"):
        with pytest.raises(ValidationError) as err:
            clock.parse_date(bad)
        assert err.value.code == "date.invalid"


def test_periods_are_half_open():
    feb = Period(date(2027, 2, 1), date(2027, 3, 1))
    assert feb.days == 28
    assert date(2027, 2, 28) in feb and date(2027, 3, 1) not in feb
    with pytest.raises(ValidationError):
        Period(date(2027, 3, 1), date(2027, 2, 1))


def test_month_end_anchor_keeps_its_intent():
    # Anchored on the 31st: Feb 28, Mar 31, Apr 30 (issue 10, schedules).
    jan31 = date(2027, 1, 31)
    assert [add_months(jan31, n, anchor_day=31) for n in (1, 2, 3)] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert month_end(date(2027, 2, 3)) == date(2027, 2, 28)


def test_months_cuts_a_range_into_calendar_months():
    parts = list(months(date(2027, 3, 15), date(2027, 5, 1)))
    assert parts == [Period(date(2027, 3, 15), date(2027, 4, 1)), Period(date(2027, 4, 1), date(2027, 5, 1))]
    assert parts[0].days == 17


class S(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    VOID = "void"


TABLE = {S.DRAFT: {S.ISSUED, S.VOID}, S.ISSUED: {S.VOID}}


@pytest.mark.parametrize(("a", "b", "allowed"), list(all_moves(S, TABLE)))
def test_transition_table_is_enforced(a, b, allowed):
    if allowed:
        assert transition(TABLE, a, b, what="invoice") == b
    else:
        with pytest.raises(InvalidTransition) as err:
            transition(TABLE, a, b, what="invoice")
        assert err.value.code == "invoice.invalid_transition"
        assert err.value.status == 409

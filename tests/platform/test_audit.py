"""The audit chain: sealing, and verification that finds altered, deleted and rewritten rows."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from q2c.platform import audit, events
from q2c.platform.events import DomainEvent
from q2c.platform.models import Event


def _record(n: int) -> None:
    for i in range(n):
        events.record(DomainEvent("Thing", "thing", i, {"n": i}))


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(statement, params)


@pytest.mark.django_db
def test_a_sealed_untouched_chain_verifies():
    _record(5)
    assert audit.seal() == 5
    assert audit.seal() == 0
    _record(2)
    assert audit.seal() == 2
    assert audit.verify() is None
    call_command("audit", "verify")


@pytest.mark.django_db
def test_an_altered_row_is_found():
    _record(5)
    audit.seal()
    _sql("UPDATE platform_event SET payload = %s WHERE seq = 3", ['{"n": 99}'])
    problem = audit.verify()
    assert (problem.kind, problem.seq) == ("altered", 3)
    with pytest.raises(CommandError, match="altered"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_a_deleted_row_is_found():
    _record(5)
    audit.seal()
    _sql("DELETE FROM platform_event WHERE seq = 2", [])
    problem = audit.verify()
    assert (problem.kind, problem.seq) == ("deleted", 2)


@pytest.mark.django_db
def test_a_rewritten_tail_is_found_by_its_anchor():
    _record(5)
    audit.seal()
    # An attacker edits #4 and recomputes every hash from there: row hashes agree again…
    _sql("UPDATE platform_event SET payload = %s WHERE seq = 4", ['{"n": 42}'])
    head = Event.objects.get(seq=3).hash
    for ev in Event.objects.filter(seq__gte=4).order_by("seq"):
        head = audit.chain_hash(head, ev)
        _sql("UPDATE platform_event SET hash = %s WHERE seq = %s", [head, ev.seq])
    # …but the head no longer meets the anchor written at seal time.
    problem = audit.verify()
    assert (problem.kind, problem.seq) == ("tail_rewritten", 5)


@pytest.mark.django_db
def test_a_truncated_tail_is_found():
    _record(5)
    audit.seal()
    _sql("DELETE FROM platform_event WHERE seq >= 4", [])
    problem = audit.verify()
    assert (problem.kind, problem.seq) == ("deleted", 4)


@pytest.mark.django_db
def test_unsealed_events_are_not_reported():
    _record(3)
    audit.seal()
    _record(2)
    assert audit.verify() is None

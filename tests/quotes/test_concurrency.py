"""Real concurrency on PostgreSQL: two people saving the same quote version at once, and two
acceptances of one link racing each other. Exactly one wins each time; the other gets 409 and
nothing of theirs is written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from q2c.core.errors import DomainError
from q2c.quotes import services
from q2c.quotes.models import Acceptance, Quote
from tests.quotes import builders
from tests.quotes.helpers import send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _seeded(transactional_db: Any) -> None:
    builders.reseed()


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together; each result is a value or the error."""
    gate = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int) -> None:
        try:
            gate.wait()
            results[i] = actions[i]()
        except DomainError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_saves_of_the_same_version_one_wins_the_other_gets_409(world, northwind_quote):
    results = race(
        lambda: services.update_quote(
            northwind_quote.pk, actor=world["rita"], lock_version=1, changes={"title": "Rita"}
        ),
        lambda: services.update_quote(
            northwind_quote.pk, actor=world["max"], lock_version=1, changes={"title": "Max"}
        ),
    )
    errors = [r for r in results if isinstance(r, DomainError)]
    saved = [r for r in results if isinstance(r, Quote)]
    assert len(saved) == 1 and len(errors) == 1
    assert errors[0].code == "quotes.stale" and errors[0].status == 409
    fresh = Quote.objects.get(pk=northwind_quote.pk)
    assert (fresh.title, fresh.lock_version) == (saved[0].title, 2)


def test_two_acceptances_racing_on_one_link_leave_one_acceptance(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])

    def accept(name: str) -> Any:
        return services.accept_quote(sent.token, signer_name=name, signer_title="CEO", agree=True)

    results = race(lambda: accept("Nora North"), lambda: accept("Mallory"))
    errors = [r for r in results if isinstance(r, DomainError)]
    assert len(errors) == 1 and errors[0].code == "quotes.already_decided"
    winner = next(r for r in results if isinstance(r, Acceptance))
    assert list(Acceptance.objects.values_list("signer_name", flat=True)) == [winner.signer_name]
    assert Quote.objects.get(pk=northwind_quote.pk).status == "accepted"

"""Gapless numbering: numbers are taken in the issuing transaction; rollbacks leave no gap."""

import random
import threading

import pytest
from django.db import connection, transaction

from q2c.core.errors import ValidationError
from q2c.platform import numbering
from q2c.platform.numbering import NumberFormat


def test_format_prints_prefix_year_and_six_digits():
    assert NumberFormat("INV").format(123, 2027) == "INV-2027-000123"
    assert NumberFormat("Q", with_year=False, width=4).format(7, 2027) == "Q-0007"


@pytest.mark.django_db
def test_numbers_follow_each_other_per_entity_kind_and_year():
    with transaction.atomic():
        assert numbering.take(1, "invoice", year=2027) == 1
        assert numbering.take(1, "invoice", year=2027) == 2
        assert numbering.take(1, "invoice", year=2028) == 1
        assert numbering.take(2, "invoice", year=2027) == 1
        assert numbering.take(1, "quote", year=2027) == 1
        assert list(numbering.take_block(1, "invoice", 3, year=2027)) == [3, 4, 5]


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back():
    with transaction.atomic():
        assert numbering.take(1, "invoice") == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert numbering.take(1, "invoice") == 2
        raise RuntimeError("issue failed")
    with transaction.atomic():
        assert numbering.take(1, "invoice") == 2


@pytest.mark.django_db
def test_a_block_of_no_numbers_is_refused():
    with pytest.raises(ValidationError), transaction.atomic():
        numbering.take_block(1, "invoice", 0)


@pytest.mark.django_db(transaction=True)
def test_numbers_outside_a_transaction_are_refused():
    with pytest.raises(RuntimeError, match="inside the issuing transaction"):
        numbering.take(1, "invoice")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_take_800_numbers_without_gaps_or_duplicates():
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rnd = random.Random(seed)
        try:
            done = 0
            while done < 100:
                try:
                    with transaction.atomic():
                        n = numbering.take(7, "invoice", year=2027)
                        if rnd.random() < 0.1:
                            raise _Abort  # a failed issue: its number must come back
                    with lock:
                        taken.append(n)
                    done += 1
                except _Abort:
                    pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(taken) == list(range(1, 801))


class _Abort(Exception):
    pass

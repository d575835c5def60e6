"""Ledger tables: books, accounts, periods, journal entries and their lines.

Owns ``ledger_*`` tables only. Refers to the legal entity by a plain ``entity_id`` (parties is a
sibling app and is never imported). Posted entries and lines are immutable three times over: the
model refuses ``save()`` of an existing row and ``delete()``, the queryset refuses ``update()``
and ``delete()``, and database triggers (migration 0002) refuse UPDATE (and DELETE on
PostgreSQL) of ``ledger_entry`` and ``ledger_line``. Corrections are reversals.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from q2c.ledger.chart import AccountType, Side
from q2c.ledger.domain import PeriodStatus, month_key
from q2c.ledger.errors import Immutable
from q2c.platform.fields import DecimalTextField, MoneyField


class Book(models.Model):
    """An entity's ledger settings: its base currency and rounding mode. One per entity."""

    class Rounding(models.TextChoices):
        HALF_UP = "half_up"
        HALF_EVEN = "half_even"

    entity_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    currency = models.CharField(max_length=3)
    rounding = models.CharField(max_length=10, choices=Rounding.choices, default=Rounding.HALF_UP)
    opened_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_book"
        ordering = ["entity_id"]

    def __str__(self) -> str:
        return self.name or f"Entity {self.entity_id}"


class Account(models.Model):
    """An account of one entity's chart. ``key`` is the stable name other apps post to."""

    entity_id = models.BigIntegerField()
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    type = models.CharField(max_length=10, choices=[(t.value, t.value) for t in AccountType])
    normal_side = models.CharField(max_length=6, choices=[(s.value, s.value) for s in Side])
    key = models.CharField(max_length=80, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_account"
        ordering = ["entity_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["entity_id", "code"], name="ledger_account_code_once"),
            models.UniqueConstraint(
                fields=["entity_id", "key"], condition=Q(key__isnull=False), name="ledger_account_key_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Period(models.Model):
    """A calendar month of one entity, ``[start, end)``; open or closed.

    At close the digest of the period's lines is stored; the ``ledger.closed_periods_unchanged``
    check recomputes it, so an edit made behind the ledger's back shows.
    """

    entity_id = models.BigIntegerField()
    start = models.DateField()
    end = models.DateField()
    status = models.CharField(
        max_length=6, choices=[(s.value, s.value) for s in PeriodStatus], default=PeriodStatus.OPEN.value
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True, default="")
    digest = models.CharField(max_length=64, blank=True, default="")
    line_count = models.IntegerField(null=True, blank=True)
    reopen_count = models.IntegerField(default=0)

    class Meta:
        db_table = "ledger_period"
        ordering = ["entity_id", "start"]
        constraints = [
            models.UniqueConstraint(fields=["entity_id", "start"], name="ledger_period_once"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="ledger_period_not_empty"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def key(self) -> str:
        return month_key(self.start)

    @property
    def is_closed(self) -> bool:
        return self.status == PeriodStatus.CLOSED


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise Immutable("posted ledger rows are never changed; post a reversal")

    def delete(self) -> Any:
        raise Immutable("posted ledger rows are never deleted; post a reversal")


class _ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise Immutable("posted ledger rows are never changed; post a reversal")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise Immutable("posted ledger rows are never deleted; post a reversal")


class JournalEntry(_ImmutableModel):
    """A posted entry. Numbered ``JE-<year>-<seq>`` gaplessly per entity and year.

    The source reference plus purpose is unique per entity, so a rerun of whatever posted it
    (a bill run, a recognition run) cannot post it twice.
    """

    entity_id = models.BigIntegerField()
    year = models.IntegerField()
    seq = models.IntegerField()
    number = models.CharField(max_length=30)
    date = models.DateField()
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="entries")
    description = models.CharField(max_length=255)
    source_app = models.CharField(max_length=40)
    source_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    purpose = models.CharField(max_length=60, default="post")
    currency = models.CharField(max_length=3)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    posted_at = models.DateTimeField()
    posted_by = models.CharField(max_length=150, blank=True, default="")
    #: SHA-256 of the entry and its lines as posted (``domain.entry_digest``); the
    #: ``ledger.entries_unchanged`` check recomputes it to find edits made behind the ledger's back.
    digest = models.CharField(max_length=64)

    class Meta:
        db_table = "ledger_entry"
        ordering = ["entity_id", "date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity_id", "source_app", "source_type", "source_id", "purpose"],
                name="ledger_entry_source_once",
            ),
            models.UniqueConstraint(fields=["entity_id", "year", "seq"], name="ledger_entry_number_once"),
        ]
        indexes = [models.Index(fields=["entity_id", "date"], name="ledger_entry_date")]

    def __str__(self) -> str:
        return self.number

    @property
    def source(self) -> str:
        return f"{self.source_app}/{self.source_type}/{self.source_id}"


class JournalLine(_ImmutableModel):
    """One debit or credit of an entry, in the entity's currency (minor units).

    ``original`` / ``original_currency`` / ``rate`` keep the source-currency amount where the
    source document was in another currency.
    """

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    entity_id = models.BigIntegerField()
    line_no = models.PositiveSmallIntegerField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    currency = models.CharField(max_length=3)
    debit = MoneyField(default=0)
    credit = MoneyField(default=0)
    original_currency = models.CharField(max_length=3, blank=True, default="")
    original = MoneyField(null=True, blank=True, currency_field="original_currency")
    rate = DecimalTextField(null=True, blank=True)
    memo = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        db_table = "ledger_line"
        ordering = ["entry_id", "line_no"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="ledger_line_one_side",
            ),
            models.UniqueConstraint(fields=["entry", "line_no"], name="ledger_line_no_once"),
        ]
        indexes = [models.Index(fields=["entity_id", "account"], name="ledger_line_account")]

    def __str__(self) -> str:
        return f"{'Dr' if self.is_debit else 'Cr'} {self.account_id} {self.debit if self.is_debit else self.credit}"

    @property
    def is_debit(self) -> bool:
        return bool(self.__dict__.get("debit_minor"))

"""Use cases of opportunities: create, update, move between stages (with history), stage
probabilities, sales teams.

Errors: ``QuoteInvalid`` (422, with the field), ``QuoteNotFound`` (404; also for a record the
caller may not read), ``QuoteForbidden`` (403), ``InvalidTransition`` (409) for a stage move the
table does not allow, ``QuoteConflict`` ``quotes.stale`` (409) for a stale ``lock_version``.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from q2c.core.errors import ValidationError
from q2c.core.money import to_decimal
from q2c.parties.models import Account
from q2c.quotes import access
from q2c.quotes import events as ev
from q2c.quotes.domain import CLOSED_STAGES, DEFAULT_PROBABILITY, Stage, move_stage
from q2c.quotes.errors import QuoteInvalid, QuoteNotFound
from q2c.quotes.models import Opportunity, SalesTeam, StageChange, StageSetting
from q2c.quotes.services.common import actor_name, check_version, locked, now, record, today

MAX_NAME = 200


def probabilities() -> dict[Stage, Decimal]:
    """Win probability (percent) per stage: the admin's settings over the defaults."""
    table = dict(DEFAULT_PROBABILITY)
    for row in StageSetting.objects.all():
        try:
            table[Stage(row.stage)] = Decimal(row.probability)
        except ValueError:
            continue
    return table


def set_probability(stage: str, probability: Any, *, actor: Any = None) -> StageSetting:
    """Change the probability of one stage (0–100 %). Open opportunities keep theirs until they
    next move."""
    try:
        target = Stage(stage)
    except ValueError:
        raise QuoteInvalid(f"'{stage}' is not a stage", code="quotes.invalid_stage", field="stage") from None
    value = _percent(probability, "probability")
    with transaction.atomic():
        row, _ = StageSetting.objects.update_or_create(
            stage=target, defaults={"probability": str(value), "position": list(Stage).index(target)}
        )
        record(
            ev.STAGE_SETTING_CHANGED,
            "stage_setting",
            row.pk,
            entity_id=None,
            actor=actor,
            stage=str(target),
            probability=value,
        )
    return row


def _percent(value: Any, field: str) -> Decimal:
    try:
        number = to_decimal(value, field=field)
    except (TypeError, ValidationError):
        raise QuoteInvalid(
            f"{field} must be a number from 0 to 100", code="quotes.invalid_percent", field=field
        ) from None
    if not Decimal(0) <= number <= Decimal(100):
        raise QuoteInvalid(f"{field} must be from 0 to 100", code="quotes.invalid_percent", field=field)
    return number


def _text(value: Any, field: str, *, required: bool = False, max_length: int = MAX_NAME) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise QuoteInvalid(f"{field} must be text", code="quotes.invalid_text", field=field)
    text = value.strip()
    if required and not text:
        raise QuoteInvalid(f"{field} is required", code="quotes.required", field=field)
    if len(text) > max_length:
        raise QuoteInvalid(
            f"{field} is longer than {max_length} characters", code="quotes.invalid_text", field=field
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise QuoteInvalid(f"{field} contains control characters", code="quotes.invalid_text", field=field)
    return text


def _date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise QuoteInvalid(
        f"{field} is not a date in the form YYYY-MM-DD", code="quotes.invalid_date", field=field
    )


def _owner(actor: Any, owner_id: Any) -> Any:
    User = get_user_model()
    if owner_id in (None, ""):
        return actor
    if not isinstance(owner_id, int) or isinstance(owner_id, bool):
        raise QuoteInvalid("owner_id must be a user id", code="quotes.invalid_owner", field="owner_id")
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise QuoteInvalid(f"no active user {owner_id}", code="quotes.invalid_owner", field="owner_id")
    if not access.may_assign_owner(actor, owner.pk):
        raise QuoteInvalid(
            "you can create opportunities for yourself and your team only",
            code="quotes.invalid_owner",
            field="owner_id",
        )
    return owner


def get_opportunity(opportunity_id: int, user: Any) -> Opportunity:
    """One opportunity the user may read (404 otherwise)."""
    row = (
        access.visible_opportunities(user, Opportunity.objects.select_related("account", "entity", "owner"))
        .filter(pk=opportunity_id)
        .first()
    )
    if row is None:
        raise QuoteNotFound(
            f"no opportunity {opportunity_id}", code="quotes.opportunity_not_found", field="opportunity_id"
        )
    return row


def create_opportunity(
    *,
    actor: Any,
    account_id: int,
    name: str,
    owner_id: int | None = None,
    stage: str = Stage.PROSPECTING,
    expected_close_date: Any = None,
    next_step: str = "",
    currency: str | None = None,
) -> Opportunity:
    """Open an opportunity for a customer account. The owner defaults to the actor; the
    currency to the account's."""
    clean_name = _text(name, "name", required=True)
    account = Account.objects.select_related("entity").filter(pk=account_id).first()
    if account is None:
        raise QuoteInvalid(f"no account {account_id}", code="quotes.invalid_account", field="account_id")
    try:
        start = Stage(stage)
    except ValueError:
        raise QuoteInvalid(f"'{stage}' is not a stage", code="quotes.invalid_stage", field="stage") from None
    if start in CLOSED_STAGES:
        raise QuoteInvalid(
            "a new opportunity starts in an open stage", code="quotes.invalid_stage", field="stage"
        )
    owner = _owner(actor, owner_id)
    close = _date(expected_close_date, "expected_close_date")
    step = _text(next_step, "next_step")
    from q2c.core.money import check_currency

    try:
        cur = check_currency(currency or account.currency)
    except ValidationError:
        raise QuoteInvalid(
            f"'{currency}' is not an ISO 4217 currency code", code="quotes.invalid_currency", field="currency"
        ) from None
    probability = probabilities()[start]
    moment = now()
    with transaction.atomic():
        opp = Opportunity(
            entity=account.entity,
            account=account,
            name=clean_name,
            owner=owner,
            stage=start,
            currency=cur,
            expected_close_date=close,
            next_step=step,
            created_at=moment,
            updated_at=moment,
        )
        opp.probability = probability  # exact decimal text in the column, a Decimal in memory
        opp.save()
        StageChange.objects.create(
            opportunity=opp,
            from_stage="",
            to_stage=start,
            probability=str(probability),
            changed_at=moment,
            actor=actor_name(actor),
        )
        record(
            ev.OPPORTUNITY_CREATED,
            "opportunity",
            opp.pk,
            entity_id=opp.entity_id,
            actor=actor,
            account_id=account.pk,
            owner_id=owner.pk,
            stage=str(start),
            probability=probability,
            name=clean_name,
        )
    return opp


UPDATABLE = ("name", "expected_close_date", "next_step", "owner_id")


def update_opportunity(
    opportunity_id: int, changes: Mapping[str, Any], *, actor: Any, lock_version: int | None = None
) -> Opportunity:
    """Change name, expected close date, next step or owner (not the stage: see :func:`move`)."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise QuoteInvalid(
            f"unknown or read-only field '{unknown[0]}'", code="quotes.unknown_field", field=unknown[0]
        )
    get_opportunity(opportunity_id, actor)
    cleaned: dict[str, Any] = {}
    if "name" in changes:
        cleaned["name"] = _text(changes["name"], "name", required=True)
    if "expected_close_date" in changes:
        cleaned["expected_close_date"] = _date(changes["expected_close_date"], "expected_close_date")
    if "next_step" in changes:
        cleaned["next_step"] = _text(changes["next_step"], "next_step")
    with transaction.atomic():
        opp = locked(Opportunity.objects.all(), opportunity_id, "opportunity")
        access.check_edit(actor, opp.owner_id, "opportunity")
        check_version(opp, lock_version, "opportunity")
        if "owner_id" in changes:
            cleaned["owner"] = _owner(actor, changes["owner_id"])
        for key, value in cleaned.items():
            setattr(opp, key, value)
        opp.updated_at = now()
        opp.lock_version += 1
        opp.save()
        record(
            ev.OPPORTUNITY_UPDATED,
            "opportunity",
            opp.pk,
            entity_id=opp.entity_id,
            actor=actor,
            fields=sorted(cleaned),
        )
    return opp


def _apply_stage(
    opp: Opportunity, target: Stage, *, actor: Any, note: str = "", loss_reason: str = ""
) -> None:
    """Move a locked opportunity (inside the caller's transaction)."""
    current = Stage(opp.stage)
    move_stage(current, target)
    probability = probabilities()[target]
    moment = now()
    opp.stage = target
    opp.probability = probability
    if target in CLOSED_STAGES:
        opp.closed_on = today(opp.entity.time_zone if hasattr(opp, "entity") else None)
    if target is Stage.CLOSED_LOST:
        opp.loss_reason = loss_reason
    opp.updated_at = moment
    opp.lock_version += 1
    opp.save()
    StageChange.objects.create(
        opportunity=opp,
        from_stage=current,
        to_stage=target,
        probability=str(probability),
        changed_at=moment,
        actor=actor_name(actor),
        note=note[:500],
    )
    record(
        ev.OPPORTUNITY_STAGE_CHANGED,
        "opportunity",
        opp.pk,
        entity_id=opp.entity_id,
        actor=actor,
        from_stage=str(current),
        to_stage=str(target),
        probability=probability,
        amount=opp.amount,
        loss_reason=opp.loss_reason if target is Stage.CLOSED_LOST else "",
        note=note,
    )


def move(
    opportunity_id: int,
    stage: str,
    *,
    actor: Any,
    loss_reason: str = "",
    note: str = "",
    lock_version: int | None = None,
) -> Opportunity:
    """Move an opportunity to another stage. Closing as lost needs a loss reason; closing as won
    happens when the customer accepts a quote (``accept_quote``), not by hand."""
    try:
        target = Stage(stage)
    except ValueError:
        raise QuoteInvalid(f"'{stage}' is not a stage", code="quotes.invalid_stage", field="stage") from None
    if target is Stage.CLOSED_WON:
        raise QuoteInvalid(
            "an opportunity is won when the customer accepts its quote",
            code="quotes.won_by_acceptance",
            field="stage",
        )
    reason = _text(loss_reason, "loss_reason", max_length=2000)
    if target is Stage.CLOSED_LOST and not reason:
        raise QuoteInvalid(
            "say why the deal was lost", code="quotes.loss_reason_required", field="loss_reason"
        )
    clean_note = _text(note, "note", max_length=500)
    get_opportunity(opportunity_id, actor)
    with transaction.atomic():
        opp = locked(Opportunity.objects.select_related("entity"), opportunity_id, "opportunity")
        access.check_edit(actor, opp.owner_id, "opportunity")
        check_version(opp, lock_version, "opportunity")
        _apply_stage(opp, target, actor=actor, note=clean_note, loss_reason=reason)
    return opp


def win(opp: Opportunity, *, actor: Any, note: str) -> None:
    """Close a locked opportunity as won (called by the acceptance use case, in its transaction).
    Already won (another version of its quote was accepted earlier) is left as it is."""
    if opp.stage != Stage.CLOSED_WON:
        _apply_stage(opp, Stage.CLOSED_WON, actor=actor, note=note)


# --------------------------------------------------------------------------- teams


def save_team(
    *, name: str, manager_id: int, member_ids: Iterable[int], team_id: int | None = None, actor: Any = None
) -> SalesTeam:
    """Create or replace a sales team (admin)."""
    User = get_user_model()
    clean = _text(name, "name", required=True, max_length=100)
    manager = User.objects.filter(pk=manager_id, is_active=True).first()
    if manager is None:
        raise QuoteInvalid(f"no active user {manager_id}", code="quotes.invalid_manager", field="manager_id")
    ids = sorted({int(i) for i in member_ids})
    found = set(User.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise QuoteInvalid(f"no user {missing[0]}", code="quotes.invalid_member", field="member_ids")
    with transaction.atomic():
        if team_id is None:
            if SalesTeam.objects.filter(name=clean).exists():
                raise QuoteInvalid(
                    f"a team called '{clean}' exists", code="quotes.duplicate_team", field="name"
                )
            team = SalesTeam.objects.create(name=clean, manager=manager)
        else:
            team = locked(SalesTeam.objects.all(), team_id, "team")
            team.name = clean
            team.manager = manager
            team.save()
        team.members.set(ids)
        record(
            ev.TEAM_SAVED,
            "team",
            team.pk,
            entity_id=None,
            actor=actor,
            name=clean,
            manager_id=manager.pk,
            member_ids=ids,
        )
    return team

"""Use cases of approvals: configure rules, submit a quote, approve or reject a step.

Submitting reprices the quote, refuses configuration errors (422) and evaluates the active rules
(``q2c.quotes.approval_rules``). No match: the quote is approved at once. Matches: an
:class:`~q2c.quotes.models.ApprovalRequest` is built with the planned steps; each step's approvers
are resolved when the request is made — a user step names its user, a role step the users holding
that role (for ``sales_manager``: the managers of the owner's teams when the owner is in one). The
quote's owner is never an approver of their own quote; an admin may decide any step of a quote
that is not theirs. Steps with the lowest sequence are open (pending) first, in parallel; the next
sequence opens when all of them are approved. ``any`` steps need one approval, ``all`` steps every
approver's. One rejection rejects the request and sends the quote back to draft. Approvers are
emailed when their step opens; the owner when the request ends.

Errors: ``QuoteInvalid`` (422; ``quotes.configuration_errors`` lists the violations),
``QuoteForbidden`` (403; ``quotes.own_quote``, ``quotes.not_approver``), ``InvalidTransition`` /
``QuoteConflict`` (409), ``QuoteNotFound`` (404).

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from q2c.core.errors import ValidationError
from q2c.core.money import check_currency
from q2c.platform.roles import Role
from q2c.quotes import access
from q2c.quotes import errors as codes
from q2c.quotes import events as ev
from q2c.quotes.approval_rules import NEEDS_THRESHOLD, RuleKind, RuleSpec, StepSpec
from q2c.quotes.domain import (
    Decision,
    QuoteStatus,
    RequestStatus,
    StepMode,
    StepStatus,
    move_quote,
    move_request,
    move_step,
)
from q2c.quotes.errors import QuoteConflict, QuoteForbidden, QuoteInvalid, QuoteNotFound
from q2c.quotes.models import (
    ApprovalDecision,
    ApprovalRequest,
    ApprovalRule,
    ApprovalRuleStep,
    ApprovalStep,
    Quote,
)
from q2c.quotes.services.common import actor_name, check_version, locked, mail, now, record, today
from q2c.quotes.services.opportunities import _text
from q2c.quotes.services.pricing import price_lines
from q2c.quotes.services.quotes import (
    _decimal,
    _refuse_final,
    _store_pricing,
    get_quote,
    header_of,
    lines_of,
    sync_opportunity,
)

# --------------------------------------------------------------------------- rules (admin)


def _clean_steps(raw: Any) -> list[StepSpec]:
    if not isinstance(raw, list | tuple) or not raw:
        raise QuoteInvalid(
            "a rule needs at least one approval step", code="quotes.invalid_step", field="steps"
        )
    User = get_user_model()
    steps: list[StepSpec] = []
    for i, item in enumerate(raw):
        where = f"steps[{i}]"
        if not isinstance(item, Mapping):
            raise QuoteInvalid(f"{where} is an object", code="quotes.invalid_step", field=where)
        role = item.get("role") or ""
        user_id = item.get("user_id")
        if role and role not in {str(r) for r in Role}:
            raise QuoteInvalid(
                f"{where}: '{role}' is not a role", code="quotes.invalid_step", field=f"{where}.role"
            )
        if user_id is not None and not User.objects.filter(pk=user_id, is_active=True).exists():
            raise QuoteInvalid(
                f"{where}: no active user {user_id}", code="quotes.invalid_step", field=f"{where}.user_id"
            )
        mode = item.get("mode") or StepMode.ANY
        if mode not in {str(m) for m in StepMode}:
            raise QuoteInvalid(
                f"{where}: mode is any or all", code="quotes.invalid_step", field=f"{where}.mode"
            )
        sequence = item.get("sequence", 1)
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            raise QuoteInvalid(
                f"{where}: sequence is a whole number", code="quotes.invalid_step", field=f"{where}.sequence"
            )
        try:
            steps.append(StepSpec(sequence=sequence, role=role, user_id=user_id, mode=StepMode(mode)))
        except ValidationError as exc:
            raise QuoteInvalid(
                f"{where}: {exc.message}", code="quotes.invalid_step", field=f"{where}.{exc.field}"
            ) from None
    return steps


def save_rule(
    *,
    actor: Any,
    name: str,
    kind: str,
    steps: Sequence[Mapping[str, Any]],
    threshold: Any = None,
    currency: str = "",
    is_active: bool = True,
    description: str = "",
    rule_id: int | None = None,
) -> ApprovalRule:
    """Create (or, with ``rule_id``, replace) an approval rule and its steps."""
    clean_name = _text(name, "name", required=True)
    try:
        rule_kind = RuleKind(kind)
    except ValueError:
        raise QuoteInvalid(f"'{kind}' is not a rule kind", code="quotes.invalid_rule", field="kind") from None
    value = _decimal(threshold, "threshold")
    if rule_kind in NEEDS_THRESHOLD and value is None:
        raise QuoteInvalid(
            f"a {rule_kind} rule needs a threshold", code="quotes.rule_threshold", field="threshold"
        )
    if value is not None and value < 0:
        raise QuoteInvalid("a threshold is not negative", code="quotes.rule_threshold", field="threshold")
    cur = ""
    if rule_kind is RuleKind.DEAL_SIZE_ABOVE:
        try:
            cur = check_currency(currency)
        except ValidationError:
            raise QuoteInvalid(
                "a deal-size rule needs a currency", code="quotes.rule_currency", field="currency"
            ) from None
    clean_steps = _clean_steps(list(steps))
    RuleSpec(id=0, name=clean_name, kind=rule_kind, steps=tuple(clean_steps), threshold=value, currency=cur)
    with transaction.atomic():
        rule = ApprovalRule() if rule_id is None else locked(ApprovalRule.objects.all(), rule_id, "rule")
        rule.name = clean_name
        rule.kind = rule_kind
        rule.threshold = value
        rule.currency = cur
        rule.is_active = bool(is_active)
        rule.description = _text(description, "description", max_length=2000)
        rule.save()
        rule.steps.all().delete()
        ApprovalRuleStep.objects.bulk_create(
            [
                ApprovalRuleStep(rule=rule, sequence=s.sequence, role=s.role, user_id=s.user_id, mode=s.mode)
                for s in clean_steps
            ]
        )
        record(
            ev.RULE_SAVED,
            "approval_rule",
            rule.pk,
            entity_id=None,
            actor=actor,
            name=clean_name,
            kind=str(rule_kind),
            threshold=value,
            currency=cur,
            active=rule.is_active,
            steps=[
                {"sequence": s.sequence, "role": s.role, "user_id": s.user_id, "mode": str(s.mode)}
                for s in clean_steps
            ],
        )
    return rule


def delete_rule(rule_id: int, *, actor: Any) -> None:
    with transaction.atomic():
        rule = locked(ApprovalRule.objects.all(), rule_id, "rule")
        name = rule.name
        rule.delete()
        record(ev.RULE_DELETED, "approval_rule", rule_id, entity_id=None, actor=actor, name=name)


# --------------------------------------------------------------------------- approvers


def _users_with_role(role: str) -> list[int]:
    User = get_user_model()
    ids = set(User.objects.filter(is_active=True, groups__name=role).values_list("pk", flat=True))
    if role == Role.ADMIN:
        ids |= set(User.objects.filter(is_active=True, is_superuser=True).values_list("pk", flat=True))
    return sorted(ids)


def resolve_approvers(step: StepSpec, owner_id: int) -> list[int]:
    """The users who decide ``step`` for a quote owned by ``owner_id`` (never the owner)."""
    if step.user_id is not None:
        ids = [step.user_id]
    elif step.role == Role.SALES_MANAGER:
        managers = [m for m in access.managers_of(owner_id) if m != owner_id]
        ids = managers or _users_with_role(step.role)
    else:
        ids = _users_with_role(step.role)
    return [i for i in ids if i != owner_id]


def _emails(user_ids: Sequence[int]) -> list[str]:
    User = get_user_model()
    return [e for e in User.objects.filter(pk__in=list(user_ids)).values_list("email", flat=True) if e]


def _notify_step(quote: Quote, step: ApprovalStep, base_url: str) -> None:
    approvers = list(step.approvers.values_list("pk", flat=True))
    link = f"{base_url.rstrip('/')}/quotes/approvals/" if base_url else "/quotes/approvals/"
    mail(
        f"Approval requested: quote {quote.label} for {quote.account.name}",
        (
            f"{actor_name(quote.owner)} asks for your approval of quote {quote.label} "
            f"({quote.tcv.amount} {quote.currency}).\n\nReasons:\n"
            + "\n".join(f"- {m['message']}" for m in quote.approval_matches)
            + f"\n\nYour approval inbox: {link}\n"
        ),
        _emails(approvers),
    )


# --------------------------------------------------------------------------- submit


def submit_quote(quote_id: int, *, actor: Any, lock_version: int | None = None, base_url: str = "") -> Quote:
    """Submit a draft for approval (or approve it at once when no rule matches).

    The quote is repriced first (the catalog may have changed since it was saved); a quote
    without lines, with configuration errors or past its validity date is refused (422).
    """
    get_quote(quote_id, actor)
    with transaction.atomic():
        quote = locked(Quote.objects.select_related("entity", "account", "owner"), quote_id, "quote")
        access.check_edit(actor, quote.owner_id)
        check_version(quote, lock_version, "quote")
        _refuse_final(quote)
        move_quote(QuoteStatus(quote.status), QuoteStatus.IN_REVIEW)  # 409 unless draft
        lines = lines_of(quote)
        if not lines:
            raise QuoteInvalid("a quote needs at least one line", code=codes.NO_LINES, field="lines")
        day = today(quote.entity.time_zone)
        if quote.valid_until < day:
            raise QuoteInvalid(
                f"the quote was valid until {quote.valid_until}; change the validity date first",
                code=codes.PAST_VALIDITY,
                field="valid_until",
            )
        priced = price_lines(header_of(quote), lines, owner=quote.owner, as_of=day)
        if not priced.result.valid:
            details = [
                {
                    "field": "lines",
                    "code": v.code,
                    "message": v.message,
                    "lines": list(v.lines),
                    "rule_id": v.rule_id,
                }
                for v in priced.result.violations
            ]
            raise QuoteInvalid(
                "fix the configuration errors before submitting: "
                + "; ".join(v.message for v in priced.result.violations),
                code=codes.CONFIGURATION,
                field="lines",
                details=details,
            )
        _store_pricing(quote, priced)
        moment = now()
        quote.submitted_at = moment
        quote.updated_at = moment
        quote.lock_version += 1
        record(
            ev.QUOTE_SUBMITTED,
            "quote",
            quote.pk,
            entity_id=quote.entity_id,
            actor=actor,
            number=quote.number,
            version=quote.version,
            tcv=quote.tcv,
            approval_required=priced.needs_approval,
            reasons=[m.as_dict() for m in priced.matches],
        )
        if not priced.needs_approval:
            quote.status = QuoteStatus.APPROVED
            quote.approved_at = moment
            quote.save()
            sync_opportunity(quote)
            record(
                ev.QUOTE_APPROVED,
                "quote",
                quote.pk,
                entity_id=quote.entity_id,
                actor=actor,
                number=quote.number,
                version=quote.version,
                automatic=True,
                request_id=None,
            )
            return quote
        quote.status = QuoteStatus.IN_REVIEW
        quote.save()
        sync_opportunity(quote)
        request = ApprovalRequest.objects.create(
            quote=quote,
            status=RequestStatus.PENDING,
            reasons=[m.as_dict() for m in priced.matches],
            requested_by=actor_name(actor),
            created_at=moment,
        )
        first = min(s.sequence for s in priced.steps)
        planned = []
        for spec in priced.steps:
            step = ApprovalStep.objects.create(
                request=request,
                sequence=spec.sequence,
                role=spec.role,
                user_id=spec.user_id,
                mode=spec.mode,
                status=StepStatus.PENDING if spec.sequence == first else StepStatus.WAITING,
            )
            approvers = resolve_approvers(spec, quote.owner_id)
            step.approvers.set(approvers)
            planned.append(
                {
                    "step_id": step.pk,
                    "sequence": spec.sequence,
                    "role": spec.role,
                    "user_id": spec.user_id,
                    "mode": str(spec.mode),
                    "approver_ids": approvers,
                }
            )
            if step.status == StepStatus.PENDING:
                _notify_step(quote, step, base_url)
        record(
            ev.APPROVAL_REQUESTED,
            "approval",
            request.pk,
            entity_id=quote.entity_id,
            actor=actor,
            quote_id=quote.pk,
            number=quote.number,
            version=quote.version,
            reasons=[m.as_dict() for m in priced.matches],
            steps=planned,
        )
    return quote


# --------------------------------------------------------------------------- decide


def _may_decide(user: Any, step: ApprovalStep, quote: Quote) -> None:
    if quote.owner_id == user.pk:
        raise QuoteForbidden(
            "you cannot approve or reject your own quote", code=codes.OWN_QUOTE, field="step_id"
        )
    if access.is_admin(user):
        return
    if not step.approvers.filter(pk=user.pk).exists():
        raise QuoteForbidden("you are not an approver of this step", code=codes.NOT_APPROVER, field="step_id")


def decide(step_id: int, *, actor: Any, decision: str, comment: str = "", base_url: str = "") -> ApprovalStep:
    """Approve or reject one approval step (a rejection needs a comment)."""
    try:
        choice = Decision(decision)
    except ValueError:
        raise QuoteInvalid(
            "decision is approve or reject", code="quotes.invalid_decision", field="decision"
        ) from None
    text = _text(comment, "comment", max_length=4000)
    if choice is Decision.REJECT and not text:
        raise QuoteInvalid("say why you reject the quote", code="quotes.comment_required", field="comment")
    with transaction.atomic():
        found = ApprovalStep.objects.filter(pk=step_id).values_list("request_id", "request__quote_id").first()
        if found is None:
            raise QuoteNotFound(f"no approval step {step_id}", code="quotes.step_not_found", field="step_id")
        request_id, quote_id = found
        quote = locked(Quote.objects.select_related("entity", "account", "owner"), quote_id, "quote")
        request = locked(ApprovalRequest.objects.all(), request_id, "approval")
        step = locked(ApprovalStep.objects.all(), step_id, "step")
        if not access.visible_quotes(actor, Quote.objects.filter(pk=quote_id)).exists():
            raise QuoteNotFound(f"no approval step {step_id}", code="quotes.step_not_found", field="step_id")
        _may_decide(actor, step, quote)
        if request.status != RequestStatus.PENDING or step.status != StepStatus.PENDING:
            # Deciding a step that is decided, waiting or void is an illegal move (409).
            move_step(
                StepStatus(step.status),
                StepStatus.APPROVED if choice is Decision.APPROVE else StepStatus.REJECTED,
            )
            move_request(RequestStatus(request.status), RequestStatus.APPROVED)
        moment = now()
        try:
            with transaction.atomic():
                ApprovalDecision.objects.create(
                    step=step, approver=actor, decision=choice, comment=text, decided_at=moment
                )
        except IntegrityError:
            raise QuoteConflict(
                "you have decided this step already", code="quotes.already_decided", field="step_id"
            ) from None
        record(
            ev.APPROVAL_DECIDED,
            "approval",
            request.pk,
            entity_id=quote.entity_id,
            actor=actor,
            quote_id=quote.pk,
            step_id=step.pk,
            sequence=step.sequence,
            decision=str(choice),
            comment=text,
        )
        if choice is Decision.REJECT:
            _finish_step(step, StepStatus.REJECTED, actor=actor, quote=quote, request=request)
            _finish_request(request, RequestStatus.REJECTED, actor=actor, quote=quote, comment=text)
            return step
        approvers = set(step.approvers.values_list("pk", flat=True))
        approved_by = set(
            step.decisions.filter(decision=Decision.APPROVE).values_list("approver_id", flat=True)
        )
        done = (
            step.mode == StepMode.ANY or not approvers or approvers <= approved_by or access.is_admin(actor)
        )
        if not done:
            return step
        _finish_step(step, StepStatus.APPROVED, actor=actor, quote=quote, request=request)
        open_steps = ApprovalStep.objects.filter(request=request, status=StepStatus.PENDING).exists()
        if open_steps:
            return step
        waiting = ApprovalStep.objects.filter(request=request, status=StepStatus.WAITING).order_by("sequence")
        nxt = waiting.first()
        if nxt is None:
            _finish_request(request, RequestStatus.APPROVED, actor=actor, quote=quote, comment=text)
            return step
        for later in waiting.filter(sequence=nxt.sequence):
            move_step(StepStatus(later.status), StepStatus.PENDING)
            later.status = StepStatus.PENDING
            later.save(update_fields=["status"])
            _notify_step(quote, later, base_url)
    return step


def _finish_step(
    step: ApprovalStep, status: StepStatus, *, actor: Any, quote: Quote, request: ApprovalRequest
) -> None:
    move_step(StepStatus(step.status), status)
    step.status = status
    step.decided_at = now()
    step.save(update_fields=["status", "decided_at"])
    record(
        ev.APPROVAL_STEP_COMPLETED,
        "approval",
        request.pk,
        entity_id=quote.entity_id,
        actor=actor,
        quote_id=quote.pk,
        step_id=step.pk,
        sequence=step.sequence,
        outcome=str(status),
    )


def _finish_request(
    request: ApprovalRequest, status: RequestStatus, *, actor: Any, quote: Quote, comment: str
) -> None:
    moment = now()
    move_request(RequestStatus(request.status), status)
    request.status = status
    request.decided_at = moment
    request.save(update_fields=["status", "decided_at"])
    ApprovalStep.objects.filter(request=request, status__in=[StepStatus.WAITING, StepStatus.PENDING]).update(
        status=StepStatus.SKIPPED, decided_at=moment
    )
    record(
        ev.APPROVAL_COMPLETED,
        "approval",
        request.pk,
        entity_id=quote.entity_id,
        actor=actor,
        quote_id=quote.pk,
        outcome=str(status),
        comment=comment,
    )
    target = QuoteStatus.APPROVED if status is RequestStatus.APPROVED else QuoteStatus.DRAFT
    move_quote(QuoteStatus(quote.status), target)
    quote.status = target
    quote.updated_at = moment
    quote.lock_version += 1
    if target is QuoteStatus.APPROVED:
        quote.approved_at = moment
        record(
            ev.QUOTE_APPROVED,
            "quote",
            quote.pk,
            entity_id=quote.entity_id,
            actor=actor,
            number=quote.number,
            version=quote.version,
            automatic=False,
            request_id=request.pk,
        )
    else:
        record(
            ev.QUOTE_RETURNED_TO_DRAFT,
            "quote",
            quote.pk,
            entity_id=quote.entity_id,
            actor=actor,
            number=quote.number,
            version=quote.version,
            from_status=str(QuoteStatus.IN_REVIEW),
            reason="approval rejected",
            comment=comment,
        )
    quote.save()
    outcome = "approved" if status is RequestStatus.APPROVED else "rejected"
    mail(
        f"Quote {quote.label} {outcome}",
        f"{actor_name(actor)} {outcome} quote {quote.label} for {quote.account.name}."
        + (f"\n\nComment: {comment}" if comment else ""),
        [quote.owner.email],
    )


def recall(quote_id: int, *, actor: Any, lock_version: int | None = None) -> Quote:
    """The owner takes an in-review quote back to draft (its request is void)."""
    from q2c.quotes.services.quotes import back_to_draft

    get_quote(quote_id, actor)
    with transaction.atomic():
        quote = locked(Quote.objects.select_related("entity"), quote_id, "quote")
        access.check_edit(actor, quote.owner_id)
        check_version(quote, lock_version, "quote")
        move_quote(QuoteStatus(quote.status), QuoteStatus.DRAFT)
        if quote.status != QuoteStatus.IN_REVIEW:
            raise QuoteConflict(
                "only a quote in review can be recalled", code="quote.invalid_transition", field="status"
            )
        back_to_draft(quote, actor=actor, why="recalled")
        quote.updated_at = now()
        quote.lock_version += 1
        quote.save()
    return quote

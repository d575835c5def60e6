"""The clause library, negotiation versions, internal approval and customer signature.

- **Library**: :func:`save_clause` adds a clause or a new version of one (the text with
  ``{{ variables }}``); earlier versions stay, and contracts keep the version they were made with.
- **Negotiation**: before signature, :func:`revise_document` writes a new version whose clause
  texts may depart from the library (or return to it). A version that departs needs internal
  approval (:func:`decide_version`, sales managers) before it can be sent.
- **Signature**: :func:`send_for_signature` renders the current version's PDF (its SHA-256 is the
  evidence) and returns a signed link token (``q2c.platform.links``, purpose
  ``contract.sign``) for the customer; :func:`sign` records signer, time, IP address, user agent
  and document hash and activates the contract. A link to a version that a later negotiation
  version replaced answers 409 ``contracts.version_superseded``.

Errors: ``ContractInvalid`` (422), ``ContractNotFound`` (404), ``ContractConflict`` and
``InvalidTransition`` (409), ``LinkError`` (403, a tampered or expired link).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string

from q2c.contracts import clauses as clause_text
from q2c.contracts import domain
from q2c.contracts import events as ev
from q2c.contracts.domain import NEGOTIABLE, Approval, ContractStatus, VersionKind
from q2c.contracts.errors import (
    LINK_NOT_CURRENT,
    NEEDS_APPROVAL,
    NOT_NEGOTIABLE,
    SUPERSEDED,
    ContractConflict,
    ContractInvalid,
    ContractNotFound,
)
from q2c.contracts.models import Clause, ClauseVersion, Contract, ContractVersion, Signature
from q2c.contracts.services import common
from q2c.contracts.services.creation import SignatureEvidence, sign_version
from q2c.platform import links, pdf

SIGN_PURPOSE = "contract.sign"


# --------------------------------------------------------------------------- clause library


def _text(value: Any, name: str, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ContractInvalid(f"{name} must be text", code="contracts.invalid_text", field=name)
    text = value.strip()
    if required and not text:
        raise ContractInvalid(f"{name} is required", code="contracts.required", field=name)
    if len(text) > max_length:
        raise ContractInvalid(
            f"{name} is longer than {max_length} characters", code="contracts.invalid_text", field=name
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ContractInvalid(
            f"{name} contains control characters", code="contracts.invalid_text", field=name
        )
    return text


def save_clause(
    key: str,
    *,
    actor: Any,
    title: str,
    body: str,
    position: int | None = None,
    is_active: bool | None = None,
    note: str = "",
) -> ClauseVersion:
    """Add clause ``key`` to the library, or add a new version of its text. Returns the version."""
    import re

    if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", key):
        raise ContractInvalid(
            "a clause key is 1–60 lower-case letters, digits, '-' or '_'",
            code="contracts.invalid_key",
            field="key",
        )
    clean_title = _text(title, "title", max_length=200, required=True)
    clean_body = clause_text.check_body(body)
    clean_note = _text(note, "note", max_length=500)
    if position is not None and (
        not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 10000
    ):
        raise ContractInvalid(
            "position is a whole number from 0 to 10000", code="contracts.invalid_number", field="position"
        )
    with transaction.atomic():
        clause = Clause.objects.select_for_update().filter(key=key).first()
        if clause is None:
            clause = Clause.objects.create(
                key=key,
                title=clean_title,
                position=100 if position is None else position,
                is_active=True if is_active is None else bool(is_active),
                current_version=0,
            )
        latest = ClauseVersion.objects.filter(clause=clause).aggregate(v=Max("version"))["v"] or 0
        current = ClauseVersion.objects.filter(clause=clause, version=latest).first()
        if current is not None and current.body == clean_body and current.title == clean_title:
            changed_text = False
            version = current
        else:
            changed_text = True
            version = ClauseVersion.objects.create(
                clause=clause,
                version=latest + 1,
                title=clean_title,
                body=clean_body,
                note=clean_note,
                created_at=common.now(),
                created_by=common.actor_name(actor),
            )
        clause.title = clean_title
        clause.current_version = version.version
        if position is not None:
            clause.position = position
        if is_active is not None:
            clause.is_active = bool(is_active)
        clause.save()
        from q2c.platform.events import DomainEvent, record

        record(
            DomainEvent(
                type=ev.CLAUSE_SAVED,
                aggregate_type="contracts.clause",
                aggregate_id=clause.pk,
                payload={
                    "key": key,
                    "version": version.version,
                    "new_text": changed_text,
                    "variables": clause_text.variables_in(clean_body),
                    "is_active": clause.is_active,
                },
                actor=common.actor_name(actor),
            )
        )
    return version


# --------------------------------------------------------------------------- negotiation


def _version(contract: Contract, number: int) -> ContractVersion:
    row = ContractVersion.objects.filter(contract=contract, number=number).first()
    if row is None:
        raise ContractNotFound(
            f"contract {contract.number} has no version {number}",
            code="contracts.no_version",
            field="version",
        )
    return row


def revise_document(
    contract_id: int,
    *,
    actor: Any,
    lock_version: int | None,
    clause_texts: Mapping[str, str | None],
    note: str = "",
) -> ContractVersion:
    """A new negotiation version: ``clause_texts`` maps clause keys to their negotiated text
    (``None``: back to the library text). A contract sent for signature goes back to draft and
    its link stops working. The new version needs approval when any clause departs."""
    clean_note = _text(note, "note", max_length=2000)
    if not isinstance(clause_texts, Mapping) or not clause_texts:
        raise ContractInvalid(
            "name at least one clause to change", code="contracts.required", field="clauses"
        )
    cleaned: dict[str, str | None] = {}
    for key, text in clause_texts.items():
        cleaned[str(key)] = (
            None if text is None else _text(text, f"clauses.{key}", max_length=20000, required=True)
        )
    with transaction.atomic():
        contract = common.locked(contract_id)
        common.check_version(contract, lock_version)
        status = ContractStatus(contract.status)
        if status not in NEGOTIABLE:
            raise ContractConflict(
                f"contract {contract.number} is {status}: its text changes by amendment only",
                code=NOT_NEGOTIABLE,
                field="status",
            )
        current = common.current_version(contract)
        states = common.clause_states(current)
        known = {s.key for s in states}
        unknown = sorted(set(cleaned) - known)
        if unknown:
            raise ContractInvalid(
                f"the contract has no clause '{unknown[0]}'",
                code="contracts.unknown_clause",
                field=f"clauses.{unknown[0]}",
            )
        values = common.variables(contract)
        new_states = []
        changed = False
        for state in states:
            if state.key not in cleaned:
                new_states.append(state)
                continue
            text = cleaned[state.key]
            # A text equal to the library's is the library text (it follows the terms again).
            custom = None if text is None or text == state.library_text(values) else text
            changed = changed or custom != state.custom
            new_states.append(
                common.ClauseState(state.key, state.title, state.library_version, state.body, custom)
            )
        if not changed:
            raise ContractInvalid(
                "the texts are the current ones", code="contracts.no_change", field="clauses"
            )
        if status is ContractStatus.PENDING_SIGNATURE:
            contract.status = domain.move(status, ContractStatus.DRAFT)
        version = common.write_version(
            contract,
            number=contract.current_version + 1,
            kind=VersionKind.NEGOTIATION,
            lines=common.lines_of(current),
            states=new_states,
            effective=current.effective_date,
            actor=actor,
            note=clean_note,
        )
        common.bump(contract)
        common.record(
            ev.VERSION_CREATED,
            contract,
            actor=actor,
            version=version.number,
            kind=str(VersionKind.NEGOTIATION),
            deviates=version.deviates,
            approval=version.approval,
            document_sha256=version.document_sha256,
            clauses=sorted(cleaned),
        )
    return version


def decide_version(
    contract_id: int, number: int, *, actor: Any, approve: bool, comment: str = ""
) -> ContractVersion:
    """Approve or reject a negotiation version whose clauses depart from the library. Only the
    current version is decided (an older one answers 409); the author may not approve their own."""
    clean = _text(comment, "comment", max_length=2000)
    with transaction.atomic():
        contract = common.locked(contract_id)
        version = _version(contract, number)
        if version.number != contract.current_version:
            raise ContractConflict(f"version {number} is superseded", code=SUPERSEDED, field="version")
        target = Approval.APPROVED if approve else Approval.REJECTED
        domain.move_approval(version.approval, target)
        if approve and version.created_by and version.created_by == common.actor_name(actor):
            from q2c.contracts.errors import ContractForbidden

            raise ContractForbidden(
                "you may not approve your own changes", code="contracts.own_version", field="version"
            )
        version.approval = target
        version.approved_by = common.actor_name(actor)
        version.approved_at = common.now()
        version.approval_comment = clean
        version.save(update_fields=["approval", "approved_by", "approved_at", "approval_comment"])
        common.bump(contract)
        common.record(
            ev.VERSION_DECIDED, contract, actor=actor, version=number, decision=str(target), comment=clean
        )
    return version


# --------------------------------------------------------------------------- signature


def pdf_html(contract: Contract, version: ContractVersion) -> str:
    return render_to_string("contracts/document_pdf.html", {"contract": contract, "version": version})


def render_version_pdf(contract: Contract, version: ContractVersion, *, created: datetime) -> bytes:
    return pdf.render_pdf(
        pdf_html(contract, version),
        key=f"contract:{contract.number}:v{version.number}",
        created=created,
        title=f"Contract {contract.number} v{version.number}",
    )


def send_for_signature(
    contract_id: int, *, actor: Any, lock_version: int | None, email: str = ""
) -> tuple[Contract, str]:
    """Render the current version's PDF, move the contract to pending_signature and return the
    signing link's token. A version departing from the library must be approved first."""
    recipient = _text(email, "email", max_length=254)
    with transaction.atomic():
        contract = common.locked(contract_id)
        common.check_version(contract, lock_version)
        version = common.current_version(contract)
        if version.approval in (Approval.PENDING, Approval.REJECTED):
            raise ContractConflict(
                f"version {version.number} departs from the clause library and is {version.approval}: "
                "it needs a sales manager's approval before it is sent",
                code=NEEDS_APPROVAL,
                field="version",
            )
        contract.status = domain.move(contract.status, ContractStatus.PENDING_SIGNATURE)
        moment = common.now()
        content = render_version_pdf(contract, version, created=moment)
        settings = common.settings_for(contract.entity_id)
        expires = moment + timedelta(days=int(settings.signature_link_days))
        version.pdf = content
        version.pdf_sha256 = hashlib.sha256(content).hexdigest()
        version.sent_at = moment
        version.sent_to = recipient
        version.link_expires_at = expires
        version.save(update_fields=["pdf", "pdf_sha256", "sent_at", "sent_to", "link_expires_at"])
        common.bump(contract)
        common.record(
            ev.SENT_FOR_SIGNATURE,
            contract,
            actor=actor,
            version=version.number,
            document_sha256=version.pdf_sha256,
            sent_to=recipient,
            link_expires_at=expires,
        )
        token = links.make_token(SIGN_PURPOSE, version.pk, expires)
    return contract, token


def version_for_token(token: str) -> tuple[Contract, ContractVersion]:
    """The contract and version a signing link opens (``LinkError`` 403 when tampered/expired)."""
    claims = links.read_token(token, SIGN_PURPOSE)
    version = (
        ContractVersion.objects.select_related("contract__entity", "contract__account")
        .filter(pk=int(claims.object_id))
        .first()
    )
    if version is None:
        raise ContractNotFound(
            "this contract is no longer available", code="contracts.not_found", field="token"
        )
    return version.contract, version


def sign(
    token: str,
    *,
    signer_name: str,
    signer_title: str = "",
    signer_email: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    agreed: bool = True,
) -> Signature:
    """The customer signs the version behind ``token``: evidence recorded, contract activated."""
    name = _text(signer_name, "signer_name", max_length=200, required=True)
    title = _text(signer_title, "signer_title", max_length=200)
    mail = _text(signer_email, "signer_email", max_length=254)
    if not agreed:
        raise ContractInvalid(
            "confirm that you agree to the contract", code="contracts.not_agreed", field="agreed"
        )
    _, version = version_for_token(token)
    with transaction.atomic():
        contract = common.locked(version.contract_id)
        version = ContractVersion.objects.get(pk=version.pk)
        if version.number != contract.current_version or version.superseded_at is not None:
            raise ContractConflict(
                f"version {version.number} of contract {contract.number} was replaced by version "
                f"{contract.current_version}; ask for the current one",
                code=SUPERSEDED,
                field="token",
            )
        if not version.pdf_sha256 or version.sent_at is None:
            raise ContractConflict(
                "this version was not sent for signature", code=LINK_NOT_CURRENT, field="token"
            )
        if contract.status != ContractStatus.PENDING_SIGNATURE:
            # Signed already (a replayed link), or taken back: the table says no.
            domain.move(contract.status, ContractStatus.ACTIVE)
        evidence = SignatureEvidence(
            signer_name=name,
            signer_title=title,
            signer_email=mail,
            signed_at=common.now(),
            ip_address=ip_address or None,
            user_agent=(user_agent or "")[:1000],
            document_sha256=version.pdf_sha256,
        )
        signature = sign_version(
            contract, version, evidence, method=Signature.Method.LINK, actor=f"customer:{name}"
        )
    return signature

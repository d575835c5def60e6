"""The audit chain over the event log.

The sealer walks committed events in sequence order from the last sealed one and sets
``hash = sha256(previous hash ‖ canonical content)``, stopping at the first missing sequence
number (an event whose transaction has not committed yet). After each seal it writes an
:class:`AuditAnchor` with the head, in a separate table, so a rewritten tail (every hash recomputed
after an edit) no longer meets its anchor.

:func:`verify` recomputes the chain from the start and reports the first problem: an altered row
(stored hash differs), a deleted row (a gap in the sequence), a rewritten or truncated tail
(an anchor's head no longer matches).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import connection, transaction

from q2c.platform.models import AuditAnchor, Event, NumberCounter

GENESIS = "0" * 64
_SEAL_LOCK = "audit_seal"
_BATCH = 5000


def content(event: Event) -> bytes:
    data = {
        "seq": event.seq,
        "type": event.type,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "entity_id": event.entity_id,
        "actor": event.actor,
        "occurred_at": event.occurred_at.isoformat(),
        "payload": event.payload,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(previous: str, event: Event) -> str:
    return hashlib.sha256(previous.encode() + b"|" + content(event)).hexdigest()


def seal() -> int:
    """Hash every committed, contiguous, unsealed event; returns how many were sealed."""
    sealed = 0
    with transaction.atomic():
        # One sealer at a time: lock a counter row used as a mutex.
        lock = NumberCounter.objects.filter(entity_id=0, kind=_SEAL_LOCK, year=0)
        if connection.features.has_select_for_update:
            lock = lock.select_for_update()
        if lock.first() is None:
            NumberCounter.objects.get_or_create(entity_id=0, kind=_SEAL_LOCK, year=0)
        last = AuditAnchor.objects.order_by("-sealed_through").first()
        through = last.sealed_through if last else 0
        head = last.head_hash if last else GENESIS
        while True:
            batch = list(Event.objects.filter(seq__gt=through).order_by("seq")[:_BATCH])
            if not batch:
                break
            changed = []
            for ev in batch:
                if ev.seq != through + 1:
                    break  # a later transaction committed first; wait for the gap to fill
                head = chain_hash(head, ev)
                ev.hash = head
                through = ev.seq
                changed.append(ev)
            Event.objects.bulk_update(changed, ["hash"], batch_size=1000)
            sealed += len(changed)
            if len(changed) < len(batch):
                break
        if sealed:
            AuditAnchor.objects.create(sealed_through=through, head_hash=head)
    return sealed


@dataclass(frozen=True)
class Problem:
    kind: str  # altered | deleted | tail_rewritten | unsealed_gap
    seq: int
    message: str


def verify() -> Problem | None:
    """Recompute the chain; return the first problem found, or ``None`` when it holds."""
    anchors = {a.sealed_through: a.head_hash for a in AuditAnchor.objects.all()}
    last_anchor = max(anchors, default=0)
    head = GENESIS
    expected = 1
    for ev in Event.objects.order_by("seq").iterator(chunk_size=_BATCH):
        if ev.seq != expected:
            return Problem("deleted", expected, f"event #{expected} is missing (next is #{ev.seq})")
        if ev.hash is None:
            if ev.seq <= last_anchor:
                return Problem("altered", ev.seq, f"event #{ev.seq} lost its seal")
            break  # the unsealed tail: nothing to check yet
        head = chain_hash(head, ev)
        if ev.hash != head:
            return Problem("altered", ev.seq, f"event #{ev.seq} was altered (hash does not match)")
        if ev.seq in anchors and anchors[ev.seq] != head:
            return Problem(
                "tail_rewritten", ev.seq, f"the chain at #{ev.seq} does not meet its sealed anchor"
            )
        expected += 1
    if last_anchor >= expected:
        return Problem(
            "deleted", expected, f"events up to #{last_anchor} were sealed but #{expected} is missing"
        )
    return None

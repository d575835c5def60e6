"""Moves shared by the quotes tests: take a quote through approval and sending."""

from __future__ import annotations

from typing import Any

from q2c.quotes import services
from q2c.quotes.models import ApprovalRequest, Quote


def approve(quote: Any, rep: Any, manager: Any) -> Quote:
    """Submit ``quote`` as ``rep``; ``manager`` approves every open step."""
    q = services.submit_quote(quote.pk, actor=rep)
    while q.status == "in_review":
        for step in ApprovalRequest.objects.get(quote=q, status="pending").steps.filter(status="pending"):
            services.decide(step.pk, actor=manager, decision="approve", comment="ok")
        q = Quote.objects.get(pk=q.pk)
    return q


def send(quote: Any, rep: Any, manager: Any) -> services.Sent:
    approve(quote, rep, manager)
    return services.send_quote(quote.pk, actor=rep, base_url="https://q2c.example")

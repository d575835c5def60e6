"""The win-probability panel of the quote builder (slot ``quotes.builder``, registered in
``q2c/wires/analytics.py``; the quotes app never imports analytics).

Shows the chance of winning the quote at its current discount, the recommended discount with
its expected margin, the main reasons, and — when a deeper discount would pay more but is above
the owner's limit — that it needs approval. Without a trained model (too little history), or
with one that does not beat its baselines on held-out quotes, it says so and shows no number. Everything rendered is escaped (``format_html``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from q2c.analytics.forecasting import gather, recommend, store

SHOWN_TO = {"sales_rep", "sales_manager", "admin"}


def _d(value: Decimal) -> str:
    """A discount without trailing zeros or exponent: 10.00 → "10", 10.50 → "10.5"."""
    return format(value.normalize(), "f") if value else "0"


def _pct(p: float) -> str:
    return f"{p * 100:.0f} %"


def builder_panel(request: HttpRequest, context: dict[str, Any]) -> str:
    from q2c.platform.roles import roles_of

    quote = context.get("quote")
    user = getattr(request, "user", None)
    if quote is None or user is None or not (roles_of(user) & SHOWN_TO):
        return ""
    head = format_html(
        '<section class="card" aria-labelledby="h-winprob"><h2 id="h-winprob">{}</h2>', "Win chance"
    )
    stored = store.load()
    if stored is None or stored.model is None:
        why = stored.insufficient if stored else "no model has been trained yet"
        return head + format_html(
            '<p class="muted">Not shown: too little quote history to predict from ({}).</p></section>', why
        )
    evaluation = stored.evaluation or {}
    if not evaluation.get("beats_baselines"):
        model_auc = evaluation.get("model", {}).get("auc")
        return head + format_html(
            '<p class="muted">Not shown: the model does not beat its baselines on held-out quotes '
            "(AUC {}; see docs/models.md).</p></section>",
            model_auc if model_auc is not None else "not measured",
        )
    facts = gather.facts(quote)
    if facts.list_value <= 0:
        return head + format_html(
            '<p class="muted">{}</p></section>', "Price the quote to see its win chance."
        )
    rec = recommend.recommend(
        stored.model,
        facts.row,
        list_value=facts.list_value,
        cost=facts.cost,
        floor_discount=facts.floor_discount,
        rep_limit=facts.rep_limit,
        target_list=facts.target_list,
        rest_value=facts.rest_value,
        value=facts.value,
    )
    cur = rec.current
    best = rec.recommended
    body = format_html(
        "<p>At the current discount of {} %: <strong>{}</strong> chance, expected margin {} {}.</p>"
        "<p>Recommended discount on {}: <strong>{} %</strong> — {} chance, expected margin {} {} "
        "(at most {} % without approval: {}).</p>",
        _d(cur.discount),
        _pct(cur.probability),
        cur.expected_margin,
        facts.currency,
        ", ".join(facts.targets) if facts.targets else "every line",
        _d(best.discount),
        _pct(best.probability),
        best.expected_margin,
        facts.currency,
        _d(rec.cap),
        rec.cap_reason,
    )
    if rec.needs_approval is not None:
        body += format_html(
            "<p>{} % would pay more (expected margin {} {}) but needs approval.</p>",
            _d(rec.needs_approval.discount),
            rec.needs_approval.expected_margin,
            facts.currency,
        )
    if rec.reasons:
        body += format_html(
            "<p>Main reasons:</p><ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((r,) for r in rec.reasons)),
        )
    body += format_html(
        '<p class="muted">Model of {} over {} decided quotes; see docs/models.md for its held-out accuracy.</p>',
        stored.trained_on,
        stored.model.trained_rows,
    )
    return head + body + mark_safe("</section>")


def dashboard_panel(request: HttpRequest, context: dict[str, Any]) -> str:
    """The forecasts beside the finance and executive dashboards (slot ``analytics.dashboard``):
    next months' revenue and cash totals in the dashboard's currency, each with its backtest MAPE,
    and a link to the Forecasts page."""
    from q2c.analytics.forecasting import forecast
    from q2c.core import clock
    from q2c.platform.roles import roles_of

    board = context.get("board")
    scope = context.get("scope")
    user = getattr(request, "user", None)
    if board is None or getattr(board, "name", "") not in ("finance", "executive") or user is None:
        return ""
    if not (roles_of(user) & {"sales_manager", "finance", "viewer"}):
        return ""
    currency = getattr(scope, "currency", "") or "EUR"
    data = forecast.build(clock.today(), currency)

    def mape(section: dict[str, Any]) -> str:
        bt = section["backtest"]
        return (
            f"MAPE {bt['mape_percent']} %" if bt.get("mape_percent") else "not measured (too little history)"
        )

    rows = format_html_join(
        "",
        "<tr><td>{}</td><td class='num'>{}</td><td class='num'>{}</td></tr>",
        (
            (r["month"], r["total"] or "—", c["total"])
            for r, c in zip(data["revenue"]["months"], data["cash"]["months"], strict=True)
        ),
    )
    return format_html(
        '<section class="card" aria-labelledby="h-forecast"><h2 id="h-forecast">Forecast ({})</h2>'
        "<p>Revenue backtest: {}; cash backtest: {} (composed forecast: {}). "
        '<a href="/analytics/forecasts/?currency={}">How it is made</a></p>'
        "<table><thead><tr><th>month</th><th>revenue</th><th>cash</th></tr></thead><tbody>{}</tbody></table>"
        "</section>",
        currency,
        mape(data["revenue"]),
        mape(data["cash"]),
        mape({"backtest": data["cash"]["composed_backtest"]}),
        currency,
        rows,
    )

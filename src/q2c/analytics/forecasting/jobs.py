"""The scheduled training of the win-probability model (registered as a daily job; it trains on
Mondays, or on any day when no model was stored yet, and does nothing otherwise)."""

from __future__ import annotations

from datetime import date
from typing import Any

from q2c.analytics.forecasting import gather, store


def train_now(today: date) -> dict[str, Any]:
    stored = store.train(gather.history(), today)
    if stored.model is None:
        return {"trained": False, "insufficient": stored.insufficient}
    evaluation = stored.evaluation or {}
    return {
        "trained": True,
        "rows": stored.model.trained_rows,
        "auc": evaluation.get("model", {}).get("auc"),
        "beats_baselines": evaluation.get("beats_baselines"),
    }


def daily(today: date) -> dict[str, Any]:
    current = store.load()
    if current is not None and today.weekday() != 0 and current.trained_on:
        return {"trained": False, "skipped": "trains on Mondays"}
    if current is not None and current.trained_on == today.isoformat():
        return {"trained": False, "skipped": "already trained today"}
    return train_now(today)

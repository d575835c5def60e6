"""Keeps the trained win-probability model and its evaluation as one JSON file,
``<Q2C_VAR_DIR>/models/winprob.json`` (plain numbers, never a pickle; written atomically).

When the last training found too little history, the file holds the reason and no model, and
every reader shows that reason instead of a probability.

``<Q2C_VAR_DIR>/models/winprob-value.json`` holds the last measurement on simulation runs the
model was not trained on (``tools/winprob_value.py --store``): held-out scores against the
baselines and the recommendation's value; the Forecasts page shows it beside the evaluation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from q2c.analytics.forecasting.winprob import Evaluation, InsufficientHistory, QuoteRow, WinModel, evaluate


def path() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "models" / "winprob.json"


@dataclass(frozen=True)
class Stored:
    trained_on: str
    model: WinModel | None
    evaluation: dict[str, Any] | None
    insufficient: str = ""


def train(rows: list[QuoteRow], today: date) -> Stored:
    """Evaluate on held-out quotes, refit on all, and store the result (or the reason there is none)."""
    try:
        model, evaluation = evaluate(rows)
    except InsufficientHistory as exc:
        stored = Stored(trained_on=today.isoformat(), model=None, evaluation=None, insufficient=str(exc))
    else:
        stored = Stored(trained_on=today.isoformat(), model=model, evaluation=evaluation.to_json())
    save(stored)
    return stored


def save(stored: Stored) -> None:
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "trained_on": stored.trained_on,
        "model": stored.model.to_json() if stored.model else None,
        "evaluation": stored.evaluation,
        "insufficient": stored.insufficient,
    }
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target)


def load() -> Stored | None:
    """The stored model, or None when none was ever trained (or the file is unreadable)."""
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
        model = WinModel.from_json(data["model"]) if data.get("model") else None
        return Stored(
            trained_on=str(data.get("trained_on", "")),
            model=model,
            evaluation=data.get("evaluation"),
            insufficient=str(data.get("insufficient", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def value_path() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "models" / "winprob-value.json"


def load_value() -> dict[str, Any] | None:
    """The last measurement of the model and its recommendation on simulation runs not used for
    training (written by ``tools/winprob_value.py --store``), or None when none was made."""
    try:
        data = json.loads(value_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


__all__ = ["Evaluation", "Stored", "load", "load_value", "path", "save", "train", "value_path"]

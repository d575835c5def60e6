"""``q2c winprob [--json]``: train the win-probability model on the quote history now, store it
and print its evaluation on the held-out (newest 25 %) quotes against the baselines. With too
little history it prints why, stores that, and exits 1 — no model is kept or shown.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from q2c.analytics.forecasting import gather, store
from q2c.core import clock
from q2c.platform.commands import Q2CCommand


class Command(Q2CCommand):
    help = "Train and evaluate the win-probability model on the quote history (--json for one JSON object)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", dest="as_json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        stored = store.train(gather.history(), clock.today())
        if stored.model is None:
            raise CommandError(f"no model: too little history — {stored.insufficient}", returncode=1)
        ev = stored.evaluation or {}
        if opts.get("as_json"):
            self.stdout.write(json.dumps({"trained_on": stored.trained_on, "evaluation": ev}, indent=2))
            return
        self.stdout.write(
            f"trained on {ev['trained_rows']} quotes, held out {ev['held_out_rows']} "
            f"(win rate {ev['held_out_win_rate']:.1%})"
        )
        for s in (ev["model"], *ev["baselines"]):
            self.stdout.write(
                f"  {s['name']:<22} AUC {s['auc']:.3f}  Brier {s['brier']:.4f}  log loss {s['log_loss']:.4f}"
            )
        self.stdout.write("  calibration (predicted → observed, n): " + ", ".join(
            f"{p:.2f}→{o:.2f} ({n})" for p, o, n in ev["model"]["calibration"]
        ))  # fmt: skip
        self.stdout.write("beats its baselines" if ev["beats_baselines"] else "does NOT beat its baselines")

"""Win probability of a sent quote: a logistic regression over the quote history, with its
evaluation on held-out quotes against two baselines.

Pure: plain :class:`QuoteRow` in, a :class:`WinModel` (plain numbers, JSON-serialisable) and a
:class:`Evaluation` out. scikit-learn fits the model; prediction afterwards is plain arithmetic
over the exported coefficients, so the quote builder needs no scikit-learn object and a stored
model is plain JSON, never a pickle.

Features (docs/models.md): the deepest line discount % and its square (diminishing returns) —
for renewals as features of their own, since a renewal's buyer answers a discount differently
from a first buyer —, ln(deal size), term in years, days from creation to sending, the number of
products on the quote, whether it holds goods, one indicator per segment proxy, per rep and per
sale context (new, add-on, renewal). Numbers are standardised with the training set's mean and
spread.

The split is by time: the oldest 75 % of decided quotes train, the newest 25 % are held out, as
a model is used — on quotes decided after the ones it learnt from.

With too little history (fewer than ``MIN_ROWS`` decided quotes, fewer than ``MIN_CLASS`` won
or lost, or a held-out set with one outcome only) :func:`train` raises
:class:`InsufficientHistory` naming why; nothing is guessed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

MIN_ROWS = 60
MIN_CLASS = 10
HELD_OUT = 0.25
CALIBRATION_BINS = 5
#: the L2 strength (docs/models.md: a strength chosen by cross-validation shrank the discount's
#: slope and the recommendation with it on the training demo runs)
C = 1.0
#: Newton's method with a Cholesky solve: for a few dozen features it reaches the same L2 optimum
#: as scikit-learn's default L-BFGS (closer: L-BFGS stops at its tolerance) some 40 times faster,
#: which is what the weekly training in the demo spends its time on (docs/models.md)
SOLVER = "newton-cholesky"
#: renewals' own discount response is learnt only from at least this many renewal quotes; with
#: fewer, a renewal's chance does not depend on its discount (a handful of renewals gave the demo
#: model a discount effect that the buyers do not have, and the recommendation lost revenue)
MIN_RENEWALS = 30
RENEWAL_DISCOUNT = ("renewal_discount", "renewal_discount_sq")


class InsufficientHistory(Exception):
    """Too little decided history to train or evaluate a model; ``str()`` says what is missing."""


@dataclass(frozen=True)
class QuoteRow:
    """One sent quote as the model sees it. ``won`` is None while it is undecided."""

    discount_percent: float
    deal_size: float  # total contract value, in major units of the quote's currency
    term_months: int
    products: tuple[str, ...]
    segment: str
    rep: str
    days_in_stage: float  # days from creation to sending
    won: bool | None = None
    decided_on: date | None = None
    quote_id: int | None = None
    context: str = "new"  # the quote's sale context: new, add_on or renewal
    #: the deepest manual discount of any line, percent (None: not known — the quote's discount)
    line_discount: float | None = None
    goods: bool = False  # the quote holds physical goods (lines taxed as goods)


NUMERIC = ("discount", "discount_sq", "log_size", "term_years", "days_in_stage")
DISCOUNT_NAMES = ("discount", "discount_sq", "renewal_discount", "renewal_discount_sq")


def seen_discount(row: QuoteRow) -> float:
    """The discount a buyer sees: the deepest line discount (the quote's when not known)."""
    return row.discount_percent if row.line_discount is None else row.line_discount


def features(
    row: QuoteRow, *, discount: float | None = None, deal_size: float | None = None
) -> dict[str, float]:
    """The model's raw feature values of ``row``. The discount feature is the deepest line
    discount (what a buyer sees on the page; the quote's discount when not known); ``discount``
    asks "what if the discounted lines had this discount" and replaces it, ``deal_size`` the
    quote's value at that discount."""
    d = seen_discount(row) if discount is None else discount
    prefix = "renewal_" if row.context == "renewal" else ""
    out = {
        f"{prefix}discount": d,
        f"{prefix}discount_sq": d * d / 100.0,
        "log_size": math.log(max(row.deal_size if deal_size is None else deal_size, 1.0)),
        "term_years": row.term_months / 12.0,
        "days_in_stage": row.days_in_stage,
        f"segment={row.segment}": 1.0,
        f"rep={row.rep}": 1.0,
        f"context={row.context or 'new'}": 1.0,
    }
    out["products"] = float(len(set(row.products)))
    out["goods"] = 1.0 if row.goods else 0.0
    return out


@dataclass(frozen=True)
class WinModel:
    """A fitted logistic model as plain numbers: p = σ(intercept + Σ coef·(x − mean)/scale)."""

    names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    coefs: tuple[float, ...]
    intercept: float
    trained_rows: int
    trained_through: str = ""  # ISO date of the newest decided quote it learnt from
    #: the deepest discount the buyers of its history saw (0: not known); beyond it the fitted
    #: curve is extrapolation and the recommendation does not go there
    max_discount: float = 0.0

    def contributions(
        self, row: QuoteRow, *, discount: float | None = None, deal_size: float | None = None
    ) -> dict[str, float]:
        """Each feature's share of the logit (coef × standardised value), zeros included."""
        x = features(row, discount=discount, deal_size=deal_size)
        return {
            n: c * (x.get(n, 0.0) - m) / s
            for n, m, s, c in zip(self.names, self.means, self.scales, self.coefs, strict=True)
        }

    def probability(
        self, row: QuoteRow, *, discount: float | None = None, deal_size: float | None = None
    ) -> float:
        logit = self.intercept + sum(self.contributions(row, discount=discount, deal_size=deal_size).values())
        return _sigmoid(logit)

    def reasons(self, row: QuoteRow, *, count: int = 3) -> list[tuple[str, float]]:
        """The features that move this quote's logit most, largest first, with their shares.

        Indicators the quote does not have (another rep, another segment) are no reason for it and
        are left out; goods are named by whether the quote has them ("goods" / "no goods")."""
        parts = self.contributions(row)
        x = features(row)
        # discount and its square act together: one reason
        combined: dict[str, float] = {}
        for name, value in parts.items():
            if "=" in name and not x.get(name):
                continue
            key = "discount" if name in DISCOUNT_NAMES else name
            if name == "goods" and not x.get(name):
                key = "no goods"
            combined[key] = combined.get(key, 0.0) + value
        ranked = sorted(combined.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        return [(n, v) for n, v in ranked[:count] if abs(v) > 1e-9]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WinModel:
        return cls(
            names=tuple(str(n) for n in data["names"]),
            means=tuple(float(v) for v in data["means"]),
            scales=tuple(float(v) for v in data["scales"]),
            coefs=tuple(float(v) for v in data["coefs"]),
            intercept=float(data["intercept"]),
            trained_rows=int(data["trained_rows"]),
            trained_through=str(data.get("trained_through", "")),
            max_discount=float(data.get("max_discount", 0.0)),
        )


@dataclass(frozen=True)
class Scores:
    """How one predictor did on the held-out quotes."""

    name: str
    auc: float
    brier: float
    log_loss: float
    #: (mean predicted, observed win rate, count) per probability bin, for a reliability table
    calibration: tuple[tuple[float, float, int], ...] = ()


@dataclass(frozen=True)
class Evaluation:
    trained_rows: int
    held_out_rows: int
    held_out_win_rate: float
    model: Scores
    baselines: tuple[Scores, ...]
    beats_baselines: bool
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def decided(rows: Iterable[QuoteRow]) -> list[QuoteRow]:
    """The decided rows, oldest decision first (ties by quote id)."""
    out = [r for r in rows if r.won is not None]
    out.sort(key=lambda r: (r.decided_on or date.min, r.quote_id or 0))
    return out


def check_history(rows: Sequence[QuoteRow], *, min_rows: int = MIN_ROWS, min_class: int = MIN_CLASS) -> None:
    """Raise :class:`InsufficientHistory` unless ``rows`` (decided) are enough to learn from."""
    won = sum(1 for r in rows if r.won)
    lost = len(rows) - won
    if len(rows) < min_rows:
        raise InsufficientHistory(f"{len(rows)} decided quotes; at least {min_rows} are needed")
    if won < min_class or lost < min_class:
        raise InsufficientHistory(
            f"{won} won and {lost} lost quotes; at least {min_class} of each are needed"
        )


def fit(rows: Sequence[QuoteRow], *, min_rows: int = MIN_ROWS, min_class: int = MIN_CLASS) -> WinModel:
    """Fit the model on decided ``rows`` (all of them)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rows = decided(rows)
    check_history(rows, min_rows=min_rows, min_class=min_class)
    dicts = [features(r) for r in rows]
    if sum(1 for r in rows if r.context == "renewal") < MIN_RENEWALS:
        for d in dicts:
            for name in RENEWAL_DISCOUNT:
                d.pop(name, None)
    vec = DictVectorizer(sparse=False)
    x = vec.fit_transform(dicts)
    y = [1 if r.won else 0 for r in rows]
    scaler = StandardScaler()
    xs = scaler.fit_transform(x)
    clf = LogisticRegression(C=C, solver=SOLVER, max_iter=200)
    clf.fit(xs, y)
    names = tuple(str(n) for n in vec.get_feature_names_out())
    scales = tuple(float(s) if s > 0 else 1.0 for s in scaler.scale_)
    newest = rows[-1].decided_on
    return WinModel(
        names=names,
        means=tuple(float(m) for m in scaler.mean_),
        scales=scales,
        coefs=tuple(float(c) for c in clf.coef_[0]),
        intercept=float(clf.intercept_[0]),
        trained_rows=len(rows),
        trained_through=newest.isoformat() if newest else "",
        max_discount=max(seen_discount(r) for r in rows),
    )


def _scores(name: str, y: Sequence[int], p: Sequence[float]) -> Scores:
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    clipped = [min(max(v, 1e-6), 1 - 1e-6) for v in p]
    return Scores(
        name=name,
        auc=round(float(roc_auc_score(y, p)), 4),
        brier=round(float(brier_score_loss(y, p)), 4),
        log_loss=round(float(log_loss(y, clipped, labels=[0, 1])), 4),
        calibration=calibration(y, p),
    )


def calibration(
    y: Sequence[int], p: Sequence[float], bins: int = CALIBRATION_BINS
) -> tuple[tuple[float, float, int], ...]:
    """Equal-width probability bins: (mean predicted, observed rate, count) of each non-empty bin."""
    groups: dict[int, list[tuple[float, int]]] = {}
    for yi, pi in zip(y, p, strict=True):
        groups.setdefault(min(int(pi * bins), bins - 1), []).append((pi, yi))
    return tuple(
        (
            round(sum(v for v, _ in g) / len(g), 4),
            round(sum(o for _, o in g) / len(g), 4),
            len(g),
        )
        for _, g in sorted(groups.items())
    )


def split(rows: Sequence[QuoteRow], held_out: float = HELD_OUT) -> tuple[list[QuoteRow], list[QuoteRow]]:
    """Oldest (1 − held_out) of the decided rows to train, the newest to test."""
    ordered = decided(rows)
    cut = len(ordered) - max(1, round(len(ordered) * held_out))
    return ordered[:cut], ordered[cut:]


def evaluate(
    rows: Sequence[QuoteRow], *, min_rows: int = MIN_ROWS, min_class: int = MIN_CLASS
) -> tuple[WinModel, Evaluation]:
    """Train on the older quotes, score the newer ones (:func:`evaluate_split`), then refit the
    model on all of them."""
    ordered = decided(rows)
    check_history(ordered, min_rows=min_rows, min_class=min_class)
    train, test = split(ordered)
    check_history(train, min_rows=max(1, int(min_rows * (1 - HELD_OUT))), min_class=min_class)
    _, evaluation = evaluate_split(train, test)
    return fit(ordered, min_rows=1, min_class=1), evaluation


def evaluate_split(train: Sequence[QuoteRow], test: Sequence[QuoteRow]) -> tuple[WinModel, Evaluation]:
    """Fit on the decided ``train`` rows, score the decided ``test`` rows; compare with the
    baselines:

    - *win rate*: every quote gets the training set's win rate (what a flat stage probability does);
    - *discount only*: a logistic regression on the discount the buyer sees alone (the deepest
      line discount, as the model's own discount feature).

    The model "beats its baselines" when its held-out AUC is higher and its Brier score lower
    than each baseline's. Returns the model fitted on ``train`` only.
    """
    from sklearn.linear_model import LogisticRegression

    train, test = decided(train), decided(test)
    y_test = [1 if r.won else 0 for r in test]
    if len(set(y_test)) < 2:
        raise InsufficientHistory("the held-out quotes are all won or all lost; no AUC can be measured")
    y_train = [1 if r.won else 0 for r in train]
    if len(set(y_train)) < 2:
        raise InsufficientHistory("the training quotes are all won or all lost")
    model = fit(train, min_rows=1, min_class=1)
    p_model = [model.probability(r) for r in test]
    rate = sum(y_train) / len(y_train)
    base_rate = _scores("win rate", y_test, [rate] * len(test))
    disc = LogisticRegression(solver=SOLVER, max_iter=200)
    disc.fit([[seen_discount(r)] for r in train], y_train)
    p_disc = [float(v) for v in disc.predict_proba([[seen_discount(r)] for r in test])[:, 1]]
    base_disc = _scores("discount only", y_test, p_disc)
    scored = _scores("logistic regression", y_test, p_model)
    beats = all(scored.auc > b.auc and scored.brier < b.brier for b in (base_rate, base_disc))
    return model, Evaluation(
        trained_rows=len(train),
        held_out_rows=len(test),
        held_out_win_rate=round(sum(y_test) / len(y_test), 4),
        model=scored,
        baselines=(base_rate, base_disc),
        beats_baselines=beats,
    )

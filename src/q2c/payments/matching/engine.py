"""The cash-matching engine: bank lines in, proposals with confidence and reasons out.

Pure and bulk: the caller loads every open item, customer and known payer once; the engine builds
dict indexes over them (by RF reference, by the digits of the invoice number, by open amount, by
customer, by payer IBAN, by customer number) and answers each line with a few lookups — no scan
of the open items, no database call per line.

How a line is read, strongest evidence first (confidence before corroboration, 0–100):

=====================================================  ==========
evidence                                               confidence
=====================================================  ==========
RF reference, amount exact                             97
RF reference, short by a bank fee within tolerance     93
RF reference, partial payment                          90
invoice number in the text, amount exact               95
invoice number, short by a fee                         91
invoice number, partial payment                        84
several named invoices, amounts add up (RF / numbers)  96 / 94
several named invoices, short by a fee                 90
number one typo away (missing, extra, wrong, swapped   92
character; O/0, I/1 repaired before), amount exact
number one typo away, short by a fee                   85
payer IBAN known for the customer, amount exact        93
payer IBAN, a unique subset of 2–5 open items          90
customer number in the text, amount exact / subset     90 / 87
payer name (fuzzy) and amount exact                    91 (score ≥ 92) / 88
amount alone                                           50
=====================================================  ==========

Corroboration: the paying IBAN is known for the same customer +4, known only for another customer
−10; the payer name matches the customer +4 (compared only below 95, where it can matter). Named
invoices of different customers −15. A proposal applies itself at ``settings.auto_threshold``
(90) or above unless another proposal is as good (then both wait in the workbench). When the text
names an invoice whose amount does not fit, the engine also tries the reading "the payer mistyped
the number": an invoice one typo away with exactly the paid amount wins — with dense numbering a
typo often lands on another real invoice.

Applied cash is tracked: an automatic application lowers the invoice's open amount for the lines
that follow (several payments to one invoice), and a partly paid invoice can be found by its new
open amount.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from q2c.core.errors import ValidationError
from q2c.core.money import Money
from q2c.payments.bank.common import gc_paused
from q2c.payments.matching.index import PositionIndex
from q2c.payments.matching.model import (
    Application,
    BankLine,
    Customer,
    KnownPayer,
    MatchSettings,
    OpenItem,
    Outcome,
    Proposal,
    Reason,
    Status,
)
from q2c.payments.matching.references import (
    compact_reference,
    creditor_reference_body,
    fast_creditor_reference,
    is_compact_creditor_reference,
    references_in_text,
)
from q2c.payments.matching.subset import subset_sums
from q2c.payments.matching.text import (
    best_name_score,
    normalise_name,
    number_candidates,
    number_key,
    number_keys,
    one_edit_neighbours,
)

_HAS_DIGIT = re.compile(r"\d")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: check digits that a valid reference may carry where the computed ones are 97, 98 or 02
_CHECKS_MODULO_97 = frozenset({"00", "01", "99"})
_NOBODY: frozenset[Any] = frozenset()
# Reasons that never vary are made once.
_AMOUNT_EXACT = Reason("amount_exact", "amount equals the open amount")
_LOOKALIKE = Reason("lookalike_repaired", "letters O/I/L in the number read as 0/1/1")
_MONEY_OUT = (Reason("money_out", "money out or zero: nothing to apply"),)
_NO_EVIDENCE = (Reason("no_evidence", "no reference, number, payer or amount points to an open invoice"),)
#: beyond this many open items of one amount, look numbers up by their typo neighbours instead
_BUCKET_SCAN = 48
#: the name path scores at most this many invoices of one amount
_NAME_SCAN = 512


@dataclass(slots=True)
class _Line:
    """What one bank line says, read once."""

    line: BankLine
    amount: int
    currency: str
    tolerance: int
    candidates: list[str]
    payer_customers: frozenset[int | str]
    payer_name: str
    repaired: set[str] = field(default_factory=set)  # candidates read with O→0, I/L→1
    named: list[tuple[int, str]] = field(default_factory=list)  # (position, "rf" | "number")
    already_paid: list[int] = field(default_factory=list)
    payer_key: str | None = None  # payer_name normalised, once a name is compared


@dataclass(slots=True)
class _Draft:
    """A proposal before Money objects are made: (position, cash, fee) in minor units."""

    rows: list[tuple[int, int, int]]
    confidence: int
    reasons: list[Reason]
    customer_id: int | str | None
    unapplied: int = 0

    def key(self) -> tuple[tuple[int, int, int], ...]:
        return tuple(sorted(self.rows))


def _reaches(drafts: list[_Draft], threshold: int) -> bool:
    return any(d.confidence >= threshold for d in drafts)


def _compact_ibans(ibans: list[str]) -> list[str]:
    """IBANs without spaces, upper case: all at once when none holds a line break."""
    joined = "\n".join(ibans)
    if joined.count("\n") == len(ibans) - 1:
        return joined.replace(" ", "").upper().split("\n")
    return [iban.replace(" ", "").upper() for iban in ibans]


def _reference_of(number: str) -> str | None:
    """The RF reference printed for a document number (None when the number cannot have one)."""
    try:
        return fast_creditor_reference(number)
    except ValidationError:
        return None


class CashMatcher:
    """Indexes open items once; :meth:`match` answers one line, :meth:`match_all` many."""

    def __init__(
        self,
        items: Sequence[OpenItem],
        customers: Iterable[Customer] = (),
        payers: Iterable[KnownPayer] = (),
        settings: MatchSettings | None = None,
        *,
        references_from_numbers: bool = False,
    ) -> None:
        """``references_from_numbers``: an item without a ``reference`` carries the ISO 11649 RF
        reference of its number (as q2c prints on its invoices). It is then worked out only for
        the items a line's RF reference could name (those with the same number digits), not for
        every open item up front — a million references cost seconds when loading."""
        self.settings = settings or MatchSettings()
        self.items = items
        self._references_from_numbers = references_from_numbers
        with gc_paused():
            self.remaining: list[int] = [item.open_minor for item in items]
            self._keys: list[str] = number_keys([item.number for item in items])
            self._by_key = PositionIndex(self._keys)
            # References are compared compact ("RF44INV2027000001"); spaces, if any, go.
            references = [item.reference for item in items]
            if references.count(None) != len(references):
                references = [r.replace(" ", "") if r and " " in r else r for r in references]
            self._by_ref = PositionIndex(references)
            del references
            self._by_amount = PositionIndex(self.remaining)
            self._by_customer = PositionIndex([item.customer_id for item in items])
            currencies = {item.currency for item in items}
        # Most books hold one currency: then no open item needs its currency compared.
        self._only_currency: str | None = next(iter(currencies)) if len(currencies) == 1 else None
        lengths = set(map(len, self._keys))
        self._key_lengths = frozenset(lengths)
        self._typo_lengths = frozenset(n + d for n in lengths for d in (-1, 0, 1) if n + d > 0)
        self._customers: dict[Any, Customer] = {c.customer_id: c for c in customers}
        self._customer_by_number: dict[str, Any] = {}
        for c in self._customers.values():
            key = number_key(c.number) if c.number else ""
            if key:
                # Two customers with the same digits: the number identifies neither.
                known = self._customer_by_number.get(key, c.customer_id)
                self._customer_by_number[key] = c.customer_id if known == c.customer_id else None
        self._customer_number_lengths = frozenset(len(k) for k in self._customer_by_number)
        self._candidate_lengths = self._typo_lengths | self._customer_number_lengths
        # IBAN → the customer it paid for, or a frozenset when it paid for several.
        self._payers: dict[str, Any] = {}
        # Customer → the names its payers paid under: one name, or a list of several.
        self._payer_names: dict[Any, Any] = {}  # raw; normalised when first needed
        payers = list(payers)
        if payers:
            known = _compact_ibans([p.iban for p in payers])
            owners = [p.customer_id for p in payers]
            self._payers = dict(zip(known, owners, strict=True))
            if len(self._payers) != len(known) or any(type(o) is frozenset or o is None for o in owners):
                groups: dict[str, set[Any]] = {}
                for iban, owner in zip(known, owners, strict=True):
                    groups.setdefault(iban, set()).add(owner)
                self._payers = {iban: frozenset(group) for iban, group in groups.items()}
            names = self._payer_names
            for p in payers:
                if p.name:
                    found = names.get(p.customer_id)
                    if found is None:
                        names[p.customer_id] = p.name
                    elif type(found) is list:
                        found.append(p.name)
                    else:
                        names[p.customer_id] = [found, p.name]
        self._names: dict[Any, list[str]] = {}
        self._tolerances: dict[tuple[str, str], int] = {}
        self._threshold = self.settings.auto_threshold
        self._name_threshold = self.settings.name_threshold
        self._money_text: dict[tuple[int, str], str] = {}

    # --- reading a line ---------------------------------------------------------------------------
    def _read(self, line: BankLine) -> _Line:
        rf: list[str] = []
        others: list[str] = []
        for reference in line.references:
            compact = compact_reference(reference)
            if is_compact_creditor_reference(compact):
                rf.append(compact)
            else:
                others.append(reference)  # e.g. a referred invoice number: read like text
        text = " ".join([line.remittance, *others]) if others else line.remittance
        in_text = references_in_text(text)
        if in_text:
            rf.extend(r for r in in_text if r not in rf)
        repaired: set[str] = set()
        candidates = (
            number_candidates(text, self._candidate_lengths, repaired)
            if _HAS_DIGIT.search(text) is not None
            else []
        )
        payer_customers = _NOBODY
        if line.payer_iban:
            owner = self._payers.get(line.payer_iban.replace(" ", "").upper())
            if owner is not None:
                payer_customers = owner if type(owner) is frozenset else frozenset((owner,))
        currency = line.currency
        tolerance = self._tolerances.get((line.account, currency))
        if tolerance is None:
            tolerance = self._tolerance(line.account, currency)
        named: list[tuple[int, str]] = []
        already_paid: list[int] = []
        ctx = _Line(
            line,
            line.amount_minor,
            currency,
            tolerance,
            candidates,
            payer_customers,
            line.payer_name or "",  # normalised only when a name is compared
            repaired,
            named,
            already_paid,
        )
        if not rf and not candidates:
            return ctx
        items, remaining = self.items, self.remaining
        other = currency != self._only_currency  # items may be in another currency than the line
        seen: set[int] = set()
        for ref in rf:
            for p in self._items_with_reference(ref):
                if p in seen or (other and items[p].currency != currency):
                    continue
                seen.add(p)
                if remaining[p] > 0:
                    named.append((p, "rf"))
                else:
                    already_paid.append(p)
        key_lengths, by_key = self._key_lengths, self._by_key
        for candidate in candidates:
            if len(candidate) in key_lengths:
                for p in by_key.get(candidate):
                    if p in seen or (other and items[p].currency != currency):
                        continue
                    seen.add(p)
                    if remaining[p] > 0:
                        named.append((p, "number"))
                    else:
                        already_paid.append(p)
        return ctx

    def _items_with_reference(self, ref: str) -> Sequence[int]:
        """Positions of the items whose RF reference is ``ref`` (a valid, compact one), in order."""
        found = self._by_ref.get(ref)
        if not self._references_from_numbers:
            return found
        # The reference's body holds the number's letters and digits: the same digits as the
        # number's key. Of the items with that key, those printing their number's reference.
        body, check, items = ref[4:], ref[2:4], self.items
        rest = body.lstrip(_LETTERS)
        key = rest if rest.isdigit() else number_key(body)  # the body is ASCII
        if check.isascii() and check not in _CHECKS_MODULO_97:
            # ``ref`` is valid, so its check digits are the body's: the bodies decide.
            derived = [
                p
                for p in self._by_key.get(key)
                if items[p].reference is None and creditor_reference_body(items[p].number) == body
            ]
        else:
            derived = [
                p
                for p in self._by_key.get(key)
                if items[p].reference is None and _reference_of(items[p].number) == ref
            ]
        if not derived:
            return found
        return sorted({*found, *derived}) if found else derived

    def _tolerance(self, account: str, currency: str) -> int:
        key = (account, currency)
        found = self._tolerances.get(key)
        if found is None:
            found = self._tolerances[key] = self.settings.tolerance_minor(account, currency)
        return found

    # --- evidence -----------------------------------------------------------------------------------
    def _customer_names(self, customer_id: Any) -> list[str]:
        """The customer's name and the names its payers paid under, normalised (only the best
        score against them counts: their order and repeats do not matter)."""
        names = self._names.get(customer_id)
        if names is None:
            customer = self._customers.get(customer_id)
            names = [normalise_name(customer.name)] if customer is not None else []
            raw = self._payer_names.get(customer_id)
            if raw is not None:
                if type(raw) is str:
                    # Payers mostly pay under the customer's own name: nothing new to normalise.
                    if customer is None or raw != customer.name:
                        known = normalise_name(raw)
                        if known not in names:
                            names.append(known)
                else:
                    names += [n for n in map(normalise_name, raw) if n not in names]
            self._names[customer_id] = names
        return names

    def _corroborate(self, ctx: _Line, customer_id: Any, draft: _Draft, *, iban: bool = True) -> None:
        if iban and ctx.payer_customers:
            if customer_id in ctx.payer_customers:
                draft.confidence += 4
                draft.reasons.append(
                    Reason("payer_iban", f"{ctx.line.payer_iban} paid for this customer before")
                )
            else:
                draft.confidence -= 10
                draft.reasons.append(
                    Reason("payer_iban_other", f"{ctx.line.payer_iban} is known for another customer")
                )
        # A name cannot change a reading that is already certain: spare the comparison.
        if ctx.payer_name and draft.confidence < 95:
            payer = ctx.payer_key
            if payer is None:
                payer = ctx.payer_key = normalise_name(ctx.payer_name)
            names = self._names.get(customer_id)
            if names is None:
                names = self._customer_names(customer_id)
            score = best_name_score(payer, names)
            if score >= self._name_threshold:
                draft.confidence += 4
                draft.reasons.append(Reason("payer_name", f"payer name matches the customer ({score}/100)"))

    def _label(self, position: int) -> str:
        return self.items[position].number

    def _named(self, ctx: _Line) -> _Draft:
        amount, tol = ctx.amount, ctx.tolerance
        if len(ctx.named) == 1:  # the common case, kept cheap
            ((p, via),) = ctx.named
            positions, open_ = [p], [self.remaining[p]]
            all_rf = via == "rf"
            how = "RF reference" if all_rf else "invoice number"
            names = self.items[p].number
            customer: Any = self.items[p].customer_id
            customers = {customer}
        else:
            positions = [p for p, _ in ctx.named]
            all_rf = all(via == "rf" for _, via in ctx.named)
            any_rf = any(via == "rf" for _, via in ctx.named)
            how = "RF reference" if all_rf else ("RF reference and number" if any_rf else "invoice number")
            open_ = [self.remaining[p] for p in positions]
            names = ", ".join(self._label(p) for p in positions)
            customers = {self.items[p].customer_id for p in positions}
            customer = next(iter(customers)) if len(customers) == 1 else None
        total = sum(open_)
        reasons = [Reason("rf_reference" if all_rf else "invoice_number", f"{how} names {names}")]
        if ctx.repaired and any(self._keys[p] in ctx.repaired for p, via in ctx.named if via == "number"):
            reasons.append(_LOOKALIKE)
        if len(positions) == 1:
            p, r = positions[0], open_[0]
            if amount == r:
                draft = _Draft(
                    [(p, r, 0)],
                    97 if all_rf else 95,
                    [*reasons, _AMOUNT_EXACT],
                    customer,
                )
            elif r - tol <= amount < r:
                draft = _Draft(
                    [(p, amount, r - amount)],
                    93 if all_rf else 91,
                    [
                        *reasons,
                        Reason(
                            "bank_fee",
                            f"short by {self._fmt(r - amount, ctx)} (within the bank-fee tolerance)",
                        ),
                    ],
                    customer,
                )
            elif amount < r:
                draft = _Draft(
                    [(p, amount, 0)],
                    90 if all_rf else 84,
                    [
                        *reasons,
                        Reason("partial", f"partial payment; {self._fmt(r - amount, ctx)} stays open"),
                    ],
                    customer,
                )
            else:
                draft = _Draft(
                    [(p, r, 0)],
                    60,
                    [
                        *reasons,
                        Reason("overpayment", f"{self._fmt(amount - r, ctx)} more than the open amount"),
                    ],
                    customer,
                    unapplied=amount - r,
                )
        else:
            order = sorted(range(len(positions)), key=lambda i: self._due_key(positions[i]))
            if amount == total:
                rows = [(positions[i], open_[i], 0) for i in order]
                draft = _Draft(
                    rows,
                    96 if all_rf else 94,
                    [*reasons, Reason("amount_sum", "amount equals the sum of the named invoices")],
                    customer,
                )
            elif total - tol <= amount < total:
                rows = self._spread_fee([(positions[i], open_[i]) for i in order], total - amount)
                draft = _Draft(
                    rows,
                    90,
                    [
                        *reasons,
                        Reason(
                            "bank_fee",
                            f"short by {self._fmt(total - amount, ctx)} (within the bank-fee tolerance)",
                        ),
                    ],
                    customer,
                )
            elif amount < total:
                found = subset_sums(
                    open_, amount, min_size=1, max_size=len(open_), budget=self.settings.subset_budget
                )
                if found.unique is not None:
                    rows = [(positions[i], open_[i], 0) for i in found.unique]
                    draft = _Draft(
                        rows,
                        82,
                        [
                            *reasons,
                            Reason("subset_of_named", "only some of the named invoices add up to the amount"),
                        ],
                        customer,
                    )
                else:
                    rows, left = self._oldest_first([(positions[i], open_[i]) for i in order], amount)
                    draft = _Draft(
                        rows,
                        65,
                        [*reasons, Reason("partial", "less than the named invoices; applied oldest first")],
                        customer,
                        left,
                    )
            else:
                rows = [(positions[i], open_[i], 0) for i in order]
                extra = (
                    self._extra_subset(customer, set(positions), amount - total)
                    if customer is not None
                    else None
                )
                if extra:
                    rows += [(p, self.remaining[p], 0) for p in extra]
                    draft = _Draft(
                        rows,
                        85,
                        [
                            *reasons,
                            Reason(
                                "subset_sum",
                                "the rest of the amount settles other open invoices of the customer exactly",
                            ),
                        ],
                        customer,
                    )
                else:
                    draft = _Draft(
                        rows,
                        65,
                        [
                            *reasons,
                            Reason(
                                "overpayment",
                                f"{self._fmt(amount - total, ctx)} more than the named invoices",
                            ),
                        ],
                        customer,
                        amount - total,
                    )
        if customer is None:
            draft.confidence -= 15
            draft.reasons.append(
                Reason("several_customers", "the named invoices belong to different customers")
            )
        else:
            self._corroborate(ctx, customer, draft)
        return draft

    def _due_key(self, position: int) -> tuple[int, str]:
        due = self.items[position].due_date
        return (due.toordinal() if due else 0, self._keys[position])

    @staticmethod
    def _spread_fee(rows: list[tuple[int, int]], fee: int) -> list[tuple[int, int, int]]:
        """The fee is written off on the last (newest) invoice, spilling backwards if it must."""
        out = [(p, r, 0) for p, r in rows]
        for i in range(len(out) - 1, -1, -1):
            if fee == 0:
                break
            p, r, _ = out[i]
            part = min(fee, r)
            out[i] = (p, r - part, part)
            fee -= part
        return out

    @staticmethod
    def _oldest_first(rows: list[tuple[int, int]], amount: int) -> tuple[list[tuple[int, int, int]], int]:
        out = []
        for p, r in rows:
            if amount <= 0:
                break
            part = min(r, amount)
            out.append((p, part, 0))
            amount -= part
        return out, amount

    def _open_positions(self, customer_id: Any, currency: str) -> list[int]:
        remaining = self.remaining
        if currency == self._only_currency:
            return [p for p in self._by_customer.get(customer_id) if remaining[p] > 0]
        items = self.items
        return [
            p
            for p in self._by_customer.get(customer_id)
            if remaining[p] > 0 and items[p].currency == currency
        ]

    def _extra_subset(self, customer_id: Any, exclude: set[int], amount: int) -> tuple[int, ...] | None:
        currency = self.items[next(iter(exclude))].currency
        pool = [p for p in self._open_positions(customer_id, currency) if p not in exclude]
        pool.sort(key=self._due_key)
        pool = pool[: self.settings.max_subset_items]
        found = subset_sums(
            [self.remaining[p] for p in pool],
            amount,
            min_size=1,
            max_size=self.settings.max_subset_size,
            budget=self.settings.subset_budget,
        )
        return tuple(pool[i] for i in found.unique) if found.unique is not None else None

    def _typo_exact(self, ctx: _Line, exclude: set[int]) -> list[_Draft]:
        """Invoices one typo from a number in the text whose open amount is exactly the payment."""
        hits: dict[int, str] = {}
        candidates = [c for c in ctx.candidates if len(c) in self._typo_lengths]
        if not candidates:
            return []
        amount, currency, remaining, items = ctx.amount, ctx.currency, self.remaining, self.items
        bucket = self._by_amount.get_at_most(amount, _BUCKET_SCAN)
        if bucket is not None:
            if currency == self._only_currency:
                positions = [p for p in bucket if remaining[p] == amount and p not in exclude]
            else:
                positions = [
                    p
                    for p in bucket
                    if remaining[p] == amount and p not in exclude and items[p].currency == currency
                ]
            if not positions:
                return []
            keys = [self._keys[p] for p in positions]
            for candidate in candidates:
                # One C loop over the amount's invoices per candidate.
                for _, _, i in process.extract(
                    candidate, keys, scorer=OSA.distance, score_cutoff=1, limit=None
                ):
                    hits.setdefault(positions[i], candidate)
        else:
            # Thousands of invoices share a round amount: look the typo's neighbours up instead.
            by_key = self._by_key
            other = currency != self._only_currency
            for candidate in candidates:
                for neighbour in by_key.present(one_edit_neighbours(candidate, self._key_lengths)):
                    for p in by_key.get(neighbour):
                        if (
                            remaining[p] == amount
                            and p not in exclude
                            and (not other or items[p].currency == currency)
                        ):
                            hits.setdefault(p, candidate)
        drafts = []
        for p, written in hits.items():
            customer = self.items[p].customer_id
            draft = _Draft(
                [(p, ctx.amount, 0)],
                92,
                [
                    Reason(
                        "invoice_number_typo", f"the text's {written} is one character from {self._label(p)}"
                    ),
                    _AMOUNT_EXACT,
                ],
                customer,
            )
            self._corroborate(ctx, customer, draft)
            drafts.append(draft)
        return drafts

    def _typo_fee(self, ctx: _Line, exclude: set[int]) -> list[_Draft]:
        """Invoices one typo away, paid short by a bank fee within tolerance."""
        if ctx.tolerance <= 0:
            return []
        found: dict[int, str] = {}
        by_key, remaining, items = self._by_key, self.remaining, self.items
        amount, tolerance, currency = ctx.amount, ctx.tolerance, ctx.currency
        other = currency != self._only_currency
        for candidate in ctx.candidates:
            if len(candidate) not in self._typo_lengths:
                continue
            for neighbour in by_key.present(one_edit_neighbours(candidate, self._key_lengths)):
                for p in by_key.get(neighbour):
                    r = remaining[p]
                    if (
                        p not in exclude
                        and r - tolerance <= amount < r
                        and (not other or items[p].currency == currency)
                    ):
                        found[p] = candidate
        drafts = []
        for p, written in found.items():
            r = self.remaining[p]
            customer = self.items[p].customer_id
            draft = _Draft(
                [(p, ctx.amount, r - ctx.amount)],
                85,
                [
                    Reason(
                        "invoice_number_typo", f"the text's {written} is one character from {self._label(p)}"
                    ),
                    Reason(
                        "bank_fee",
                        f"short by {self._fmt(r - ctx.amount, ctx)} (within the bank-fee tolerance)",
                    ),
                ],
                customer,
            )
            self._corroborate(ctx, customer, draft)
            drafts.append(draft)
        return drafts

    def _by_customers(self, ctx: _Line) -> list[_Draft]:
        """The payer is known (IBAN) or quoted its customer number: match among its open items."""
        sources: dict[Any, str] = {c: "payer_iban" for c in ctx.payer_customers}
        for candidate in ctx.candidates:
            customer = self._customer_by_number.get(candidate)
            if customer is not None and customer not in sources:
                sources[customer] = "customer_number"
        drafts: list[_Draft] = []
        for customer, source in list(sources.items())[:3]:
            by_iban = source == "payer_iban"
            why = (
                Reason("payer_iban", f"{ctx.line.payer_iban} paid for this customer before")
                if by_iban
                else Reason("customer_number", "the text quotes the customer number")
            )
            positions = self._open_positions(customer, ctx.currency)
            exact = [p for p in positions if self.remaining[p] == ctx.amount]
            if exact:
                for p in exact:
                    draft = _Draft(
                        [(p, ctx.amount, 0)],
                        (93 if by_iban else 90) if len(exact) == 1 else 75,
                        [
                            why,
                            Reason("amount_exact", f"the amount equals the open amount of {self._label(p)}"),
                        ],
                        customer,
                    )
                    self._corroborate(ctx, customer, draft, iban=False)
                    drafts.append(draft)
                continue
            pool = sorted(positions, key=self._due_key)[: self.settings.max_subset_items]
            found = subset_sums(
                [self.remaining[p] for p in pool],
                ctx.amount,
                max_size=self.settings.max_subset_size,
                budget=self.settings.subset_budget,
            )
            if found.solutions:
                for solution in found.solutions:
                    rows = [(pool[i], self.remaining[pool[i]], 0) for i in solution]
                    rows.sort(key=lambda row: self._due_key(row[0]))
                    unique = found.unique is not None
                    draft = _Draft(
                        rows,
                        (90 if by_iban else 87) if unique else 70,
                        [
                            why,
                            Reason(
                                "subset_sum",
                                f"{len(rows)} open invoices add up to the amount"
                                + ("" if unique else " (not the only way)"),
                            ),
                        ],
                        customer,
                    )
                    self._corroborate(ctx, customer, draft, iban=False)
                    drafts.append(draft)
                continue
            short = [
                p for p in positions if self.remaining[p] - ctx.tolerance <= ctx.amount < self.remaining[p]
            ]
            if len(short) == 1 and ctx.tolerance > 0:
                p = short[0]
                fee = self.remaining[p] - ctx.amount
                draft = _Draft(
                    [(p, ctx.amount, fee)],
                    85 if by_iban else 82,
                    [
                        why,
                        Reason(
                            "bank_fee",
                            f"{self._label(p)} less {self._fmt(fee, ctx)} (within the bank-fee tolerance)",
                        ),
                    ],
                    customer,
                )
                self._corroborate(ctx, customer, draft, iban=False)
                drafts.append(draft)
                continue
            drafts.append(
                _Draft(
                    [],
                    30,
                    [why, Reason("no_amount_fit", "no open invoice or combination fits the amount")],
                    customer,
                    ctx.amount,
                )
            )
        return drafts

    def _by_name(self, ctx: _Line) -> list[_Draft]:
        drafts: list[_Draft] = []
        amount = ctx.amount
        positions = self._by_amount.get_at_most(amount, _NAME_SCAN)
        if positions is None:
            # So many invoices share this amount that a name alone cannot single one out cheaply
            # or safely: leave the line to the workbench.
            return drafts
        if not positions:
            return drafts
        payer = ctx.payer_key
        if payer is None:
            payer = ctx.payer_key = normalise_name(ctx.payer_name)
        currency, remaining, items = ctx.currency, self.remaining, self.items
        threshold, known = self._name_threshold, self._names
        for p in positions:
            item = items[p]
            if remaining[p] != amount or item.currency != currency:
                continue
            customer = item.customer_id
            names = known.get(customer)
            if names is None:
                names = self._customer_names(customer)
            score = best_name_score(payer, names)
            if score >= threshold:
                drafts.append(
                    _Draft(
                        [(p, amount, 0)],
                        91 if score >= 92 else 88,
                        [
                            Reason("payer_name", f"payer name matches the customer ({score}/100)"),
                            Reason("amount_exact", f"the amount equals the open amount of {item.number}"),
                        ],
                        customer,
                    )
                )
        return drafts

    def _by_amount_only(self, ctx: _Line) -> list[_Draft]:
        amount, remaining = ctx.amount, self.remaining
        if ctx.currency == self._only_currency:
            matches = [p for p in self._by_amount.get(amount) if remaining[p] == amount]
        else:
            matches = [
                p
                for p in self._by_amount.get(amount)
                if remaining[p] == amount and self.items[p].currency == ctx.currency
            ]
        if len(matches) != 1:
            return []
        p = matches[0]
        return [
            _Draft(
                [(p, ctx.amount, 0)],
                50,
                [
                    Reason(
                        "amount_only",
                        f"only {self._label(p)} is open for exactly this amount; nothing else agrees",
                    )
                ],
                self.items[p].customer_id,
            )
        ]

    # --- deciding -----------------------------------------------------------------------------------
    def match(self, line: BankLine) -> Outcome:
        """Read ``line``, propose, and — when sure enough — apply (lowering open amounts)."""
        if line.amount_minor <= 0:
            return Outcome(line.line_id, Status.NOT_RECEIVABLE, reasons=_MONEY_OUT)
        ctx = self._read(line)
        threshold = self._threshold
        drafts: list[_Draft] = []
        # ``sure``: some draft so far reaches the threshold (confidences do not change until ranked).
        sure = settled = False
        if ctx.named:
            first = self._named(ctx)
            drafts.append(first)
            sure = first.confidence >= threshold
            # A valid RF reference cannot be a typo of another one (its check digits catch every
            # single slip), and an exact reading by number needs no second opinion.
            settled = all(via == "rf" for _, via in ctx.named) or (
                first.confidence >= 95 and not first.unapplied and all(fee == 0 for _, _, fee in first.rows)
            )
        if not settled and ctx.candidates:
            named = {p for p, _ in ctx.named}
            found = self._typo_exact(ctx, named)
            if found:
                drafts.extend(found)
                sure = sure or _reaches(found, threshold)
            if not sure:
                found = self._typo_fee(ctx, named)
                if found:
                    drafts.extend(found)
                    sure = _reaches(found, threshold)
        if not sure and (ctx.payer_customers or (ctx.candidates and self._customer_by_number)):
            found = self._by_customers(ctx)
            if found:
                drafts.extend(found)
                sure = _reaches(found, threshold)
        if not sure and ctx.payer_name:
            drafts.extend(self._by_name(ctx))
        if not drafts:
            drafts.extend(self._by_amount_only(ctx))
        if ctx.already_paid:
            paid = ", ".join(self._label(p) for p in ctx.already_paid)
            note = Reason("already_paid", f"{paid} is already paid — a duplicate payment?")
            if not drafts:
                customer = self.items[ctx.already_paid[0]].customer_id
                drafts.append(_Draft([], 40, [note], customer, ctx.amount))
            else:
                for d in drafts:
                    d.reasons.append(note)
        if not drafts:
            return Outcome(line.line_id, Status.UNIDENTIFIED, reasons=_NO_EVIDENCE)
        # Best first; equal proposals for different applications make the line ambiguous.
        if len(drafts) == 1:
            best = drafts[0]
            confidence = best.confidence
            if confidence > 99:
                best.confidence = 99
            elif confidence < 0:
                best.confidence = 0
            if best.confidence >= threshold and best.rows:
                self._apply(best)
                return Outcome(line.line_id, Status.AUTO, self._proposal(best, ctx))
            return Outcome(line.line_id, Status.PROPOSED, self._proposal(best, ctx))
        unique: dict[tuple[tuple[int, int, int], ...], _Draft] = {}
        for d in drafts:
            d.confidence = max(0, min(99, d.confidence))
            k = d.key()
            if k not in unique or unique[k].confidence < d.confidence:
                unique[k] = d
        ranked = sorted(unique.values(), key=lambda d: -d.confidence)
        best = ranked[0]
        if len(ranked) > 1 and ranked[1].confidence >= best.confidence - 2 and ranked[1].rows:
            best.confidence = min(best.confidence, threshold - 1)
            best.reasons.append(Reason("ambiguous", "another reading is about as likely; a person decides"))
        proposal = self._proposal(best, ctx)
        alternatives = tuple([self._proposal(d, ctx) for d in ranked[1:4]])
        if best.confidence >= threshold and best.rows:
            self._apply(best)
            return Outcome(line.line_id, Status.AUTO, proposal, alternatives)
        return Outcome(line.line_id, Status.PROPOSED, proposal, alternatives)

    def match_all(self, lines: Iterable[BankLine]) -> list[Outcome]:
        """Match lines in order (earlier automatic applications lower later open amounts)."""
        match = self.match
        with gc_paused():
            return [match(line) for line in lines]

    def _apply(self, draft: _Draft) -> None:
        for p, cash, fee in draft.rows:
            left = self.remaining[p] - cash - fee
            self.remaining[p] = left
            if left > 0:
                self._by_amount.add(left, p)

    def open_amounts(self) -> dict[int | str, int]:
        """Each item's open amount in minor units after this run's automatic applications."""
        return {item.item_id: left for item, left in zip(self.items, self.remaining, strict=True)}

    # --- output ---------------------------------------------------------------------------------------
    def _fmt(self, minor: int, ctx: _Line) -> str:
        key = (minor, ctx.currency)
        text = self._money_text.get(key)
        if text is None:
            text = self._money_text[key] = str(Money.from_minor(minor, ctx.currency))
        return text

    def _proposal(self, draft: _Draft, ctx: _Line) -> Proposal:
        currency = ctx.currency
        items = self.items
        rows = draft.rows
        if len(rows) == 1:
            ((p, cash, fee),) = rows
            item = items[p]
            applications: tuple[Application, ...] = (
                Application(item.item_id, item.number, cash, fee, currency),
            )
        else:
            applications = tuple(
                [Application(items[p].item_id, items[p].number, cash, fee, currency) for p, cash, fee in rows]
            )
            fee = sum([fee for _, _, fee in rows])
        return Proposal(
            applications,
            fee,
            draft.unapplied,
            currency,
            draft.confidence,
            tuple(draft.reasons),
            draft.customer_id,
        )


def match_lines(
    lines: Iterable[BankLine],
    items: Sequence[OpenItem],
    customers: Iterable[Customer] = (),
    payers: Iterable[KnownPayer] = (),
    settings: MatchSettings | None = None,
) -> list[Outcome]:
    """Match ``lines`` against ``items`` in one call (see :class:`CashMatcher`)."""
    return CashMatcher(items, customers, payers, settings).match_all(lines)

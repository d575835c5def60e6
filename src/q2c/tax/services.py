"""Use cases of the tax app: load the rule set, import tax data, record exemptions, preview tax.

Public functions (other apps call these; the calculator itself is ``q2c.tax.engine.compute``):

- ``load_ruleset(as_of: date | None = None) -> RuleSet`` — every rate and rule in the database
  (two queries), or only those in force on ``as_of``. Raises ``tax.not_loaded`` when no rate is
  loaded at all (``q2c tax load`` fills the tables; the data migration does it on install).
- ``preview(document: TaxDocument, *, rules: RuleSet | None = None) -> TaxResult`` — compute
  without saving anything.
- ``import_csv(text: str, *, replace: bool = False, actor: str = "", source: str = "") ->
  ImportReport`` — rates, rules or tax codes (told apart by the header). Every row is checked
  first, against the file and against the rows already stored; if any row is wrong nothing is
  written and ``ValidationError`` (``tax.csv_invalid``) lists each bad row (``details``: line,
  field, message). Rows are upserted by their key (rates: jurisdiction, kind, valid_from; rules:
  seller, buyer, customer kind, category, supply type, valid_from; tax codes: code). With
  ``replace`` the file replaces what it covers: for rates every stored rate of the
  jurisdictions in the file; for rules the whole rule table; for tax codes, codes not in the
  file are deactivated (products may still name them).
- ``load_shipped(*, replace: bool = False, actor: str = "") -> list[ImportReport]`` — the files
  in ``q2c/tax/data/``.
- ``record_exemption(*, account_id, certificate_ref, valid_from, reason="", jurisdictions=(),
  valid_to=None, actor="") -> CustomerExemption`` and ``exemption_for(account_id, on) ->
  Exemption | None``.
- ``vat_id_is_valid(vat_id: str) -> bool`` — format and check digits of an EU or UK VAT number
  (python-stdnum, offline; confirming it in VIES is the caller's business).
- ``tax_codes(codes) -> dict[str, TaxCode]`` — the active tax codes named, in one query.

Each write runs in one ``transaction.atomic()`` and records a domain event
(``tax.data_imported``, ``tax.exemption_recorded``, ``tax.data_edited`` from the admin).

Must not import any q2c app above ``parties`` (layer 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q

from q2c.core.errors import ValidationError
from q2c.platform.events import DomainEvent, record
from q2c.tax import csvio
from q2c.tax.csvio import CsvKind, Parsed, RowError
from q2c.tax.engine import Exemption, RuleSet, TaxDocument, TaxError, TaxResult, compute
from q2c.tax.models import CustomerExemption, TaxCode, TaxRate, TaxRule, periods_overlap


@dataclass
class ImportReport:
    kind: CsvKind
    source: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "source": self.source,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


# --- reading ----------------------------------------------------------------------------------


def load_ruleset(as_of: date | None = None) -> RuleSet:
    """The stored rates and rules as a pure RuleSet (see the module docstring)."""
    rates = TaxRate.objects.all()
    rules = TaxRule.objects.all()
    if as_of is not None:
        in_force = Q(valid_from__lte=as_of) & (Q(valid_to__isnull=True) | Q(valid_to__gt=as_of))
        rates = rates.filter(in_force)
        rules = rules.filter(in_force)
    rate_rows = [r.to_rate() for r in rates]
    if not rate_rows and not TaxRate.objects.exists():
        raise TaxError("no tax rates are loaded: run `q2c tax load`", code="tax.not_loaded")
    return RuleSet(rate_rows, [r.to_rule() for r in rules])


def preview(document: TaxDocument, *, rules: RuleSet | None = None) -> TaxResult:
    """Tax for a draft document; nothing is saved."""
    return compute(document, rules if rules is not None else load_ruleset())


def exemption_for(account_id: int, on: date) -> Exemption | None:
    """The customer's exemption certificate in force on ``on`` (the latest starting one)."""
    row = (
        CustomerExemption.objects.filter(account_id=account_id, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
        .order_by("-valid_from", "-id")
        .first()
    )
    return row.to_exemption() if row else None


def tax_codes(codes: Iterable[str]) -> dict[str, TaxCode]:
    wanted = {c.strip().upper() for c in codes if c}
    if not wanted:
        return {}
    return {row.code: row for row in TaxCode.objects.filter(code__in=wanted, active=True)}


def vat_id_is_valid(vat_id: str) -> bool:
    """Whether ``vat_id`` is a well-formed EU (or UK) VAT number with correct check digits."""
    from stdnum import get_cc_module
    from stdnum.eu import vat as eu_vat

    value = (vat_id or "").strip()
    if not value:
        return False
    try:
        if eu_vat.is_valid(value):
            return True
    except Exception:
        return False
    compact = value.replace(" ", "").upper()
    if compact.startswith("GB"):
        module = get_cc_module("gb", "vat")
        return bool(module and module.is_valid(compact))
    return False


# --- writing ----------------------------------------------------------------------------------


def _event(event_type: str, aggregate_id: str | int, actor: str, **payload: Any) -> None:
    record(
        DomainEvent(
            type=event_type,
            aggregate_type="tax",
            aggregate_id=aggregate_id,
            payload=payload,
            actor=actor,
        )
    )


def _refuse(parsed_errors: list[RowError], source: str) -> ValidationError:
    first = parsed_errors[0]
    return ValidationError(
        f"{len(parsed_errors)} invalid row(s) in {source or 'the file'}; nothing was imported "
        f"(first: line {first.line}, {first.field}: {first.message})",
        code="tax.csv_invalid",
        field="file",
        details=[e.as_dict() for e in parsed_errors],
    )


def import_csv(text: str, *, replace: bool = False, actor: str = "", source: str = "") -> ImportReport:
    """Import one CSV text of rates, rules or tax codes; all or nothing (see the module docstring)."""
    parsed = csvio.parse(text)
    if parsed.errors:
        raise _refuse(parsed.errors, source)
    with transaction.atomic():
        if parsed.kind is CsvKind.RATES:
            report = _import_rates(parsed, replace)
        elif parsed.kind is CsvKind.RULES:
            report = _import_rules(parsed, replace)
        else:
            report = _import_codes(parsed, replace)
        report.source = source
        if report.errors:
            raise _refuse(report.errors, source)
        _event("tax.data_imported", str(parsed.kind), actor, **report.as_dict(), replace=replace)
    return report


def _import_rates(parsed: Parsed, replace: bool) -> ImportReport:
    report = ImportReport(kind=parsed.kind, rows=parsed.count)
    jurisdictions = {rate.jurisdiction for _, rate in parsed.rates}
    stored = list(TaxRate.objects.select_for_update().filter(jurisdiction__in=jurisdictions))
    by_key = {(r.jurisdiction, r.kind, r.valid_from): r for r in stored}
    incoming = {(rate.jurisdiction, str(rate.kind), rate.valid_from) for _, rate in parsed.rates}
    to_remove = [r for r in stored if replace and (r.jurisdiction, r.kind, r.valid_from) not in incoming]
    kept = [r for r in stored if r not in to_remove]
    # A stored row that the file does not replace must not overlap a row of the file.
    for line, rate in parsed.rates:
        for other in kept:
            if (other.jurisdiction, other.kind) != (rate.jurisdiction, str(rate.kind)):
                continue
            if other.valid_from == rate.valid_from:
                continue  # the same key: an update
            if periods_overlap(rate.valid_from, rate.valid_to, other.valid_from, other.valid_to):
                report.errors.append(RowError(line, "valid_from", f"overlaps the stored rate {other}"))
    if report.errors:
        return report
    creates, updates = [], []
    for _, rate in parsed.rates:
        values = {
            "rate": rate.percent,
            "valid_to": rate.valid_to,
            "category": str(rate.category) if rate.category else "",
            "source": rate.source,
        }
        row = by_key.get((rate.jurisdiction, str(rate.kind), rate.valid_from))
        if row is None:
            creates.append(
                TaxRate(
                    jurisdiction=rate.jurisdiction, kind=str(rate.kind), valid_from=rate.valid_from, **values
                )
            )
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updates.append(row)
        else:
            report.unchanged += 1
    if to_remove:
        TaxRate.objects.filter(pk__in=[r.pk for r in to_remove]).delete()
    TaxRate.objects.bulk_create(creates)
    TaxRate.objects.bulk_update(updates, ["rate", "valid_to", "category", "source"])
    report.created, report.updated, report.removed = len(creates), len(updates), len(to_remove)
    return report


def _import_rules(parsed: Parsed, replace: bool) -> ImportReport:
    report = ImportReport(kind=parsed.kind, rows=parsed.count)
    stored = list(TaxRule.objects.select_for_update().all())
    key_of = lambda r: (r.seller, r.buyer, r.customer_kind, r.tax_category, r.supply_type)  # noqa: E731
    by_key = {(*key_of(r), r.valid_from): r for r in stored}
    kept = [] if replace else stored
    for line, rule in parsed.rules:
        for other in kept:
            if key_of(other) != rule.key or other.valid_from == rule.valid_from:
                continue
            if periods_overlap(rule.valid_from or date.min, rule.valid_to, other.valid_from, other.valid_to):
                report.errors.append(RowError(line, "valid_from", f"overlaps the stored rule {other}"))
    if report.errors:
        return report
    creates, updates = [], []
    incoming = set()
    for _, rule in parsed.rules:
        # The CSV reader requires valid_from on every rule row (the table's key includes it).
        valid_from = rule.valid_from or date.min
        key = (*rule.key, valid_from)
        incoming.add(key)
        values = {
            "treatment": str(rule.treatment),
            "valid_to": rule.valid_to,
            "mention": rule.mention,
            "reason_code": rule.reason_code,
            "legal_basis": rule.legal_basis,
        }
        row = by_key.get(key)
        if row is None:
            creates.append(
                TaxRule(
                    seller=rule.seller,
                    buyer=rule.buyer,
                    customer_kind=rule.customer_kind,
                    tax_category=rule.tax_category,
                    supply_type=rule.supply_type,
                    valid_from=valid_from,
                    **values,
                )
            )
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updates.append(row)
        else:
            report.unchanged += 1
    if replace:
        gone = [r.pk for r in stored if (*key_of(r), r.valid_from) not in incoming]
        TaxRule.objects.filter(pk__in=gone).delete()
        report.removed = len(gone)
    TaxRule.objects.bulk_create(creates)
    TaxRule.objects.bulk_update(updates, ["treatment", "valid_to", "mention", "reason_code", "legal_basis"])
    report.created, report.updated = len(creates), len(updates)
    return report


def _import_codes(parsed: Parsed, replace: bool) -> ImportReport:
    report = ImportReport(kind=parsed.kind, rows=parsed.count)
    stored = {row.code: row for row in TaxCode.objects.select_for_update().all()}
    creates, updates = [], []
    for _, code in parsed.tax_codes:
        values = {
            "name": code.name,
            "tax_category": str(code.tax_category),
            "supply_type": str(code.supply_type) if code.supply_type else "",
            "exemption_reason": code.exemption_reason,
            "active": True,
        }
        row = stored.get(code.code)
        if row is None:
            creates.append(TaxCode(code=code.code, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updates.append(row)
        else:
            report.unchanged += 1
    if replace:
        names = {code.code for _, code in parsed.tax_codes}
        report.removed = TaxCode.objects.exclude(code__in=names).filter(active=True).update(active=False)
    TaxCode.objects.bulk_create(creates)
    TaxCode.objects.bulk_update(
        updates, ["name", "tax_category", "supply_type", "exemption_reason", "active"]
    )
    report.created, report.updated = len(creates), len(updates)
    return report


def load_shipped(*, replace: bool = False, actor: str = "") -> list[ImportReport]:
    """Import the data files shipped in ``q2c/tax/data/`` (idempotent)."""
    reports = []
    with transaction.atomic():
        for name in csvio.SHIPPED_FILES:
            text = (csvio.DATA_DIR / name).read_text(encoding="utf-8")
            reports.append(import_csv(text, replace=replace, actor=actor, source=name))
    return reports


def record_exemption(
    *,
    account_id: int,
    certificate_ref: str,
    valid_from: date,
    reason: str = "",
    jurisdictions: Iterable[str] = (),
    valid_to: date | None = None,
    actor: str = "",
) -> CustomerExemption:
    """Record (or update, by certificate reference) a customer's exemption certificate."""
    certificate_ref = (certificate_ref or "").strip()
    row = CustomerExemption.objects.filter(account_id=account_id, certificate_ref=certificate_ref).first()
    row = row or CustomerExemption(account_id=account_id, certificate_ref=certificate_ref)
    row.reason = reason.strip()
    row.jurisdictions = ",".join(sorted({j.strip().upper() for j in jurisdictions if j.strip()}))
    row.valid_from = valid_from
    row.valid_to = valid_to
    try:
        row.full_clean()
    except DjangoValidationError as exc:
        details = [
            {"field": f, "code": "tax.invalid_exemption", "message": str(m)}
            for f, messages in exc.message_dict.items()
            for m in messages
        ]
        raise ValidationError(
            details[0]["message"], code="tax.invalid_exemption", field=details[0]["field"], details=details
        ) from None
    with transaction.atomic():
        row.save()
        _event(
            "tax.exemption_recorded",
            row.pk,
            actor,
            account_id=account_id,
            certificate_ref=certificate_ref,
            jurisdictions=sorted(row.jurisdiction_set),
            valid_from=valid_from,
            valid_to=valid_to,
        )
    return row


def save_edited(
    obj: TaxRate | TaxRule | TaxCode | CustomerExemption, *, actor: str = "", change: bool
) -> None:
    """Save a row edited in the admin (already cleaned by its form) and record the edit."""
    with transaction.atomic():
        obj.save()
        _event(
            "tax.data_edited",
            obj.pk,
            actor,
            table=obj._meta.db_table,
            change="updated" if change else "created",
            row=str(obj),
        )


def delete_edited(obj: TaxRate | TaxRule | TaxCode | CustomerExemption, *, actor: str = "") -> None:
    with transaction.atomic():
        pk, label = obj.pk, str(obj)
        obj.delete()
        _event("tax.data_edited", pk or 0, actor, table=obj._meta.db_table, change="deleted", row=label)

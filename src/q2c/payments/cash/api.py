"""Cash application: bank statements, matching, the workbench — the API router (mounted in
``q2c/api.py`` at ``/api/v1/cash/``). Thin: checks the role, calls services and queries. Who may
call what is written in docs/permissions.md (section cash application).

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from q2c.payments.cash import errors, queries, schemas
from q2c.payments.cash.services import accounts, importing, matching, workbench
from q2c.platform.api import body_limit, problem
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import Page, PageParams, paginate
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["payments_cash"])

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)
MAX_UPLOAD = 20 * 1024 * 1024

IMPORT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "camt.053/054, MT940, BAI2 or CSV",
                    },
                    "bank_account_id": {
                        "type": "integer",
                        "description": "needed for CSV (its saved mapping)",
                    },
                    "dry_run": {"type": "boolean", "default": False},
                    "match": {
                        "type": "boolean",
                        "default": True,
                        "description": "match the new lines at once",
                    },
                },
            }
        }
    },
}


def _flag(request: HttpRequest, name: str, default: bool) -> bool:
    raw = request.POST.get(name)
    if raw is None or raw == "":
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


@router.get(
    "/accounts",
    response=list[schemas.CashAccountOut],
    operation_id="cash_list_accounts",
    summary="Bank accounts and their cash settings",
)
def list_accounts(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, *READ)
    return queries.bank_accounts()


@router.put(
    "/accounts/{bank_account_id}",
    response=schemas.CashAccountOut,
    operation_id="cash_set_account",
    summary="Set a bank account's cash settings",
)
def set_account(request: HttpRequest, bank_account_id: int, payload: schemas.CashAccountIn) -> dict[str, Any]:
    require(request, *WRITE)
    accounts.update_settings(
        bank_account_id,
        fee_tolerance=payload.fee_tolerance,
        auto_threshold=payload.auto_threshold,
        csv_mapping=payload.csv_mapping,
        clear_mapping=payload.clear_mapping,
        actor=request.auth,  # type: ignore[attr-defined]
    )
    return next(a for a in queries.bank_accounts() if a["bank_account_id"] == bank_account_id)


@router.post(
    "/imports",
    response=schemas.CashImportOut,
    operation_id="cash_import_file",
    summary="Import a bank file (and match its new lines)",
    openapi_extra={"requestBody": IMPORT_BODY},
)
@body_limit(MAX_UPLOAD + 64 * 1024)
def import_file(request: HttpRequest) -> Any:
    """Import a camt.053/054, MT940, BAI2 or CSV file: the whole file or nothing (422 naming the
    code and place); statements and lines already held are counted as duplicates and not written."""
    # The form is read here rather than declared, so the role check comes before any parsing.
    require(request, *WRITE)
    upload = request.FILES.get("file")
    if upload is None:
        raise errors.CashInvalid("send the file as multipart field 'file'", field="file")
    if upload.size is not None and upload.size > MAX_UPLOAD:
        return problem(
            413, errors.FILE_TOO_LARGE, f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB"
        )
    raw_account = request.POST.get("bank_account_id") or None
    if raw_account is not None and not raw_account.isdigit():
        raise errors.CashInvalid("bank_account_id is a number", field="bank_account_id")
    dry_run = _flag(request, "dry_run", False)
    report = importing.import_file(
        upload.read(),
        file_name=upload.name or "",
        bank_account_id=int(raw_account) if raw_account else None,
        dry_run=dry_run,
        actor=request.auth,  # type: ignore[attr-defined]
    )
    if not dry_run and report.get("file_id") and _flag(request, "match", True):
        report["matching"] = matching.run_matching(file_id=report["file_id"], actor=request.auth)  # type: ignore[attr-defined]
    return report


@router.get(
    "/imports",
    response=Page[schemas.CashFileOut],
    operation_id="cash_list_files",
    summary="Imported bank files",
)
def list_files(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    require(request, *READ)
    return paginate(queries.files(), paging)


@router.post(
    "/runs",
    response=schemas.CashRunSummaryOut,
    operation_id="cash_run_matching",
    summary="Match unresolved lines",
)
def run_matching(request: HttpRequest, payload: schemas.CashRunIn) -> dict[str, Any]:
    require(request, *WRITE)
    return matching.run_matching(entity_id=payload.entity_id, rematch=payload.rematch, actor=request.auth)  # type: ignore[attr-defined]


@router.get(
    "/runs", response=Page[schemas.CashRunOut], operation_id="cash_list_runs", summary="Matching runs"
)
def list_runs(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    require(request, *READ)
    return paginate(queries.runs(), paging)


@router.get(
    "/lines",
    response=Page[schemas.CashLineOut],
    operation_id="cash_list_lines",
    summary="Bank lines (the workbench queue: state=open)",
)
def list_lines(
    request: HttpRequest, filters: Query[schemas.CashLineFilterIn], paging: Query[PageParams]
) -> dict[str, Any]:
    require(request, *READ)
    page = paginate(queries.lines(filters.state, search=filters.search), paging)
    page["items"] = [queries.line_out(row) for row in page["items"]]
    return page


@router.get(
    "/lines/{line_id}",
    response=schemas.CashLineDetailOut,
    operation_id="cash_get_line",
    summary="A bank line with its proposal, alternatives and applications",
)
def get_line(request: HttpRequest, line_id: int) -> dict[str, Any]:
    require(request, *READ)
    return queries.line_out(queries.line(line_id), detail=True)


@router.get(
    "/lines/{line_id}/invoices",
    response=list[schemas.CashOpenInvoiceOut],
    operation_id="cash_line_invoices",
    summary="Open invoices to apply a line to",
)
def line_invoices(
    request: HttpRequest, line_id: int, search: str = "", customer_id: int | None = None
) -> list[dict[str, Any]]:
    require(request, *READ)
    return queries.open_invoices(queries.line(line_id), search=search[:100], customer_id=customer_id)


@router.post(
    "/lines/{line_id}/accept",
    response=schemas.CashLineDetailOut,
    operation_id="cash_accept_line",
    summary="Apply the proposal (or an alternative)",
)
def accept(request: HttpRequest, line_id: int, payload: schemas.CashAcceptIn) -> dict[str, Any]:
    require(request, *WRITE)
    workbench.accept(line_id, alternative=payload.alternative, note=payload.note, actor=request.auth)  # type: ignore[attr-defined]
    return queries.line_out(queries.line(line_id), detail=True)


@router.post(
    "/lines/{line_id}/apply",
    response=schemas.CashLineDetailOut,
    operation_id="cash_apply_line",
    summary="Apply a line to invoices named by hand (split, reassign)",
)
def apply(request: HttpRequest, line_id: int, payload: schemas.CashApplyIn) -> dict[str, Any]:
    require(request, *WRITE)
    workbench.apply_manual(
        line_id,
        [a.dict() for a in payload.allocations],
        note=payload.note,
        actor=request.auth,  # type: ignore[attr-defined]
    )
    return queries.line_out(queries.line(line_id), detail=True)


@router.post(
    "/lines/{line_id}/not-ours",
    response=schemas.CashLineDetailOut,
    operation_id="cash_not_ours",
    summary="Mark a line as not accounts receivable",
)
def not_ours(request: HttpRequest, line_id: int, payload: schemas.CashNotOursIn) -> dict[str, Any]:
    require(request, *WRITE)
    workbench.mark_not_ours(line_id, note=payload.note, actor=request.auth)  # type: ignore[attr-defined]
    return queries.line_out(queries.line(line_id), detail=True)

"""Payments pages under ``/payments/``: receivables and aging, a payment, a customer's account
(statement, PDF, portal link), write-off approvals; and the customer portal under
``/payments/portal/<token>/`` (no login: the signed link is the key) — open invoices and their
documents, the statement, payment history, paying by card with the 3-D Secure step.

Thin: the role check comes first, then services and queries. Must not import any q2c app above
payments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.invoicing.models import DocumentFile, Invoice
from q2c.parties.models import Account
from q2c.payments import errors, portal, queries, services
from q2c.payments.domain import DisputeStatus, Method, WriteOffStatus
from q2c.payments.models import Collection, Dispute, GatewayCharge, Mandate, Payment, WriteOff
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required; a domain error raised inside becomes an error page with its status."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(request, "payments/error.html", {"error": exc}, status=exc.status)

    return login_required(wrapper)


def _can_write(request: HttpRequest) -> bool:
    return bool(roles_of(request.user) & {Role.ADMIN, Role.FINANCE})


@require_GET
@page
def receivables(request: HttpRequest) -> HttpResponse:
    require(request, *READ)
    return render(request, "payments/receivables.html", {
        "aging": queries.aging_by_account(),
        "buckets": ("current", "1-30", "31-60", "61-90", "90+", "total"),
        "payments": list(queries.payments().select_related("account")[:50]),
        "write_offs": list(WriteOff.objects.filter(status=WriteOffStatus.PENDING).order_by("id")),
        "disputes": list(Dispute.objects.filter(status=DisputeStatus.OPEN).order_by("id")),
        "can_write": _can_write(request),
    })  # fmt: skip


@require_GET
@page
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    require(request, *READ)
    payment = Payment.objects.select_related("account").filter(pk=payment_id).first()
    if payment is None:
        raise Http404("no such payment")
    return render(request, "payments/payment.html", {
        "payment": payment, "applications": list(queries.applications(payment_id=payment.pk)),
        "refunds": list(payment.refunds.all()), "disputes": list(payment.disputes.all()),
        "can_write": _can_write(request), "unapplied": Money.from_minor(payment.unapplied_minor, payment.currency),
    })  # fmt: skip


@require_GET
@page
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *READ)
    found = Account.objects.select_related("entity").filter(pk=account_id).first()
    if found is None:
        raise Http404("no such account")
    link = None
    if _can_write(request):
        link = request.build_absolute_uri(reverse("payments:portal", args=[portal.link_token(found.pk)]))
    return render(request, "payments/account.html", {"st": portal.statement(found), "portal_link": link,
                                                     "can_write": _can_write(request), "methods": [m.value for m in Method]})  # fmt: skip


@require_POST
@page
def record(request: HttpRequest, account_id: int) -> HttpResponse:
    """Record a payment from the account page; applied to the open invoices, oldest due first."""
    require(request, *WRITE)
    found = Account.objects.filter(pk=account_id).first()
    if found is None:
        raise Http404("no such account")
    from q2c.payments.services import common as payment_common

    currency = (request.POST.get("currency") or found.currency or "EUR").upper()[:3]
    amount = payment_common.money(request.POST.get("amount", ""), currency, "amount")
    fees_text = request.POST.get("fees", "").strip()
    fees = payment_common.money(fees_text, currency, "fees", allow_zero=True) if fees_text else None
    payment = services.record_payment(
        found.pk, amount, method=request.POST.get("method", "bank_transfer"), fees=fees,
        reference=request.POST.get("reference", "")[:140], actor=request.user,
    )  # fmt: skip
    if request.POST.get("apply") == "on":
        services.apply_credits(found.pk, actor=request.user)
    messages.success(request, f"Payment {payment.number} recorded.")
    return redirect("payments:payment", payment.pk)


@require_POST
@page
def refund(request: HttpRequest, payment_id: int) -> HttpResponse:
    require(request, *WRITE)
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise Http404("no such payment")
    from q2c.payments.services import common as payment_common

    text = request.POST.get("amount", "").strip()
    amount = payment_common.money(text, payment.currency, "amount") if text else None
    services.refund(payment.pk, amount, method=request.POST.get("method", "original"), reason=request.POST.get("reason", "")[:300],
                    actor=request.user)  # fmt: skip
    messages.success(request, "Refunded.")
    return redirect("payments:payment", payment.pk)


@require_POST
@page
def request_write_off(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Write off an invoice's open rest from the customer's page (above the limit: a request)."""
    require(request, *WRITE)
    row = services.write_off(invoice_id, reason=request.POST.get("reason", "")[:300], actor=request.user)
    if row.status == "pending":
        messages.success(
            request,
            f"Write-off of {row.amount} on {row.invoice_number} waits for a second person's approval.",
        )
    else:
        messages.success(request, f"{row.amount} on {row.invoice_number} written off.")
    return redirect("payments:account", row.account_id)


@require_POST
@page
def invoice_dispute(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The customer contests an invoice: mark it disputed (dunning pauses)."""
    require(request, *WRITE)
    row = services.open_dispute(
        invoice_id=invoice_id, reason=request.POST.get("reason", "")[:300], actor=request.user
    )
    messages.success(request, "The invoice is marked as disputed.")
    return redirect("payments:account", row.account_id)


@require_POST
@page
def resolve_dispute(request: HttpRequest, dispute_id: int) -> HttpResponse:
    require(request, *WRITE)
    services.resolve_dispute(dispute_id, won=request.POST.get("outcome") == "won", actor=request.user)
    messages.success(request, "Dispute closed.")
    return redirect("payments:receivables")


@require_GET
@page
def statement_pdf(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *READ)
    found = Account.objects.select_related("entity").filter(pk=account_id).first()
    if found is None:
        raise Http404("no such account")
    return _pdf(portal.statement_pdf(found), f"statement-{found.pk}.pdf")


@require_POST
@page
def approve_write_off(request: HttpRequest, write_off_id: int) -> HttpResponse:
    require(request, *WRITE)
    services.approve_write_off(write_off_id, actor=request.user)
    messages.success(request, "Write-off approved.")
    return redirect("payments:receivables")


@require_POST
@page
def reject_write_off(request: HttpRequest, write_off_id: int) -> HttpResponse:
    require(request, *WRITE)
    services.reject_write_off(write_off_id, actor=request.user)
    messages.success(request, "Write-off rejected.")
    return redirect("payments:receivables")


# --------------------------------------------------------------------------- SEPA Direct Debit

MANDATE_FIELDS = ("account_id", "debtor_name", "iban", "bic", "signed_on", "reference")


def _mandates_page(
    request: HttpRequest,
    *,
    form: dict[str, str] | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(request, "payments/mandates.html", {
        "mandates": list(Mandate.objects.select_related("account").order_by("-id")[:200]),
        "accounts": list(Account.objects.order_by("name", "id").values_list("pk", "name")),
        "form": form or {}, "error": error, "can_write": _can_write(request),
    }, status=status)  # fmt: skip


@require_http_methods(["GET", "POST"])
@page
def mandates(request: HttpRequest) -> HttpResponse:
    """SEPA mandates with their status; finance records one (IBAN/BIC checked by schwifty; a bad
    value shows the form again with the field named, 422, nothing written)."""
    if request.method == "GET":
        require(request, *READ)
        return _mandates_page(request)
    require(request, *WRITE)
    form = {name: request.POST.get(name, "")[:200] for name in MANDATE_FIELDS}
    try:
        try:
            account_id = int(form["account_id"])
        except ValueError:
            raise errors.InvalidPayment(
                "choose the customer", code=errors.INVALID_MANDATE, field="account_id"
            ) from None
        try:
            signed_on = date.fromisoformat(form["signed_on"])
        except ValueError:
            raise errors.InvalidPayment("the signature date is a date (YYYY-MM-DD)", code=errors.INVALID_MANDATE,
                                        field="signed_on") from None  # fmt: skip
        mandate = services.create_mandate(account_id, iban=form["iban"], bic=form["bic"], debtor_name=form["debtor_name"],
                                          signed_on=signed_on, reference=form["reference"], actor=request.user)  # fmt: skip
    except DomainError as exc:
        return _mandates_page(request, form=form, error=exc, status=exc.status)
    messages.success(request, f"Mandate {mandate.reference} recorded.")
    return redirect("payments:mandates")


@require_POST
@page
def revoke_mandate(request: HttpRequest, mandate_id: int) -> HttpResponse:
    require(request, *WRITE)
    mandate = services.revoke_mandate(mandate_id, actor=request.user)
    messages.success(request, f"Mandate {mandate.reference} revoked.")
    return redirect("payments:mandates")


@require_GET
@page
def collections(request: HttpRequest) -> HttpResponse:
    """The pain.008 collection files, newest first; finance downloads each file."""
    require(request, *READ)
    return render(request, "payments/collections.html", {
        "collections": list(Collection.objects.order_by("-id")[:200]), "can_write": _can_write(request),
    })  # fmt: skip


@require_GET
@page
def collection_file(request: HttpRequest, collection_id: int) -> HttpResponse:
    require(request, *WRITE)
    row = Collection.objects.filter(pk=collection_id).first()
    if row is None:
        raise Http404("no such collection")
    response = HttpResponse(bytes(row.xml), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{row.message_id}.xml"'
    return response


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --------------------------------------------------------------------------- the customer portal


def _public(response: HttpResponse) -> HttpResponse:
    # The page is a capability: keep it out of caches and out of other sites' Referer headers.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _portal_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = 410 if exc.code == "links.expired" else 404
    return _public(render(request, "payments/portal_error.html", {"message": exc.message}, status=status))


def _portal_page(request: HttpRequest, token: str, account: Account, **extra: Any) -> HttpResponse:
    st = portal.statement(account)
    docs: dict[int, list[str]] = {}
    for doc_id, fmt in DocumentFile.objects.filter(
        doc_type="invoice", doc_id__in=[i.invoice_id for i in st.items]
    ).values_list("doc_id", "format"):
        docs.setdefault(doc_id, []).append(fmt)
    return _public(render(request, "payments/portal.html", {"st": st, "token": token, "docs": docs, **extra},
                          status=extra.pop("status", 200)))  # fmt: skip


@require_GET
def portal_home(request: HttpRequest, token: str) -> HttpResponse:
    try:
        account = portal.open_link(token)
    except DomainError as exc:
        return _portal_error(request, exc)
    return _portal_page(request, token, account)


@require_POST
def portal_pay(request: HttpRequest, token: str) -> HttpResponse:
    try:
        account = portal.open_link(token)
    except DomainError as exc:
        return _portal_error(request, exc)
    try:
        ids = [int(v) for v in request.POST.getlist("invoice")]
    except ValueError:
        ids = []
    try:
        charge = services.pay_by_card(account.pk, ids, request.POST.get("card_number", ""), actor="portal")
    except DomainError as exc:
        return _portal_page(request, token, account, error=exc.message, status=exc.status)
    if charge.status == "requires_action":
        return redirect("payments:portal_3ds", token, charge.pk)
    return _after_charge(request, token, account, charge)


def _after_charge(request: HttpRequest, token: str, account: Account, charge: GatewayCharge) -> HttpResponse:
    if charge.status == "failed":
        return _portal_page(
            request,
            token,
            account,
            error=f"The payment did not go through ({charge.failure_code}).",
            status=402,
        )
    return _portal_page(
        request, token, account, notice=f"Thank you: {charge.amount} paid by card ending {charge.card_last4}."
    )


@require_http_methods(["GET", "POST"])
def portal_3ds(request: HttpRequest, token: str, charge_id: int) -> HttpResponse:
    try:
        account = portal.open_link(token)
    except DomainError as exc:
        return _portal_error(request, exc)
    charge = GatewayCharge.objects.filter(pk=charge_id, account_id=account.pk).first()
    if charge is None:
        return _portal_error(
            request, DomainError("this payment is not part of this link", code="links.tampered")
        )
    if request.method == "POST":
        try:
            charge = services.confirm_card(
                charge.pk, passed=request.POST.get("result") == "pass", actor="portal"
            )
        except DomainError as exc:
            return _portal_page(request, token, account, error=exc.message, status=exc.status)
        return _after_charge(request, token, account, charge)
    return _public(
        render(request, "payments/portal_3ds.html", {"charge": charge, "token": token, "account": account})
    )


@require_GET
def portal_document(request: HttpRequest, token: str, invoice_id: int, fmt: str) -> HttpResponse:
    try:
        account = portal.open_link(token)
    except DomainError as exc:
        return _portal_error(request, exc)
    if not Invoice.objects.filter(pk=invoice_id, account_id=account.pk).exists():
        return _portal_error(
            request, DomainError("this invoice is not part of this link", code="links.tampered")
        )
    doc = DocumentFile.objects.filter(doc_type="invoice", doc_id=invoice_id, format=fmt[:10]).first()
    if doc is None:
        return _portal_error(request, DomainError("no such document", code="links.tampered"))
    response = HttpResponse(bytes(doc.content), content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    return _public(response)


@require_GET
def portal_statement(request: HttpRequest, token: str) -> HttpResponse:
    try:
        account = portal.open_link(token)
    except DomainError as exc:
        return _portal_error(request, exc)
    return _public(_pdf(portal.statement_pdf(account), f"statement-{account.pk}.pdf"))

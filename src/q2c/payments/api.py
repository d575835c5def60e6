"""Payments, allocations, credits, refunds, disputes, write-offs, receivables and aging — the API
router (mounted in ``q2c/api.py`` at ``/api/v1/payments/``). Thin: checks the role first, calls
services and queries. Who may call what is written in docs/permissions.md (section payments).

Must not import any q2c app above payments.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import Status

from q2c.core.money import Money
from q2c.payments import errors, queries, services
from q2c.payments.models import Collection, Dispute, Mandate, Payment, WriteOff
from q2c.payments.schemas import (
    PaymentAgingOut,
    PaymentApplicationOut,
    PaymentApplyIn,
    PaymentCardConfirmIn,
    PaymentCardIn,
    PaymentChargeOut,
    PaymentCollectionIn,
    PaymentCollectionOut,
    PaymentCreditOut,
    PaymentDisputeIn,
    PaymentDisputeOut,
    PaymentIn,
    PaymentMandateIn,
    PaymentMandateOut,
    PaymentOpenItemOut,
    PaymentOut,
    PaymentRefundIn,
    PaymentRefundOut,
    PaymentResolveIn,
    PaymentReturnIn,
    PaymentWebhookOut,
    PaymentWriteOffIn,
    PaymentWriteOffOut,
)
from q2c.payments.services import common as payment_common
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import Page, PageParams, paginate
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["payments"])

#: Who reads payments and receivables.
READERS = (Role.FINANCE, Role.VIEWER)
#: Who records and changes them.
WRITERS = (Role.FINANCE,)


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None) or request.user


def _money(value: Any, currency: str, field: str) -> Money:
    return payment_common.money(value, currency, field)


def _allocs(items: list[Any], currency: str, prefix: str = "allocations") -> list[services.Allocation]:
    return [
        services.Allocation(a.invoice_id, None if a.amount is None else _money(a.amount, currency, f"{prefix}[{i}].amount"))
        for i, a in enumerate(items)
    ]


def _out(payment_id: int) -> PaymentOut:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise errors.PaymentNotFound(f"no payment {payment_id}", field="payment_id")
    out = PaymentOut.from_orm(payment)
    out.applications = [PaymentApplicationOut.from_orm(a) for a in queries.applications(payment_id=payment.pk)]
    return out


class PaymentFilterIn(Schema):
    account_id: int | None = None
    entity_id: int | None = None
    status: str = ""
    method: str = ""


@router.get("/payments", response=Page[PaymentOut], operation_id="payments_list", summary="Payments")
def list_payments(request: HttpRequest, filters: Query[PaymentFilterIn], paging: Query[PageParams]) -> dict[str, Any]:
    require(request, *READERS)
    return paginate(
        queries.payments(account_id=filters.account_id, entity_id=filters.entity_id, status=filters.status, method=filters.method),
        paging,
    )


@router.post("/payments", response={201: PaymentOut}, operation_id="payments_record", summary="Record a payment")
def record_payment(request: HttpRequest, payload: PaymentIn, response: HttpResponse) -> Status[PaymentOut]:
    require(request, *WRITERS)
    currency = payload.currency.upper()
    payment = services.record_payment(
        payload.account_id, _money(payload.amount, currency, "amount"), method=payload.method,
        received_on=payload.received_on, fees=None if payload.fees is None else _money(payload.fees, currency, "fees"),
        payer_name=payload.payer_name, payer_iban=payload.payer_iban, reference=payload.reference,
        external_id=payload.external_id, allocations=_allocs(payload.allocations, currency), actor=_actor(request),
    )  # fmt: skip
    response["Location"] = f"{request.path}/{payment.pk}"
    return Status(201, _out(payment.pk))


@router.get("/payments/{payment_id}", response=PaymentOut, operation_id="payments_get", summary="A payment")
def get_payment(request: HttpRequest, payment_id: int) -> PaymentOut:
    require(request, *READERS)
    return _out(payment_id)


@router.post("/payments/{payment_id}/applications", response=PaymentOut, operation_id="payments_apply", summary="Apply to invoices")
def apply_payment(request: HttpRequest, payment_id: int, payload: PaymentApplyIn) -> PaymentOut:
    require(request, *WRITERS)
    currency = Payment.objects.filter(pk=payment_id).values_list("currency", flat=True).first()
    if currency is None:
        raise errors.PaymentNotFound(f"no payment {payment_id}", field="payment_id")
    services.apply_payment(payment_id, _allocs(payload.allocations, currency), on=payload.on, actor=_actor(request))
    return _out(payment_id)


@router.post("/payments/{payment_id}/refunds", response={201: PaymentRefundOut}, operation_id="payments_refund", summary="Refund")
def refund(request: HttpRequest, payment_id: int, payload: PaymentRefundIn) -> Status[PaymentRefundOut]:
    require(request, *WRITERS)
    currency = Payment.objects.filter(pk=payment_id).values_list("currency", flat=True).first()
    if currency is None:
        raise errors.PaymentNotFound(f"no payment {payment_id}", field="payment_id")
    amount = None if payload.amount is None else _money(payload.amount, currency, "amount")
    row = services.refund(payment_id, amount, method=payload.method, reason=payload.reason, actor=_actor(request))
    return Status(201, PaymentRefundOut.from_orm(row))


@router.get("/disputes", response=Page[PaymentDisputeOut], operation_id="payments_list_disputes", summary="Disputes")
def list_disputes(request: HttpRequest, paging: Query[PageParams], status: str = "") -> dict[str, Any]:
    require(request, *READERS)
    query = Dispute.objects.all()
    if status:
        query = query.filter(status=status)
    return paginate(query.order_by("-id"), paging)


@router.post("/disputes", response={201: PaymentDisputeOut}, operation_id="payments_open_dispute", summary="Open a dispute")
def open_dispute(request: HttpRequest, payload: PaymentDisputeIn) -> Status[PaymentDisputeOut]:
    require(request, *WRITERS)
    row = services.open_dispute(payload.payment_id, invoice_id=payload.invoice_id, reason=payload.reason,
                                external_id=payload.external_id, actor=_actor(request))  # fmt: skip
    return Status(201, PaymentDisputeOut.from_orm(row))


@router.post("/disputes/{dispute_id}/resolve", response=PaymentDisputeOut, operation_id="payments_resolve_dispute", summary="Won or lost")
def resolve_dispute(request: HttpRequest, dispute_id: int, payload: PaymentResolveIn) -> PaymentDisputeOut:
    require(request, *WRITERS)
    dispute = Dispute.objects.filter(pk=dispute_id).first()
    if dispute is None:
        raise errors.PaymentNotFound(f"no dispute {dispute_id}", field="dispute_id")
    fee = None
    if payload.fee is not None:
        fee = _money(payload.fee, payment_common.settings_for(dispute.entity_id).currency, "fee")
    return PaymentDisputeOut.from_orm(services.resolve_dispute(dispute_id, won=payload.won, fee=fee, actor=_actor(request)))


@router.get("/write-offs", response=Page[PaymentWriteOffOut], operation_id="payments_list_write_offs", summary="Write-offs")
def list_write_offs(request: HttpRequest, paging: Query[PageParams], status: str = "") -> dict[str, Any]:
    require(request, *READERS)
    query = WriteOff.objects.all()
    if status:
        query = query.filter(status=status)
    return paginate(query.order_by("-id"), paging)


@router.post("/write-offs", response={201: PaymentWriteOffOut}, operation_id="payments_write_off", summary="Write off an invoice's rest")
def write_off(request: HttpRequest, payload: PaymentWriteOffIn) -> Status[PaymentWriteOffOut]:
    require(request, *WRITERS)
    return Status(201, PaymentWriteOffOut.from_orm(services.write_off(payload.invoice_id, reason=payload.reason, actor=_actor(request))))


@router.post("/write-offs/{write_off_id}/approve", response=PaymentWriteOffOut, operation_id="payments_approve_write_off", summary="Approve")
def approve_write_off(request: HttpRequest, write_off_id: int) -> PaymentWriteOffOut:
    require(request, *WRITERS)
    return PaymentWriteOffOut.from_orm(services.approve_write_off(write_off_id, actor=_actor(request)))


@router.post("/write-offs/{write_off_id}/reject", response=PaymentWriteOffOut, operation_id="payments_reject_write_off", summary="Reject")
def reject_write_off(request: HttpRequest, write_off_id: int) -> PaymentWriteOffOut:
    require(request, *WRITERS)
    return PaymentWriteOffOut.from_orm(services.reject_write_off(write_off_id, actor=_actor(request)))


class PaymentReceivablesFilterIn(Schema):
    account_id: int | None = None
    entity_id: int | None = None
    on: date | None = None


@router.get("/receivables", response=list[PaymentOpenItemOut], operation_id="payments_receivables", summary="Open items")
def receivables(request: HttpRequest, filters: Query[PaymentReceivablesFilterIn]) -> list[Any]:
    require(request, *READERS)
    return list(queries.open_receivables(account_id=filters.account_id, entity_id=filters.entity_id, on=filters.on))


@router.get("/aging", response=list[PaymentAgingOut], operation_id="payments_aging", summary="Aging per customer")
def aging(request: HttpRequest, filters: Query[PaymentReceivablesFilterIn]) -> list[dict[str, Any]]:
    require(request, *READERS)
    rows = queries.aging_by_account(entity_id=filters.entity_id, on=filters.on)
    return [{**r, "buckets": {k: str(v.amount) for k, v in r["buckets"].items()}} for r in rows]  # type: ignore[attr-defined]


@router.get("/accounts/{account_id}/credit", response=PaymentCreditOut, operation_id="payments_credit", summary="Customer credit")
def credit(request: HttpRequest, account_id: int) -> dict[str, Any]:
    require(request, *READERS)
    return {"account_id": account_id, "credit": {k: str(v.amount) for k, v in queries.customer_credit(account_id).items()}}


@router.post("/accounts/{account_id}/apply-credit", response=list[PaymentApplicationOut], operation_id="payments_apply_credit",
             summary="Apply customer credit to open invoices")  # fmt: skip
def apply_credit(request: HttpRequest, account_id: int) -> list[Any]:
    require(request, *WRITERS)
    return list(services.apply_credits(account_id, actor=_actor(request)))


@router.post("/card/charges", response={201: PaymentChargeOut}, operation_id="payments_card_charge", summary="Pay invoices by card")
def card_charge(request: HttpRequest, payload: PaymentCardIn) -> Status[PaymentChargeOut]:
    require(request, *WRITERS)
    charge = services.pay_by_card(payload.account_id, payload.invoice_ids, payload.card_number, actor=_actor(request))
    return Status(201, PaymentChargeOut.from_orm(charge))


@router.post("/card/charges/{charge_id}/confirm", response=PaymentChargeOut, operation_id="payments_card_confirm",
             summary="Complete (or fail) 3-D Secure")  # fmt: skip
def card_confirm(request: HttpRequest, charge_id: int, payload: PaymentCardConfirmIn) -> PaymentChargeOut:
    require(request, *WRITERS)
    return PaymentChargeOut.from_orm(services.confirm_card(charge_id, passed=payload.passed, actor=_actor(request)))


@router.post("/webhooks/{gateway}", auth=None, response=PaymentWebhookOut, operation_id="payments_webhook",
             summary="Gateway webhooks (signed: Q2C-Signature)")  # fmt: skip
def webhook(request: HttpRequest, gateway: str) -> dict[str, str]:
    if gateway != "sandbox":
        raise errors.PaymentNotFound(f"no gateway {gateway[:40]}", field="gateway")
    return {"outcome": services.handle_webhook(gateway, request.body, request.headers.get("Q2C-Signature", ""))}


@router.get("/mandates", response=Page[PaymentMandateOut], operation_id="payments_list_mandates", summary="SEPA mandates")
def list_mandates(request: HttpRequest, paging: Query[PageParams], account_id: int | None = None) -> dict[str, Any]:
    require(request, *READERS)
    query = Mandate.objects.all()
    if account_id is not None:
        query = query.filter(account_id=account_id)
    return paginate(query.order_by("-id"), paging)


@router.post("/mandates", response={201: PaymentMandateOut}, operation_id="payments_create_mandate", summary="Record a mandate")
def create_mandate(request: HttpRequest, payload: PaymentMandateIn) -> Status[PaymentMandateOut]:
    require(request, *WRITERS)
    mandate = services.create_mandate(payload.account_id, iban=payload.iban, bic=payload.bic, debtor_name=payload.debtor_name,
                                      signed_on=payload.signed_on, reference=payload.reference, actor=_actor(request))  # fmt: skip
    return Status(201, PaymentMandateOut.from_orm(mandate))


@router.post("/mandates/{mandate_id}/revoke", response=PaymentMandateOut, operation_id="payments_revoke_mandate", summary="Revoke")
def revoke_mandate(request: HttpRequest, mandate_id: int) -> PaymentMandateOut:
    require(request, *WRITERS)
    return PaymentMandateOut.from_orm(services.revoke_mandate(mandate_id, actor=_actor(request)))


@router.post("/collections", response={201: PaymentCollectionOut}, operation_id="payments_create_collection",
             summary="Create a pain.008.001.08 collection")  # fmt: skip
def create_collection(request: HttpRequest, payload: PaymentCollectionIn) -> Status[PaymentCollectionOut]:
    require(request, *WRITERS)
    row = services.create_collection(payload.entity_id, collection_date=payload.collection_date, invoice_ids=payload.invoice_ids,
                                     actor=_actor(request))  # fmt: skip
    return Status(201, PaymentCollectionOut.from_orm(row))


@router.get("/collections/{collection_id}/file", operation_id="payments_collection_file", summary="The pain.008 XML")
def collection_file(request: HttpRequest, collection_id: int) -> HttpResponse:
    require(request, *WRITERS)
    row = Collection.objects.filter(pk=collection_id).first()
    if row is None:
        raise errors.PaymentNotFound(f"no collection {collection_id}", field="collection_id")
    response = HttpResponse(bytes(row.xml), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{row.message_id}.xml"'
    return response


@router.post("/collections/{collection_id}/settle", response=PaymentCollectionOut, operation_id="payments_settle_collection",
             summary="The collection's money arrived")  # fmt: skip
def settle_collection(request: HttpRequest, collection_id: int) -> PaymentCollectionOut:
    require(request, *WRITERS)
    return PaymentCollectionOut.from_orm(services.settle_collection(collection_id, actor=_actor(request)))


@router.post("/returns", response=PaymentOut, operation_id="payments_direct_debit_return", summary="A reject or return")
def direct_debit_return(request: HttpRequest, payload: PaymentReturnIn) -> PaymentOut:
    require(request, *WRITERS)
    payment = services.record_return(payload.end_to_end_id, reason_code=payload.reason_code, actor=_actor(request))
    return _out(payment.pk)

"""Payments pages (mounted in ``q2c/urls.py`` at ``/payments/``); ``portal/<token>/…`` are the
customer's public pages (no login: the signed link is the key)."""

from __future__ import annotations

from django.urls import URLPattern, path

from q2c.payments import views

app_name = "payments"

urlpatterns: list[URLPattern] = [
    path("", views.receivables, name="receivables"),
    path("<int:payment_id>/", views.payment_detail, name="payment"),
    path("accounts/<int:account_id>/", views.account, name="account"),
    path("accounts/<int:account_id>/record/", views.record, name="record"),
    path("<int:payment_id>/refund/", views.refund, name="refund"),
    path("invoices/<int:invoice_id>/write-off/", views.request_write_off, name="request_write_off"),
    path("invoices/<int:invoice_id>/dispute/", views.invoice_dispute, name="invoice_dispute"),
    path("disputes/<int:dispute_id>/resolve/", views.resolve_dispute, name="resolve_dispute"),
    path("accounts/<int:account_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("write-offs/<int:write_off_id>/approve/", views.approve_write_off, name="approve_write_off"),
    path("write-offs/<int:write_off_id>/reject/", views.reject_write_off, name="reject_write_off"),
    path("mandates/", views.mandates, name="mandates"),
    path("mandates/<int:mandate_id>/revoke/", views.revoke_mandate, name="revoke_mandate"),
    path("collections/", views.collections, name="collections"),
    path("collections/<int:collection_id>/file.xml", views.collection_file, name="collection_file"),
    path("portal/<str:token>/", views.portal_home, name="portal"),
    path("portal/<str:token>/pay/", views.portal_pay, name="portal_pay"),
    path("portal/<str:token>/3ds/<int:charge_id>/", views.portal_3ds, name="portal_3ds"),
    path(
        "portal/<str:token>/invoices/<int:invoice_id>/<str:fmt>/",
        views.portal_document,
        name="portal_document",
    ),
    path("portal/<str:token>/statement.pdf", views.portal_statement, name="portal_statement"),
]

"""Billing page URLs, mounted at ``/billing/`` (``q2c/urls.py``)."""

from __future__ import annotations

from django.urls import path

from q2c.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.index, name="index"),
    path("runs/", views.start_run, name="start_run"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/issue/", views.issue, name="issue"),
    path("invoices/<int:invoice_id>/void/", views.void, name="void"),
    path("invoices/<int:invoice_id>/write-off/", views.write_off, name="write_off"),
    path("invoices/<int:invoice_id>/reissue/", views.reissue, name="reissue"),
    path("invoices/<int:invoice_id>/send-again/", views.send_again, name="send_again"),
    path("invoices/<int:invoice_id>/credit-note/", views.credit_note_form, name="credit_note_form"),
    path("invoices/<int:invoice_id>/documents/<str:fmt>/", views.document, name="document"),
    path("credit-notes/<int:note_id>/", views.credit_note, name="credit_note"),
    path("credit-notes/<int:note_id>/send-again/", views.send_credit_note_again, name="send_credit_note_again"),
    path("usage/", views.usage_list, name="usage"),
    path("usage/<int:schedule_id>/", views.usage_detail, name="usage_detail"),
]

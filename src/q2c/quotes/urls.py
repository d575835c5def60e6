"""Pages of the quotes app, under ``/quotes/`` (namespace ``quotes``). ``accept/<token>/…`` are
the customer's public pages (no login: the signed link is the key).

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from django.urls import path

from q2c.quotes import views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="quote_list"),
    path("<int:quote_id>/", views.quote_detail, name="quote_detail"),
    path("<int:quote_id>/save/", views.quote_save, name="quote_save"),
    path("<int:quote_id>/submit/", views.quote_submit, name="quote_submit"),
    path("<int:quote_id>/recall/", views.quote_recall, name="quote_recall"),
    path("<int:quote_id>/send/", views.quote_send, name="quote_send"),
    path("<int:quote_id>/withdraw/", views.quote_withdraw, name="quote_withdraw"),
    path("<int:quote_id>/revise/", views.quote_revise, name="quote_revise"),
    path("<int:quote_id>/primary/", views.quote_primary, name="quote_primary"),
    path("<int:quote_id>/preview.pdf", views.quote_preview_pdf, name="quote_preview_pdf"),
    path(
        "<int:quote_id>/documents/<int:document_id>.pdf", views.quote_document_pdf, name="quote_document_pdf"
    ),
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/board/", views.pipeline_board, name="pipeline_board"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:opportunity_id>/stage/", views.opportunity_stage, name="opportunity_stage"),
    path("opportunities/<int:opportunity_id>/quotes/new/", views.quote_create, name="quote_create"),
    path("approvals/", views.approval_inbox, name="approval_inbox"),
    path("approvals/steps/<int:step_id>/decide/", views.approval_decide, name="approval_decide"),
    path("accept/<str:token>/", views.public_quote, name="public_quote"),
    path("accept/<str:token>/pdf/", views.public_pdf, name="public_pdf"),
    path("accept/<str:token>/accept/", views.public_accept, name="public_accept"),
    path("accept/<str:token>/reject/", views.public_reject, name="public_reject"),
]

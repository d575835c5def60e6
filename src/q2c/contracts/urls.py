"""Pages of contracts, mounted at ``/contracts/`` (namespace ``contracts``)."""

from __future__ import annotations

from django.urls import path

from q2c.contracts import views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("clauses/", views.clause_library, name="clauses"),
    path("sign/<str:token>/", views.sign, name="sign"),
    path("<int:contract_id>/", views.contract_detail, name="detail"),
    path("<int:contract_id>/amend/", views.amend, name="amend"),
    path("<int:contract_id>/cancel/", views.cancel, name="cancel"),
    path("<int:contract_id>/negotiate/", views.negotiate, name="negotiate"),
    path("<int:contract_id>/send/", views.send, name="send"),
    path("<int:contract_id>/renewal-quote/", views.renewal_quote, name="renewal_quote"),
    path("<int:contract_id>/amendments/<int:number>/rebase/", views.rebase, name="rebase"),
    path("<int:contract_id>/versions/<int:number>/", views.version_document, name="version"),
    path("<int:contract_id>/versions/<int:number>/pdf/", views.version_pdf, name="version_pdf"),
    path("<int:contract_id>/versions/<int:number>/decide/", views.decide, name="decide"),
]

"""The parties API (mounted at ``/api/v1/parties/``): legal entities and their bank accounts,
customer accounts, contacts. Thin: checks the role, calls ``services``/``queries``, shapes the answer.
Who may call what is written in docs/permissions.md (section parties).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from q2c.parties import queries, services
from q2c.parties.models import Account, BankAccount, Contact, LegalEntity
from q2c.parties.schemas import (
    CustomerContactIn,
    CustomerContactOut,
    CustomerContactPatch,
    CustomerFilter,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    LegalEntityIn,
    LegalEntityOut,
    LegalEntityPatch,
    SellerBankAccountIn,
    SellerBankAccountOut,
)
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import CursorPage, CursorParams, Page, PageParams, paginate, paginate_cursor
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["parties"])

#: Everyone with a role may read parties.
READERS = (Role.ADMIN, Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
#: Who maintains customers and their contacts.
EDITORS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE)
#: Who maintains the seller's bank accounts.
TREASURY = (Role.FINANCE,)


def _actor(request: HttpRequest) -> str:
    user = getattr(request, "auth", None) or request.user
    return str(user.get_username())


def _created(response: HttpResponse, location: str) -> None:
    response["Location"] = location


# --------------------------------------------------------------------------- legal entities


@router.get(
    "/entities", response=Page[LegalEntityOut], operation_id="parties_list_entities", summary="Legal entities"
)
def list_entities(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    require(request, *READERS)
    return paginate(queries.entities().prefetch_related("bank_accounts"), paging)


@router.post(
    "/entities",
    response={201: LegalEntityOut},
    operation_id="parties_create_entity",
    summary="Create a legal entity",
)
def create_entity(
    request: HttpRequest, payload: LegalEntityIn, response: HttpResponse
) -> Status[LegalEntity]:
    require(request, Role.ADMIN)
    entity = services.create_entity(actor=_actor(request), **payload.dict())
    _created(response, f"{request.path}/{entity.pk}")
    return Status(201, entity)


@router.get(
    "/entities/{entity_id}",
    response=LegalEntityOut,
    operation_id="parties_get_entity",
    summary="A legal entity",
)
def get_entity(request: HttpRequest, entity_id: int) -> LegalEntity:
    require(request, *READERS)
    return services.get_entity(entity_id)


@router.patch(
    "/entities/{entity_id}",
    response=LegalEntityOut,
    operation_id="parties_update_entity",
    summary="Change a legal entity",
)
def update_entity(request: HttpRequest, entity_id: int, payload: LegalEntityPatch) -> LegalEntity:
    require(request, Role.ADMIN)
    return services.update_entity(entity_id, payload.dict(exclude_unset=True), actor=_actor(request))


@router.delete(
    "/entities/{entity_id}",
    response={204: None},
    operation_id="parties_delete_entity",
    summary="Delete a legal entity",
)
def delete_entity(request: HttpRequest, entity_id: int) -> Status[None]:
    require(request, Role.ADMIN)
    services.delete_entity(entity_id, actor=_actor(request))
    return Status(204, None)


@router.get(
    "/entities/{entity_id}/bank-accounts",
    response=list[SellerBankAccountOut],
    operation_id="parties_list_bank_accounts",
    summary="Bank accounts of a legal entity",
)
def list_bank_accounts(request: HttpRequest, entity_id: int) -> list[BankAccount]:
    require(request, *READERS)
    return list(services.get_entity(entity_id).bank_accounts.all())


@router.post(
    "/entities/{entity_id}/bank-accounts",
    response={201: SellerBankAccountOut},
    operation_id="parties_add_bank_account",
    summary="Add a bank account",
)
def add_bank_account(
    request: HttpRequest, entity_id: int, payload: SellerBankAccountIn, response: HttpResponse
) -> Status[BankAccount]:
    require(request, *TREASURY)
    fields = payload.dict()
    if fields.get("currency") is None:
        fields.pop("currency")
    row = services.add_bank_account(entity_id, actor=_actor(request), **fields)
    _created(response, f"{request.path}/{row.pk}")
    return Status(201, row)


@router.delete(
    "/entities/{entity_id}/bank-accounts/{bank_account_id}",
    response={204: None},
    operation_id="parties_remove_bank_account",
    summary="Remove a bank account",
)
def remove_bank_account(request: HttpRequest, entity_id: int, bank_account_id: int) -> Status[None]:
    require(request, *TREASURY)
    services.remove_bank_account(entity_id, bank_account_id, actor=_actor(request))
    return Status(204, None)


# --------------------------------------------------------------------------- accounts


@router.get(
    "/accounts", response=Page[CustomerOut], operation_id="parties_list_accounts", summary="Customer accounts"
)
def list_accounts(
    request: HttpRequest, filters: Query[CustomerFilter], paging: Query[PageParams]
) -> dict[str, Any]:
    require(request, *READERS)
    rows = queries.search_accounts(**filters.dict())
    return paginate(rows, paging)


@router.post(
    "/accounts",
    response={201: CustomerOut},
    operation_id="parties_create_account",
    summary="Create a customer account",
)
def create_account(request: HttpRequest, payload: CustomerIn, response: HttpResponse) -> Status[Account]:
    require(request, *EDITORS)
    fields = payload.dict()
    for optional in ("currency", "entity_id"):
        if fields.get(optional) is None:
            fields.pop(optional)
    account = services.create_account(actor=_actor(request), **fields)
    _created(response, f"{request.path}/{account.pk}")
    return Status(201, account)


@router.get(
    "/accounts/{account_id}",
    response=CustomerOut,
    operation_id="parties_get_account",
    summary="A customer account",
)
def get_account(request: HttpRequest, account_id: int) -> Account:
    require(request, *READERS)
    return services.get_account(account_id)


@router.patch(
    "/accounts/{account_id}",
    response=CustomerOut,
    operation_id="parties_update_account",
    summary="Change a customer account",
)
def update_account(request: HttpRequest, account_id: int, payload: CustomerPatch) -> Account:
    require(request, *EDITORS)
    return services.update_account(account_id, payload.dict(exclude_unset=True), actor=_actor(request))


@router.delete(
    "/accounts/{account_id}",
    response={204: None},
    operation_id="parties_delete_account",
    summary="Delete a customer account",
)
def delete_account(request: HttpRequest, account_id: int) -> Status[None]:
    require(request, Role.SALES_MANAGER)
    services.delete_account(account_id, actor=_actor(request))
    return Status(204, None)


# --------------------------------------------------------------------------- contacts


@router.get(
    "/accounts/{account_id}/contacts",
    response=CursorPage[CustomerContactOut],
    operation_id="parties_list_contacts",
    summary="Contacts of an account",
)
def list_contacts(request: HttpRequest, account_id: int, paging: Query[CursorParams]) -> dict[str, Any]:
    require(request, *READERS)
    services.get_account(account_id)
    return paginate_cursor(Contact.objects.filter(account_id=account_id), paging, order_by=("name", "id"))


@router.post(
    "/accounts/{account_id}/contacts",
    response={201: CustomerContactOut},
    operation_id="parties_create_contact",
    summary="Add a contact",
)
def create_contact(
    request: HttpRequest, account_id: int, payload: CustomerContactIn, response: HttpResponse
) -> Status[Contact]:
    require(request, *EDITORS)
    contact = services.create_contact(account_id, actor=_actor(request), **payload.dict())
    _created(response, f"{request.path.rsplit('/accounts/', 1)[0]}/contacts/{contact.pk}")
    return Status(201, contact)


@router.get(
    "/contacts/{contact_id}",
    response=CustomerContactOut,
    operation_id="parties_get_contact",
    summary="A contact",
)
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    require(request, *READERS)
    return services.get_contact(contact_id)


@router.patch(
    "/contacts/{contact_id}",
    response=CustomerContactOut,
    operation_id="parties_update_contact",
    summary="Change a contact",
)
def update_contact(request: HttpRequest, contact_id: int, payload: CustomerContactPatch) -> Contact:
    require(request, *EDITORS)
    return services.update_contact(contact_id, payload.dict(exclude_unset=True), actor=_actor(request))


@router.delete(
    "/contacts/{contact_id}",
    response={204: None},
    operation_id="parties_delete_contact",
    summary="Delete a contact",
)
def delete_contact(request: HttpRequest, contact_id: int) -> Status[None]:
    require(request, *EDITORS)
    services.delete_contact(contact_id, actor=_actor(request))
    return Status(204, None)

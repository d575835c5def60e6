"""Use cases of parties: what is written, in which normal form, and that bad input writes nothing."""

from __future__ import annotations

import pytest

from q2c.core.errors import ValidationError
from q2c.parties import services
from q2c.parties.errors import DuplicateBankAccount, PartyInUse, PartyNotFound
from q2c.parties.models import Account, BankAccount, Contact, LegalEntity
from q2c.platform.models import Event

from .conftest import ACME, NORTHWIND

pytestmark = pytest.mark.django_db


def _fields_at_fault(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {d["field"] for d in exc.value.details}


class TestLegalEntities:
    def test_the_scenario_seller_is_stored_with_its_settings_and_an_event(self, acme):
        entity = LegalEntity.objects.get(pk=acme.pk)
        assert (entity.name, entity.country, entity.base_currency, entity.time_zone) == (
            "Acme Cloud GmbH",
            "DE",
            "EUR",
            "Europe/Berlin",
        )
        assert entity.tax_id == "DE136457858"
        assert entity.sepa_creditor_id == "DE98ZZZ09999999999"
        assert entity.number_prefixes == {
            "quote": "Q",
            "contract": "CON",
            "order": "ORD",
            "invoice": "INV",
            "credit_note": "CN",
        }
        assert (entity.rounding_mode, entity.tax_rounding, entity.payment_terms_days) == (
            "half_up",
            "per_rate",
            30,
        )
        assert Event.objects.filter(type="parties.entity.created", aggregate_id=str(acme.pk)).count() == 1

    def test_every_wrong_field_is_reported_at_once_and_nothing_is_written(self):
        with pytest.raises(ValidationError) as exc:
            services.create_entity(
                name="Bad GmbH",
                country="XX",
                base_currency="EURO",
                time_zone="Berlin",
                sepa_creditor_id="DE99ZZZ09999999999",
                rounding_mode="up",
                invoice_prefix="INV-",
            )
        assert _fields_at_fault(exc) == {
            "country",
            "base_currency",
            "time_zone",
            "sepa_creditor_id",
            "rounding_mode",
            "invoice_prefix",
        }
        assert LegalEntity.objects.count() == 0
        assert Event.objects.count() == 0

    def test_a_vat_number_is_checked_against_the_entitys_country(self):
        with pytest.raises(ValidationError) as exc:
            services.create_entity(**{**ACME, "tax_id": "DE136457859"})
        assert exc.value.code == "parties.invalid_tax_id"
        assert LegalEntity.objects.count() == 0

    def test_two_document_kinds_cannot_share_a_number_prefix(self):
        with pytest.raises(ValidationError) as exc:
            services.create_entity(**{**ACME, "credit_note_prefix": "INV"})
        assert exc.value.field == "credit_note_prefix"

    def test_half_even_rounding_and_per_line_tax_are_settings(self, acme):
        entity = services.update_entity(acme.pk, {"rounding_mode": "half_even", "tax_rounding": "per_line"})
        assert (entity.rounding_mode, entity.tax_rounding) == ("half_even", "per_line")
        assert Event.objects.filter(type="parties.entity.updated").get().payload == {
            "fields": ["rounding_mode", "tax_rounding"]
        }

    def test_an_unknown_field_is_an_error_not_silently_ignored(self, acme):
        with pytest.raises(ValidationError) as exc:
            services.update_entity(acme.pk, {"colour": "blue"})
        assert exc.value.code == "parties.unknown_field"

    def test_an_entity_with_customers_cannot_be_deleted(self, northwind):
        with pytest.raises(PartyInUse):
            services.delete_entity(northwind.entity_id)
        assert LegalEntity.objects.filter(pk=northwind.entity_id).exists()


class TestBankAccounts:
    def test_the_first_account_is_the_default_and_a_new_default_replaces_it(self, acme):
        first = services.add_bank_account(acme.pk, iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX")
        assert (first.iban, first.bic, first.currency, first.is_default) == (
            "DE89370400440532013000",
            "COBADEFFXXX",
            "EUR",
            True,
        )
        second = services.add_bank_account(
            acme.pk, iban="GB82WEST12345698765432", currency="GBP", is_default=True
        )
        defaults = list(BankAccount.objects.filter(is_default=True).values_list("pk", flat=True))
        assert defaults == [second.pk]

    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"iban": "DE89370400440532013001"}, "parties.invalid_iban"),
            ({"iban": "DE89370400440532013000", "bic": "COBADEFFX"}, "parties.invalid_bic"),
            ({"iban": "DE89370400440532013000", "currency": "XYZ"}, "parties.invalid_currency"),
        ],
    )
    def test_an_invalid_iban_bic_or_currency_writes_nothing(self, acme, fields, code):
        with pytest.raises(ValidationError) as exc:
            services.add_bank_account(acme.pk, **fields)
        assert exc.value.code == code
        assert BankAccount.objects.count() == 0

    def test_the_same_iban_twice_is_a_conflict(self, acme):
        services.add_bank_account(acme.pk, iban="DE89370400440532013000")
        with pytest.raises(DuplicateBankAccount):
            services.add_bank_account(acme.pk, iban="de89 3704 0044 0532 0130 00")
        assert BankAccount.objects.count() == 1

    def test_removing_the_default_makes_the_next_one_default(self, acme):
        first = services.add_bank_account(acme.pk, iban="DE89370400440532013000")
        second = services.add_bank_account(acme.pk, iban="GB82WEST12345698765432")
        services.remove_bank_account(acme.pk, first.pk)
        assert BankAccount.objects.get().pk == second.pk
        assert BankAccount.objects.get().is_default


class TestAccounts:
    def test_the_scenario_customer_takes_the_only_entity_and_its_currency(self, northwind, acme):
        account = Account.objects.get(pk=northwind.pk)
        assert account.entity_id == acme.pk
        assert (account.currency, account.country, account.tax_id, account.locale) == (
            "EUR",
            "DE",
            "DE812651301",
            "de-DE",
        )
        assert account.payment_terms_days is None
        assert account.effective_payment_terms_days == 30
        assert Event.objects.filter(type="parties.account.created", aggregate_id=str(account.pk)).exists()

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"country": "XX"}, "country", "parties.invalid_country"),
            ({"tax_id": "DE812651300"}, "tax_id", "parties.invalid_tax_id"),
            ({"country": "FR", "tax_id": "FR40303265046"}, "tax_id", "parties.invalid_tax_id"),
            ({"currency": "EURO"}, "currency", "parties.invalid_currency"),
            ({"kind": "company"}, "kind", "parties.invalid_choice"),
            ({"invoice_email": "not-an-address"}, "invoice_email", "parties.invalid_email"),
            ({"locale": "xx-YY"}, "locale", "parties.invalid_locale"),
            ({"shipping_country": "ZZ"}, "shipping_country", "parties.invalid_country"),
            ({"payment_terms_days": 400}, "payment_terms_days", "parties.invalid_payment_terms"),
            ({"name": "  "}, "name", "parties.invalid_name"),
        ],
    )
    def test_bad_input_is_refused_with_its_field_and_nothing_is_written(self, acme, change, field, code):
        with pytest.raises(ValidationError) as exc:
            services.create_account(**{**NORTHWIND, **change})
        assert {"field": field, "code": code} in [
            {"field": d["field"], "code": d["code"]} for d in exc.value.details
        ]
        assert Account.objects.count() == 0
        assert not Event.objects.filter(type__startswith="parties.account").exists()

    def test_with_several_entities_the_caller_must_say_which_sells(self, acme):
        services.create_entity(
            **{**ACME, "name": "Acme Cloud Ltd", "country": "GB", "base_currency": "GBP", "tax_id": ""}
        )
        with pytest.raises(ValidationError) as exc:
            services.create_account(**NORTHWIND)
        assert exc.value.code == "parties.entity_required"
        account = services.create_account(**NORTHWIND, entity_id=acme.pk)
        assert account.entity_id == acme.pk

    def test_without_any_entity_an_account_cannot_be_created(self, db):
        with pytest.raises(ValidationError) as exc:
            services.create_account(**NORTHWIND)
        assert exc.value.code == "parties.entity_required"

    def test_html_in_a_name_is_stored_as_text(self, acme):
        account = services.create_account(**{**NORTHWIND, "name": "<script>alert(1)</script> GmbH"})
        assert Account.objects.get(pk=account.pk).name == "<script>alert(1)</script> GmbH"

    def test_a_consumer_needs_no_tax_id(self, acme):
        account = services.create_account(name="Erika Mustermann", country="DE", kind="consumer")
        assert (account.kind, account.tax_id) == ("consumer", "")

    def test_an_update_changes_only_what_is_sent_and_is_checked_again(self, northwind):
        account = services.update_account(northwind.pk, {"billing_city": "Bremen", "payment_terms_days": 14})
        assert (account.billing_city, account.payment_terms_days, account.name) == (
            "Bremen",
            14,
            NORTHWIND["name"],
        )
        with pytest.raises(ValidationError):
            services.update_account(northwind.pk, {"country": "GB"})  # a German VAT number is no UK one
        assert Account.objects.get(pk=northwind.pk).country == "DE"

    def test_an_account_stays_with_its_legal_entity(self, northwind):
        with pytest.raises(ValidationError) as exc:
            services.update_account(northwind.pk, {"entity_id": northwind.entity_id + 1})
        assert exc.value.field == "entity_id"

    def test_parents_must_be_in_the_same_entity_and_never_form_a_loop(self, acme, northwind):
        child = services.create_account(**{**NORTHWIND, "name": "Northwind Bremen"}, parent_id=northwind.pk)
        grandchild = services.create_account(
            **{**NORTHWIND, "name": "Northwind Bremen Lager"}, parent_id=child.pk
        )
        with pytest.raises(ValidationError) as exc:
            services.update_account(northwind.pk, {"parent_id": grandchild.pk})
        assert exc.value.code == "parties.invalid_parent"
        with pytest.raises(ValidationError):
            services.update_account(northwind.pk, {"parent_id": northwind.pk})
        other = services.create_entity(**{**ACME, "name": "Other GmbH", "tax_id": ""})
        stranger = services.create_account(**{**NORTHWIND, "name": "Stranger"}, entity_id=other.pk)
        with pytest.raises(ValidationError):
            services.update_account(stranger.pk, {"parent_id": northwind.pk})

    def test_an_account_with_subsidiaries_cannot_be_deleted(self, northwind):
        services.create_account(**{**NORTHWIND, "name": "Northwind Bremen"}, parent_id=northwind.pk)
        with pytest.raises(PartyInUse):
            services.delete_account(northwind.pk)

    def test_the_owner_must_be_an_active_user(self, acme, make_user):
        rita = make_user("sales_rep", "rita")
        account = services.create_account(**NORTHWIND, owner_id=rita.pk)
        assert account.owner_id == rita.pk
        rita.is_active = False
        rita.save()
        with pytest.raises(ValidationError) as exc:
            services.create_account(**{**NORTHWIND, "name": "Other"}, owner_id=rita.pk)
        assert exc.value.code == "parties.invalid_owner"

    def test_a_missing_account_is_not_found(self, db):
        with pytest.raises(PartyNotFound):
            services.update_account(999_999, {"name": "x"})


class TestContacts:
    def test_only_one_contact_is_primary(self, northwind):
        nora = services.create_contact(
            northwind.pk, name="Nora Nordmann", is_primary=True, email="nora@northwind.example"
        )
        ole = services.create_contact(northwind.pk, name="Ole Olsen", is_primary=True)
        assert list(Contact.objects.filter(is_primary=True).values_list("pk", flat=True)) == [ole.pk]
        services.update_contact(nora.pk, {"is_primary": True})
        assert list(Contact.objects.filter(is_primary=True).values_list("pk", flat=True)) == [nora.pk]

    def test_a_bad_e_mail_writes_nothing(self, northwind):
        with pytest.raises(ValidationError) as exc:
            services.create_contact(northwind.pk, name="Nora", email="nora@")
        assert exc.value.code == "parties.invalid_email"
        assert Contact.objects.count() == 0

    def test_deleting_a_contact_records_an_event(self, northwind):
        contact = services.create_contact(northwind.pk, name="Nora")
        services.delete_contact(contact.pk, actor="max")
        assert Event.objects.get(type="parties.contact.deleted").actor == "max"

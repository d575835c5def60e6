"""MoneyField and DecimalTextField: exact storage as integer minor units and decimal text."""

from decimal import Decimal

import pytest
from django.db import connection, models

from q2c.core.money import CurrencyMismatch, InvalidAmount, Money
from q2c.platform.fields import DecimalTextField, MoneyField


class Doc(models.Model):
    currency = models.CharField(max_length=3)
    net = MoneyField()
    tax = MoneyField(null=True)
    unit_price = DecimalTextField(null=True)

    class Meta:
        app_label = "platform"
        db_table = "test_platform_doc"


@pytest.fixture
def doc_table(transactional_db):
    with connection.schema_editor() as editor:
        editor.create_model(Doc)
    yield
    with connection.schema_editor() as editor:
        editor.delete_model(Doc)


def test_money_is_stored_as_minor_units_beside_the_currency(doc_table):
    Doc.objects.create(net=Money("1275.00", "EUR"), unit_price=Decimal("25.50"))
    with connection.cursor() as cur:
        cur.execute("SELECT currency, net_minor, unit_price FROM test_platform_doc")
        assert cur.fetchone() == ("EUR", 127500, "25.50")
    doc = Doc.objects.get()
    assert doc.net == Money("1275.00", "EUR")
    assert doc.tax is None
    assert doc.unit_price == Decimal("25.50")


def test_amounts_of_a_document_share_its_currency(doc_table):
    doc = Doc(net=Money("10.00", "EUR"))
    with pytest.raises(CurrencyMismatch):
        doc.tax = Money("1.90", "USD")


def test_unrounded_amounts_are_refused(doc_table):
    with pytest.raises(InvalidAmount):
        Doc(net=Money("10.005", "EUR"))


def test_floats_cannot_be_stored(doc_table):
    with pytest.raises(TypeError):
        Doc(net=10.5)
    with pytest.raises(TypeError):
        Doc(currency="EUR", net=Money(1, "EUR"), unit_price=0.1).save()


def test_filters_take_money(doc_table):
    Doc.objects.create(net=Money("5.00", "JPY"))
    Doc.objects.create(net=Money("7", "JPY"))
    assert Doc.objects.filter(net=Money("7", "JPY")).count() == 1


def test_decimal_text_validates_and_gives_a_decimal_form_field(doc_table):
    doc = Doc(net=Money("1.00", "EUR"), unit_price=Decimal("0.002"))
    doc.full_clean(exclude=["tax"])
    field = Doc._meta.get_field("unit_price").formfield()
    assert field.clean("25.50") == Decimal("25.50")

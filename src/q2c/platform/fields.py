"""Model fields for exact amounts.

``MoneyField`` stores an amount as integer minor units (``<name>_minor``, BIGINT) beside a
currency column (CHAR(3)). Several amounts of one document share its currency column: name it
with ``currency_field`` (default ``"currency"``), a CharField(3) the model declares. Reading the attribute gives a :class:`~q2c.core.money.Money`; assigning a
Money checks the currency and refuses amounts that are not rounded to minor units.

``DecimalTextField`` stores unit prices, rates and quantities as exact decimal text: SQLite has no
decimal type, so a numeric column would be summed in floating point.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.db import models

if TYPE_CHECKING:
    from django.db.models.expressions import Combinable

from q2c.core.money import Money, to_decimal


class MoneyDescriptor:
    def __init__(self, field: MoneyField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        minor = instance.__dict__.get(self.field.attname)
        if minor is None:
            return None
        currency = getattr(instance, self.field.currency_attname)
        return Money.from_minor(int(minor), currency)

    def __set__(self, instance: Any, value: Any) -> None:
        if value is None:
            instance.__dict__[self.field.attname] = None
            return
        if not isinstance(value, Money):
            raise TypeError(f"{self.field.name} takes Money, not {type(value).__name__}")
        current = instance.__dict__.get(self.field.currency_attname)
        if current and current != value.currency:
            from q2c.core.money import CurrencyMismatch

            raise CurrencyMismatch(
                f"{self.field.name} is in {current}, got {value.currency}", field=self.field.name
            )
        setattr(instance, self.field.currency_attname, value.currency)
        instance.__dict__[self.field.attname] = value.minor_units()


class MoneyField(models.BigIntegerField):
    """Integer minor units plus a currency column; the attribute reads and writes ``Money``."""

    def __init__(self, *args: Any, currency_field: str = "currency", **kwargs: Any) -> None:
        self.currency_field = currency_field
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["currency_field"] = self.currency_field
        return name, path, args, kwargs

    def get_attname(self) -> str:
        return f"{self.name}_minor"

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, name, MoneyDescriptor(self))

    @property
    def currency_attname(self) -> str:
        return self.currency_field

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Money):
            return value.minor_units()
        return super().get_prep_value(value)


class DecimalTextField(models.CharField):
    """An exact decimal kept as text (``"25.50"``, ``"0.002"``); reads back as ``Decimal``."""

    if TYPE_CHECKING:
        # django-stubs reads these to type the attribute: it takes and gives Decimals.
        _pyi_private_set_type: Decimal | str | int | Combinable  # type: ignore[assignment]
        _pyi_private_get_type: Decimal  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)
        # CharField's length check would call len() on a Decimal; the column length still bounds
        # the text that get_prep_value writes.
        self.validators[:] = [v for v in self.validators if not isinstance(v, MaxLengthValidator)]

    def formfield(self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any) -> Any:
        return models.Field.formfield(
            self, form_class=form_class or forms.DecimalField, choices_form_class=choices_form_class, **kwargs
        )

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        return None if value is None else Decimal(value)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or value == "":
            return None
        return to_decimal(value, field=self.name)

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return str(to_decimal(value, field=self.name))

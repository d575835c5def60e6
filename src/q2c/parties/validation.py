"""Checks and normal forms for the identifiers a party carries.

Pure functions over strings: each returns the value in its normal (compact, upper-case) form or
raises :class:`q2c.core.errors.ValidationError` with a stable code from ``parties.errors`` and the
field at fault. The libraries made for the job do the checking: pycountry (ISO 3166), py-moneyed
via ``q2c.core.money`` (ISO 4217), python-stdnum (VAT numbers, SEPA creditor identifiers),
schwifty (IBAN, BIC), Babel (locales), zoneinfo (IANA time zones).

Must not import Django or any q2c app; only ``q2c.core``.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import lru_cache

import pycountry
import schwifty
from babel import Locale, UnknownLocaleError
from schwifty.exceptions import SchwiftyException
from stdnum import get_cc_module
from stdnum.eu import at_02
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from q2c.core.errors import ValidationError
from q2c.core.money import InvalidCurrency, check_currency
from q2c.parties import errors

NAME_MAX = 200


def _error(code: str, field: str, message: str) -> ValidationError:
    return ValidationError(message, code=code, field=field)


def _has_control_chars(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t" for ch in value)


def name(value: object, *, field: str = "name", required: bool = True, max_length: int = NAME_MAX) -> str:
    """A person's or company's name: trimmed, not empty, no control characters.

    Any other character is allowed (``<b>Acme</b>`` is a legal, if odd, name); pages escape it.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _error(errors.INVALID_NAME, field, f"{field} must be text")
    text = " ".join(value.split())
    if not text:
        if required:
            raise _error(errors.INVALID_NAME, field, f"{field} is required")
        return ""
    if len(text) > max_length:
        raise _error(errors.INVALID_NAME, field, f"{field} is longer than {max_length} characters")
    if _has_control_chars(text):
        raise _error(errors.INVALID_NAME, field, f"{field} contains control characters")
    return text


def country(value: object, *, field: str = "country", required: bool = True) -> str:
    """An ISO 3166-1 alpha-2 country code, upper case (``de`` → ``DE``)."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not text:
        if required:
            raise _error(errors.INVALID_COUNTRY, field, f"{field} is required (ISO 3166 code, e.g. DE)")
        return ""
    if len(text) != 2 or pycountry.countries.get(alpha_2=text) is None:
        raise _error(errors.INVALID_COUNTRY, field, f"'{value}' is not an ISO 3166 country code")
    return text


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    """(code, name) for every ISO 3166-1 country, sorted by name: for select boxes."""
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1])


def currency(value: object, *, field: str = "currency") -> str:
    """An ISO 4217 currency code, upper case."""
    text = value.strip().upper() if isinstance(value, str) else value
    try:
        return check_currency(text)
    except InvalidCurrency:
        raise _error(errors.INVALID_CURRENCY, field, f"'{value}' is not an ISO 4217 currency code") from None


def time_zone(value: object, *, field: str = "time_zone") -> str:
    """An IANA time zone name such as ``Europe/Berlin``."""
    text = value.strip() if isinstance(value, str) else ""
    if text not in _time_zones():
        raise _error(errors.INVALID_TIME_ZONE, field, f"'{value}' is not an IANA time zone")
    return text


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def locale(value: object, *, field: str = "locale") -> str:
    """A locale Babel knows, as a BCP 47 tag (``de_de`` → ``de-DE``)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", text):
        raise _error(errors.INVALID_LOCALE, field, f"'{value}' is not a locale (e.g. de-DE)")
    try:
        parsed = Locale.parse(text.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise _error(errors.INVALID_LOCALE, field, f"'{value}' is not a known locale") from None
    return str(parsed).replace("_", "-")


_STDNUM_REASONS = {
    InvalidChecksum: "its check digits are wrong",
    InvalidLength: "it has the wrong length",
    InvalidFormat: "it has the wrong format",
    InvalidComponent: "a part of it is not valid",
}


def _reason(exc: StdnumError) -> str:
    for kind, text in _STDNUM_REASONS.items():
        if isinstance(exc, kind):
            return text
    return "it is not valid"


def _eu_prefix(country_code: str) -> str:
    # VIES writes Greece as EL, not GR (Directive 2006/112/EC uses the ISO 639 code).
    return "EL" if country_code == "GR" else country_code


def tax_id(value: object, country_code: str, *, field: str = "tax_id") -> str:
    """A tax identifier, checked with python-stdnum where it has a validator for the country.

    - EU member states (and Northern Ireland's ``XI`` numbers): the VAT identification number,
      checked by ``stdnum.eu.vat`` and returned with its VIES prefix (``DE136457858``). A number
      typed without prefix gets the country's; a company may hold another member state's number,
      so any EU prefix is accepted and checked by that state's rules.
    - other countries with a ``vat`` module in python-stdnum (GB, CH, NO, AU …): checked by it and
      returned in its compact form.
    - countries without a validator: kept as typed (trimmed), at most 40 characters.
    Empty means none.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return ""
    if len(text) > 40 or _has_control_chars(text):
        raise _error(
            errors.INVALID_TAX_ID,
            field,
            "the tax id is longer than 40 characters or contains control characters",
        )
    cc = (country_code or "").upper()
    if not cc:
        # Without a valid country there is no rule to check against; the country's own error
        # is reported and nothing is written.
        return text
    compact = re.sub(r"[\s.\-/]", "", text).upper()
    eu_states = {s.upper() for s in eu_vat.MEMBER_STATES} | {"EL"}
    has_eu_prefix = compact[:2].isalpha() and compact[:2] in eu_states
    try:
        if cc in eu_states or (has_eu_prefix and compact[:2] == "XI" and cc == "GB"):
            number = compact if has_eu_prefix else _eu_prefix(cc) + compact
            result = eu_vat.validate(number)
            return str(result)
        module = get_cc_module(cc.lower(), "vat")
        if module is not None:
            return str(module.validate(text))
    except StdnumError as exc:
        raise _error(
            errors.INVALID_TAX_ID, field, f"'{text}' is not a valid tax id for {cc}: {_reason(exc)}"
        ) from None
    return text


def iban(value: object, *, field: str = "iban") -> str:
    """An IBAN in compact form, checked by schwifty (country, length, structure, check digits)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _error(errors.INVALID_IBAN, field, "the IBAN is required")
    try:
        return str(schwifty.IBAN(text).compact)
    except SchwiftyException as exc:
        raise _error(errors.INVALID_IBAN, field, f"'{text}' is not a valid IBAN: {exc}") from None


def bic(value: object, *, field: str = "bic", required: bool = False) -> str:
    """A BIC (ISO 9362) in compact form, checked by schwifty; empty allowed unless required."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise _error(errors.INVALID_BIC, field, "the BIC is required")
        return ""
    try:
        return str(schwifty.BIC(text).compact)
    except SchwiftyException as exc:
        raise _error(errors.INVALID_BIC, field, f"'{text}' is not a valid BIC: {exc}") from None


def creditor_id(value: object, *, field: str = "sepa_creditor_id") -> str:
    """A SEPA creditor identifier (EPC262-08 AT-02), compact; empty means none.

    Layout: country code, two check digits, a three-character creditor business code (``ZZZ``
    when unused), then the national identifier. The check digits are ISO 7064 mod 97-10 over the
    national identifier followed by the country code and ``00``, skipping the business code —
    python-stdnum's ``stdnum.eu.at_02`` computes that; the layout around it is checked here.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return ""
    compact = at_02.compact(text)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", compact):
        raise _error(
            errors.INVALID_CREDITOR_ID,
            field,
            f"'{text}' is not a SEPA creditor identifier (e.g. DE98ZZZ09999999999)",
        )
    if pycountry.countries.get(alpha_2=compact[:2]) is None:
        raise _error(errors.INVALID_CREDITOR_ID, field, f"'{text}' does not start with a country code")
    try:
        return str(at_02.validate(compact))
    except StdnumError as exc:
        raise _error(
            errors.INVALID_CREDITOR_ID,
            field,
            f"'{text}' is not a valid SEPA creditor identifier: {_reason(exc)}",
        ) from None


_PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,9}")


def number_prefix(value: object, *, field: str) -> str:
    """A document number prefix: 1–10 upper-case letters or digits, starting with a letter."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _PREFIX.fullmatch(text):
        raise _error(
            errors.INVALID_PREFIX,
            field,
            f"'{value}' is not a number prefix (1–10 letters or digits, e.g. INV)",
        )
    return text


def payment_terms(value: object, *, field: str = "payment_terms_days") -> int:
    """Days until an invoice is due: a whole number from 0 to 365."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _error(errors.INVALID_PAYMENT_TERMS, field, "payment terms must be a whole number of days")
    try:
        days = int(value)
    except ValueError:
        raise _error(
            errors.INVALID_PAYMENT_TERMS, field, "payment terms must be a whole number of days"
        ) from None
    if not 0 <= days <= 365:
        raise _error(errors.INVALID_PAYMENT_TERMS, field, "payment terms must be between 0 and 365 days")
    return days


def choice(value: object, allowed: tuple[str, ...] | list[str], *, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text not in allowed:
        raise _error(errors.INVALID_CHOICE, field, f"{field} must be one of: {', '.join(allowed)}")
    return text

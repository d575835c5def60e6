"""Countries, regions, VAT territories and tax jurisdictions.

Three notions, kept apart on purpose:

- a **location** is what a caller knows: an ISO 3166-1 alpha-2 country and, optionally, the code
  of an ISO 3166-2 subdivision of it (``US`` + ``CA``; ``ES`` + ``CN``);
- a **territory** is the tax area a location belongs to, which decides whether a supply is
  domestic, within the EU or to a third country. It is the country, except for the parts of a
  member state outside the EU VAT territory (Directive 2006/112/EC Art. 6: the Canary Islands
  ``ES-CN``, Ceuta ``ES-CE``, Melilla ``ES-ML``) and the places treated as part of another
  state's territory (Art. 7: Monaco as France, the Isle of Man as the United Kingdom);
- a **jurisdiction** is the key of the rate table: the territory, except in the United States,
  where sales tax is levied by state (``US-CA``).

EU membership is dated: the United Kingdom left the EU VAT territory at the end of 2020, Croatia
joined on 2013-07-01.

Country and subdivision codes are checked against pycountry's ISO 3166 tables.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.tax.engine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from q2c.tax.engine.errors import RegionRequired, UnknownCountry, UnknownRegion

#: The member states (ISO 3166-1; Greece is GR here, EL only in VAT numbers) and the half-open
#: period of their membership where it began or ended within the dates q2c deals with.
_EU_MEMBERSHIP: dict[str, tuple[date | None, date | None]] = {
    **{
        code: (None, None)
        for code in (
            [
                "AT",
                "BE",
                "BG",
                "CY",
                "CZ",
                "DE",
                "DK",
                "EE",
                "ES",
                "FI",
                "FR",
                "GR",
                "HU",
                "IE",
                "IT",
                "LT",
                "LU",
                "LV",
                "MT",
                "NL",
                "PL",
                "PT",
                "RO",
                "SE",
                "SI",
                "SK",
            ]
        )
    },
    "HR": (date(2013, 7, 1), None),  # accession
    "GB": (None, date(2021, 1, 1)),  # end of the Brexit transition period
}

#: Parts of member states outside the EU VAT territory (Art. 6(2)(b) and (c) Directive
#: 2006/112/EC) that q2c can name by ISO 3166-2 code. Others (Mount Athos, Heligoland,
#: Büsingen, Livigno, Campione d'Italia) have no ISO code and are not modelled.
SPECIAL_TERRITORIES = frozenset({"ES-CN", "ES-CE", "ES-ML"})

#: Places outside a member state that belong to another state's VAT territory (Art. 7).
_TREATED_AS = {"MC": "FR", "IM": "GB"}

#: Jurisdictions whose tax is levied below the country: the region is part of the key.
_BY_REGION = frozenset({"US"})


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


@lru_cache(maxsize=4096)
def _subdivision(code: str) -> tuple[str, str | None] | None:
    """(code, parent code) of an ISO 3166-2 subdivision, or None when there is none."""
    import pycountry

    sub = pycountry.subdivisions.get(code=code)
    if sub is None:
        return None
    return sub.code, sub.parent_code


def check_country(country: str, *, field: str = "country") -> str:
    if not isinstance(country, str) or country not in _countries():
        raise UnknownCountry(
            f"'{country}' is not an ISO 3166-1 alpha-2 country code"
            + (" (Greece is GR; EL is only the prefix of Greek VAT numbers)" if country == "EL" else ""),
            field=field,
        )
    return country


def check_region(country: str, region: str, *, field: str = "region") -> str:
    """Return the full ISO 3166-2 code (``US-CA``) of ``region`` in ``country``; raise if none."""
    full = region if region.startswith(f"{country}-") else f"{country}-{region}"
    if _subdivision(full) is None:
        raise UnknownRegion(f"'{region}' is not an ISO 3166-2 subdivision of {country}", field=field)
    return full


@dataclass(frozen=True, slots=True)
class Place:
    """A checked location: its country, full subdivision code (or ""), territory, jurisdiction."""

    country: str
    subdivision: str
    territory: str

    def jurisdiction(self, *, field: str = "region") -> str:
        """The rate-table key; a US place needs its state."""
        if self.territory in _BY_REGION:
            if not self.subdivision:
                raise RegionRequired(
                    f"sales tax in {self.territory} is levied by state: give the region (e.g. CA)",
                    field=field,
                )
            return self.subdivision
        return self.territory


def place(country: str, region: str = "", *, field: str = "") -> Place:
    """Check a location and work out its territory. ``field`` prefixes error fields."""
    prefix = f"{field}." if field else ""
    country = check_country(country, field=f"{prefix}country")
    subdivision = check_region(country, region, field=f"{prefix}region") if region else ""
    territory = _TREATED_AS.get(country, country)
    if subdivision:
        code: str | None = subdivision
        # Walk up the hierarchy: the provinces of the Canaries (ES-GC, ES-TF) are outside the EU
        # VAT territory because their autonomous community (ES-CN) is.
        while code:
            if code in SPECIAL_TERRITORIES:
                territory = code
                break
            found = _subdivision(code)
            code = found[1] if found else None
    return Place(country=country, subdivision=subdivision, territory=territory)


def is_territory_code(code: str) -> bool:
    """A code a rule or rate may name: a country, a special territory or a US state (``US-CA``)."""
    if code in SPECIAL_TERRITORIES:
        return True
    if "-" in code:
        country, _, _ = code.partition("-")
        return country in _countries() and _subdivision(code) is not None
    return code in _countries()


def in_eu(territory: str, on: date) -> bool:
    """Whether ``territory`` is part of the EU VAT territory on ``on``."""
    period = _EU_MEMBERSHIP.get(territory)
    if period is None:
        return False
    start, end = period
    return (start is None or start <= on) and (end is None or on < end)


def eu_member_states(on: date) -> frozenset[str]:
    return frozenset(code for code in _EU_MEMBERSHIP if in_eu(code, on))

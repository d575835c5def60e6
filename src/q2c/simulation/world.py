"""The demo company's fixed world, made through the apps' public services: two legal entities,
their bank accounts, the catalog with price books per currency, a bundle and a usage tier card,
the sales team, and the customers.

Everything random is drawn from one ``random.Random(seed)`` in a fixed order, so the same seed
makes the same world. Names, VAT ids and IBANs are generated (valid check digits, fictitious
companies). See docs/simulation.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stdnum import luhn
from stdnum.iso7064 import mod_11_10

from q2c.simulation.behaviour import SEGMENTS, Segment

ACTOR = "demo"

ENTITIES: dict[str, dict[str, Any]] = {
    "DE": {
        "name": "Acme Cloud GmbH",
        "address_line1": "Friedrichstraße 100",
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
        "base_currency": "EUR",
        "time_zone": "Europe/Berlin",
        "tax_id": "DE136457858",
        "sepa_creditor_id": "DE98ZZZ09999999999",
        "email": "billing@acme-cloud.example",
        "payment_terms_days": 30,
    },
    "GB": {
        "name": "Acme Cloud Ltd",
        "address_line1": "1 Finsbury Avenue",
        "postal_code": "EC2M 2PF",
        "city": "London",
        "country": "GB",
        "base_currency": "GBP",
        "time_zone": "Europe/London",
        "tax_id": "GB123456782",
        "email": "billing@acme-cloud.example",
        "payment_terms_days": 30,
    },
}
BANK = {
    "DE": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "currency": "EUR"},
    "GB": {"iban": "GB29NWBK60161331926819", "bic": "NWBKGB2LXXX", "currency": "GBP"},
}

# Where customers are, which entity sells to them and in which currency (weights sum to 100).
MARKETS: tuple[tuple[str, str, str, str, int], ...] = (
    # country, entity, currency, locale, weight
    ("DE", "DE", "EUR", "de", 40),
    ("AT", "DE", "EUR", "de", 8),
    ("FR", "DE", "EUR", "fr", 10),
    ("NL", "DE", "EUR", "nl", 8),
    ("US", "DE", "USD", "en", 9),
    ("GB", "GB", "GBP", "en", 25),
)
CITIES = {
    "DE": [("Hamburg", "20457"), ("München", "80331"), ("Köln", "50667"), ("Leipzig", "04109")],
    "AT": [("Wien", "1010"), ("Graz", "8010")],
    "FR": [("Lyon", "69002"), ("Lille", "59000"), ("Nantes", "44000")],
    "NL": [("Utrecht", "3511"), ("Rotterdam", "3011")],
    "US": [("Austin", "78701"), ("Denver", "80202")],
    "GB": [("Manchester", "M1 1AE"), ("Leeds", "LS1 4DY"), ("Bristol", "BS1 4DJ")],
}
US_STATES = {"Austin": "TX", "Denver": "CO"}
SUFFIX = {"DE": "GmbH", "AT": "GmbH", "FR": "SARL", "NL": "B.V.", "US": "Inc.", "GB": "Ltd"}
FIRST = ("Blue", "North", "Bright", "Silver", "Green", "Iron", "Swift", "Clear", "Harbor", "Summit",
         "Cedar", "Falcon", "Granite", "Maple", "Orbit", "Pioneer", "Quartz", "River", "Stone", "Vertex")  # fmt: skip
SECOND = ("Logistics", "Foods", "Robotics", "Media", "Health", "Textiles", "Analytics", "Energy", "Retail",
          "Systems", "Labs", "Motors", "Finance", "Travel", "Printing", "Optics")  # fmt: skip
GIVEN = ("Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Lena", "Marc")
FAMILY = ("Berger", "Dubois", "Evans", "Fischer", "Jansen", "Klein", "Martin", "Novak", "Smith", "Weber")

# (login, role, first, last, team) — the demo users of users.py are part of the sales team.
SALES_TEAM = (
    ("max", "sales_manager", "Max", "Manager", "DACH & Europe"),
    ("rita", "sales_rep", "Rita", "Rep", "DACH & Europe"),
    ("rafael", "sales_rep", "Rafael", "Romero", "DACH & Europe"),
    ("sophie", "sales_rep", "Sophie", "Laurent", "DACH & Europe"),
    ("megan", "sales_manager", "Megan", "Hughes", "UK & North America"),
    ("tom", "sales_rep", "Tom", "Baker", "UK & North America"),
    ("priya", "sales_rep", "Priya", "Shah", "UK & North America"),
)

# The catalog: (sku, name, type, unit, tax category, revenue category, revenue rule, charge, EUR price)
# Prices in GBP and USD are the EUR price × the list factor below, rounded to whole units.
CATALOG: tuple[tuple[str, str, str, str, str, str, str, dict[str, Any], str], ...] = (
    ("SEAT-STD", "Platform seat — Standard", "subscription", "seat", "digital_service", "subscriptions",
     "ratable", {"code": "SUB", "kind": "recurring", "billing_period": "month"}, "30.00"),
    ("SEAT-PRO", "Platform seat — Professional", "subscription", "seat", "digital_service", "subscriptions",
     "ratable", {"code": "SUB", "kind": "recurring", "billing_period": "month"}, "55.00"),
    ("SUPPORT", "Premium support (yearly)", "subscription", "each", "service", "subscriptions",
     "ratable", {"code": "YEAR", "kind": "recurring", "billing_period": "year"}, "2400.00"),
    ("ONB", "Onboarding", "service", "each", "service", "services", "point_in_time",
     {"code": "FEE", "kind": "one_time"}, "5000.00"),
    ("TRAIN", "Training day", "service", "day", "service", "services", "point_in_time",
     {"code": "DAY", "kind": "one_time"}, "1200.00"),
    ("EDGE", "Edge appliance", "good", "device", "goods", "hardware", "point_in_time",
     {"code": "UNIT", "kind": "one_time"}, "2000.00"),
)  # fmt: skip
LIST_FACTOR = {"EUR": Decimal("1"), "GBP": Decimal("0.85"), "USD": Decimal("1.10")}
API_TIERS = (("0", "100000", "0.00"), ("100000", "1000000", "0.002"), ("1000000", None, "0.001"))


@dataclass
class Customer:
    account_id: int
    name: str
    entity: str  # "DE" or "GB"
    country: str
    currency: str
    segment: Segment
    owner: str  # login of the account's rep
    email: str


@dataclass
class World:
    entity_ids: dict[str, int]
    users: dict[str, Any]  # login → User
    teams: dict[str, list[str]]  # team → rep logins
    customers: list[Customer] = field(default_factory=list)


def _de_vat(rng: random.Random) -> str:
    body = str(rng.randint(10_000_000, 99_999_999))
    return "DE" + body + mod_11_10.calc_check_digit(body)


def _at_vat(rng: random.Random) -> str:
    from stdnum.at import uid

    body = "U" + str(rng.randint(1_000_000, 9_999_999))
    return "AT" + body + uid.calc_check_digit(body)


def _fr_vat(rng: random.Random) -> str:
    base = str(rng.randint(10_000_000, 99_999_999))
    siren = base + luhn.calc_check_digit(base)
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def _nl_vat(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        check = total % 11
        if check < 10:
            return "NL" + "".join(map(str, digits)) + str(check) + "B01"


VAT_IDS = {"DE": _de_vat, "AT": _at_vat, "FR": _fr_vat, "NL": _nl_vat}


IBAN_BANKS: dict[str, tuple[str, str]] = {
    "DE": ("37040044", ""), "AT": ("19043", ""), "FR": ("30006", "00001"), "NL": ("ABNA", ""),
    "GB": ("NWBK601613", ""),
}  # fmt: skip


def customer_iban(customer: Customer) -> str:
    """The customer's own bank account (a valid IBAN derived from the account id; US customers
    pay from a German account of theirs when they transfer at all)."""
    from schwifty import IBAN

    country = customer.country if customer.country != "US" else "DE"
    bank, branch = IBAN_BANKS[country]
    digits = {"DE": 10, "AT": 11, "FR": 11, "NL": 10, "GB": 8}[country]
    account = str(customer.account_id).rjust(digits, "0")
    if branch:
        return str(IBAN.generate(country, bank_code=bank, branch_code=branch, account_code=account))
    return str(IBAN.generate(country, bank_code=bank, account_code=account))


def seed_entities() -> dict[str, int]:
    from q2c.parties import services as parties

    ids = {}
    for code, fields in ENTITIES.items():
        entity = parties.create_entity(actor=ACTOR, **fields)
        parties.add_bank_account(entity.pk, actor=ACTOR, **BANK[code])
        ids[code] = entity.pk
    return ids


def seed_catalog() -> None:
    from q2c.catalog import services as catalog
    from q2c.catalog.models import UnitOfMeasure

    catalog.clear_cache()
    for code in ("seat", "each", "device", "day", "call"):
        if not UnitOfMeasure.objects.filter(code=code).exists():
            catalog.create_unit({"code": code, "name": code.capitalize(), "divisible": False}, actor=ACTOR)
    for currency in LIST_FACTOR:
        catalog.create_price_book(
            {"code": f"{currency}-LIST", "name": f"List prices {currency}", "currency": currency}, actor=ACTOR
        )
    for sku, name, kind, unit, tax, revenue, rule, charge, eur in CATALOG:
        catalog.create_product(
            {"sku": sku, "name": name, "type": kind, "unit": unit, "tax_category": tax,
             "revenue_category": revenue, "revenue_rule": rule},
            actor=ACTOR,
        )  # fmt: skip
        catalog.create_charge({"sku": sku, **charge}, actor=ACTOR)
        for currency, factor in LIST_FACTOR.items():
            price = (Decimal(eur) * factor).quantize(Decimal("1"))
            catalog.create_price_entry(
                {"price_book": f"{currency}-LIST", "sku": sku, "charge": charge["code"],
                 "model": "per_unit", "price": f"{price}.00"},
                actor=ACTOR,
            )  # fmt: skip
    catalog.create_product(
        {"sku": "API", "name": "API calls", "type": "usage", "unit": "call",
         "tax_category": "digital_service", "revenue_category": "usage", "revenue_rule": "as_used"},
        actor=ACTOR,
    )  # fmt: skip
    catalog.create_charge(
        {"sku": "API", "code": "CALLS", "kind": "usage", "billing_period": "month", "timing": "in_arrears",
         "usage_metric": "api_calls", "usage_aggregation": "sum"},
        actor=ACTOR,
    )  # fmt: skip
    for currency in LIST_FACTOR:
        catalog.create_price_entry(
            {"price_book": f"{currency}-LIST", "sku": "API", "charge": "CALLS", "model": "tiered",
             "tiers": [{"lower": lo, "upper": hi, "unit_price": p} if hi else {"lower": lo, "unit_price": p}
                       for lo, hi, p in API_TIERS]},
            actor=ACTOR,
        )  # fmt: skip


def seed_team() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The sales team: users with their roles (the demo logins of users.py included) and two
    teams, each with its manager."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from q2c.quotes import services as quotes

    User = get_user_model()
    users: dict[str, Any] = {}
    for login, role, first, last, _team in SALES_TEAM:
        user, created = User.objects.get_or_create(
            username=login,
            defaults={"first_name": first, "last_name": last, "email": f"{login}@acme-cloud.example"},
        )
        if created:
            user.set_unusable_password()
            user.save()
        user.groups.add(Group.objects.get(name=role))
        users[login] = user
    teams: dict[str, list[str]] = {}
    for team in dict.fromkeys(t for *_, t in SALES_TEAM):
        members = [login for login, role, *_, t in SALES_TEAM if t == team and role == "sales_rep"]
        (manager,) = [login for login, role, *_, t in SALES_TEAM if t == team and role == "sales_manager"]
        quotes.save_team(
            name=team,
            manager_id=users[manager].pk,
            member_ids=[users[m].pk for m in members],
            actor=ACTOR,
        )
        teams[team] = members
    return users, teams


def seed_customers(rng: random.Random, count: int, world: World) -> None:
    from q2c.parties import services as parties

    names: set[str] = set()
    countries = [m[0] for m in MARKETS]
    weights = [m[4] for m in MARKETS]
    segments = [s.name for s in SEGMENTS.values()]
    segment_weights = [s.share for s in SEGMENTS.values()]
    for _ in range(count):
        country = rng.choices(countries, weights)[0]
        _, entity, currency, locale, _w = next(m for m in MARKETS if m[0] == country)
        while True:
            name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {SUFFIX[country]}"
            if name not in names:
                break
            name = f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(SECOND)} {SUFFIX[country]}"
            if name not in names:
                break
        names.add(name)
        segment = SEGMENTS[rng.choices(segments, segment_weights)[0]]
        city, postal = rng.choice(CITIES[country])
        team = "UK & North America" if country in ("GB", "US") else "DACH & Europe"
        owner = rng.choice(world.teams[team])
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
        email = f"ap@{slug}.example"
        fields: dict[str, Any] = {
            "name": name,
            "entity_id": world.entity_ids[entity],
            "billing_line1": f"{rng.randint(1, 200)} Main Street" if country in ("GB", "US") else f"Hauptweg {rng.randint(1, 200)}",
            "billing_postal_code": postal,
            "billing_city": city,
            "country": country,
            "currency": currency,
            "kind": "business",
            "invoice_email": email,
            "locale": locale,
            "owner_id": world.users[owner].pk,
        }  # fmt: skip
        if country in VAT_IDS:
            fields["tax_id"] = VAT_IDS[country](rng)
        if country == "US":
            fields["billing_region"] = US_STATES[city]
        account = parties.create_account(actor=ACTOR, **fields)
        contact = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        parties.create_contact(
            account.pk, actor=ACTOR, name=contact, email=f"{contact.split()[0].lower()}@{slug}.example",
            is_primary=True, is_billing=True,
        )  # fmt: skip
        world.customers.append(Customer(account.pk, name, entity, country, currency, segment, owner, email))


def build(rng: random.Random, customers: int) -> World:
    """The world before day one (run inside the simulation's set-up)."""
    entity_ids = seed_entities()
    seed_catalog()
    users, teams = seed_team()
    world = World(entity_ids, users, teams)
    seed_customers(rng, customers, world)
    return world

"""Tax categories a product carries, and the EN 16931 VAT category codes (UNCL5305) a tax line
states. The catalog names a product's ``TaxCategory``; the tax engine decides the rate and the
VAT category code from it and the parties.

Must not import Django or any q2c package (the pure tax engine imports it).
"""

from __future__ import annotations

from enum import StrEnum


class TaxCategory(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    SUPER_REDUCED = "super_reduced"
    ZERO = "zero"
    EXEMPT = "exempt"
    DIGITAL_SERVICE = "digital_service"
    GOODS = "goods"
    SERVICE = "service"
    # Added with the tax engine: member states with two reduced rates (FR 10 % and 5.5 %, IT 10 %
    # and 5 %) need a way to name the second one, and five keep a "parking" rate (BE, IE, LU,
    # AT, PT). ``REDUCED`` is the higher reduced rate, ``REDUCED_2`` the lower one.
    REDUCED_2 = "reduced_2"
    PARKING = "parking"


class VatCategoryCode(StrEnum):
    """EN 16931 BT-118 / BT-151 codes (UNCL5305 subset)."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    OUTSIDE_SCOPE = "O"
    CANARY_ISLANDS = "L"
    CEUTA_MELILLA = "M"

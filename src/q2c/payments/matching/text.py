"""Reading remittance text and payer names the way a clerk would.

- :func:`number_key` — the digits of a document or customer number (``INV-2027-000002`` →
  ``2027000002``): what people type varies in prefix and separators, rarely in digits.
- :func:`number_candidates` — digit strings in remittance text that may be such numbers, with
  the usual slips repaired: letter O for zero and I/L for one inside numbers (``0000O2``), and
  groups split by spaces, dashes, dots or slashes joined again (``INV 2027 000002``).
- :func:`one_edit_neighbours` — every digit string one typo away (a character missing, extra,
  wrong, or two swapped), to look up numbers a payer mistyped.
- :func:`normalise_name` / :func:`name_score` — payer names compared without case, accents,
  punctuation or legal forms ("Müller & Söhne KG" ≈ "MUELLER UND SOEHNE"), scored 0–100 with
  rapidfuzz.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from functools import lru_cache

from rapidfuzz import fuzz

_NOT_DIGIT = re.compile(r"\D+")
_SEPARATOR = re.compile(r"[\s\-./_:#,]{1,3}")
_LOOKALIKE = str.maketrans("OIL", "011")
# A token ([A-Z0-9]+) that holds a digit: its leading letters, then the rest from the first digit.
# Groups: the leading letters, the numeric run from the first digit on, and the rest of the token.
_DIGIT_TOKEN = re.compile(r"(?<![A-Z0-9])([A-Z]*+)([0-9][0-9OIL]*+)([A-Z0-9]*+)")


_NOT_ASCII_DIGITS = bytes(c for c in range(256) if not 48 <= c <= 57)


def number_key(number: str) -> str:
    """The digits of a document number, in order."""
    if number.isascii():
        return number.encode("ascii").translate(None, _NOT_ASCII_DIGITS).decode("ascii")  # in C
    return _NOT_DIGIT.sub("", number)


_NOT_ASCII_DIGITS_OR_NEWLINE = bytes(c for c in range(256) if not (48 <= c <= 57 or c == 10))


def number_keys(numbers: list[str]) -> list[str]:
    """:func:`number_key` of each number: ASCII numbers (the usual case) in one pass in C.

    The numbers are joined by newlines, every byte but digits and newlines is deleted at once,
    and the result is split again — a million keys in a tenth of the per-number loop's time.
    """
    if not numbers:
        return []
    joined = "\n".join(numbers)
    if joined.isascii() and joined.count("\n") == len(numbers) - 1:
        return (
            joined.encode("ascii").translate(None, _NOT_ASCII_DIGITS_OR_NEWLINE).decode("ascii").split("\n")
        )
    return [number_key(n) for n in numbers]


def number_candidates(text: str, lengths: Collection[int], repaired: set[str] | None = None) -> list[str]:
    """Digit strings in ``text`` whose length is in ``lengths``, in order, without repeats.

    Adjacent numeric groups separated only by a few separator characters are also tried joined
    ("2027 0000O2" → "2027000002"), which is how people split long numbers. Candidates in which a
    look-alike letter was read as a digit are added to ``repaired`` when given.
    """
    if not text or not lengths:
        return []
    upper = text.upper()
    groups: list[list[str]] = []
    current: list[str] = []
    previous_end = -1
    open_ended = False
    # Only tokens holding a digit count; a token without one between two of them leaves letters
    # in the gap, which then is no separator: the groups are those of every token read in turn.
    for match in _DIGIT_TOKEN.finditer(upper):
        prefix, run, rest = match.groups()
        # Look-alike letters before the first digit belong to the number only when nothing else
        # precedes them ("O00002"); in "INV2027" the I is part of the prefix.
        at_start = not prefix.strip("OIL")
        if at_start and prefix:
            run = prefix + run
        at_end = not rest
        if open_ended and at_start:
            gap = upper[previous_end : match.start()]
            joinable = not gap or _SEPARATOR.fullmatch(gap) is not None
        else:
            joinable = False
        if not joinable and current:
            groups.append(current)
            current = []
        current.append(run)
        open_ended = at_end
        previous_end = match.end()
        if not at_end:
            groups.append(current)
            current, open_ended = [], False
    if current:
        groups.append(current)
    if not groups:
        return []
    wanted = lengths if isinstance(lengths, (set, frozenset)) else set(lengths)
    longest = max(wanted)
    out: dict[str, None] = {}
    for group in groups:
        if len(group) == 1:  # the usual case: one run
            joined = group[0]
            if len(joined) in wanted:
                if joined.isdigit():  # no look-alike letter in it
                    out[joined] = None
                else:
                    digits = joined.translate(_LOOKALIKE)
                    out[digits] = None
                    if repaired is not None and digits != joined:
                        repaired.add(digits)
            continue
        for i in range(len(group)):
            joined = ""
            for j in range(i, len(group)):
                joined += group[j]
                if len(joined) > longest:
                    break
                if len(joined) in wanted:
                    if joined.isdigit():  # no look-alike letter in it
                        out[joined] = None
                        continue
                    digits = joined.translate(_LOOKALIKE)
                    out[digits] = None
                    if repaired is not None and digits != joined:
                        repaired.add(digits)
    return list(out)


def one_edit_neighbours(digits: str, lengths: Collection[int]) -> set[str]:
    """All digit strings one edit away (deletion, insertion, substitution, adjacent swap)."""
    out: set[str] = set()
    n = len(digits)
    if n - 1 in lengths:
        out.update([digits[:i] + digits[i + 1 :] for i in range(n)])
    if n in lengths:
        for i in range(n):
            head, here, tail = digits[:i], digits[i], digits[i + 1 :]
            out.update([head + d + tail for d in "0123456789" if d != here])
        out.update([digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :] for i in range(n - 1)])
    if n + 1 in lengths:
        for i in range(n + 1):
            head, tail = digits[:i], digits[i:]
            out.update([head + d + tail for d in "0123456789"])
    out.discard(digits)
    return out


# Legal forms and filler words carry no identity ("Northwind Handels GmbH" = "NORTHWIND HANDELS").
_NOISE_WORDS = frozenset(
    [
        "GMBH",
        "MBH",
        "GES",
        "AG",
        "KG",
        "KGAA",
        "OHG",
        "UG",
        "EK",
        "CO",
        "COMPANY",
        "CORP",
        "CORPORATION",
        "INC",
        "INCORPORATED",
        "LLC",
        "LLP",
        "LP",
        "LTD",
        "LIMITED",
        "PLC",
        "SA",
        "SAS",
        "SARL",
        "SASU",
        "EURL",
        "SNC",
        "SPA",
        "SRL",
        "SRO",
        "AS",
        "ASA",
        "AB",
        "OY",
        "OYJ",
        "BV",
        "NV",
        "VOF",
        "SL",
        "SLU",
        "SP",
        "Z",
        "OO",
        "ZOO",
        "PTY",
        "THE",
        "AND",
        "UND",
        "ET",
        "DE",
        "DER",
        "DIE",
        "DAS",
        "LE",
        "LA",
        "LES",
        "VAN",
        "VON",
        "Y",
    ]
)
_UMLAUT_PAIRS = (("AE", "A"), ("OE", "O"), ("UE", "U"))
# Every ASCII character that is not a letter or digit separates words.
_PUNCTUATION = {c: " " for c in range(128) if not chr(c).isalnum()}
_PUNCTUATION_BYTES = bytes(32 if c < 128 and not chr(c).isalnum() else c for c in range(256))
_NON_WORD = re.compile(r"[\W_]+")


def normalise_name(name: str | None) -> str:
    """Upper case, accents and punctuation removed, umlaut spellings unified, legal forms dropped."""
    if not name:
        return ""
    return _normalise(name)


@lru_cache(maxsize=262_144)
def _normalise(name: str) -> str:
    # Dots go without a trace so "G.m.b.H." and "S.A.R.L." become the legal forms they spell.
    text = name.replace(".", "")
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.upper()
    for written, plain in _UMLAUT_PAIRS:
        if written in text:
            text = text.replace(written, plain)
    if text.isascii():  # one bytes.translate: what text.translate(_PUNCTUATION) gives
        words = text.encode("ascii").translate(_PUNCTUATION_BYTES).decode("ascii").split()
    else:
        words = _NON_WORD.sub(" ", text).split()
    return " ".join([w for w in words if w not in _NOISE_WORDS])


def name_score(payer: str, customer: str) -> int:
    """0–100: how surely two *normalised* names denote the same party.

    Token order does not matter; a payer name that contains every word of a customer name of two
    or more words (a city or department appended) counts as the same.
    """
    if not payer or not customer:
        return 0
    if payer == customer:
        return 100
    customer_words = customer.split()
    if len(customer_words) >= 2 and set(customer_words) <= set(payer.split()):
        return 100
    return int(fuzz.token_sort_ratio(payer, customer))


def best_name_score(payer: str, names: Iterable[str]) -> int:
    """The highest :func:`name_score` of ``payer`` against ``names`` (0 for none), the payer's
    words split once."""
    best = 0
    if not payer:
        return best
    payer_words: set[str] | None = None
    for customer in names:
        if not customer:
            continue
        if payer == customer:
            return 100  # no score is higher
        customer_words = customer.split()
        if len(customer_words) >= 2:
            if payer_words is None:
                payer_words = set(payer.split())
            if payer_words.issuperset(customer_words):
                return 100
        score = int(fuzz.token_sort_ratio(payer, customer))
        if score > best:
            best = score
    return best

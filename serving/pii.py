"""Personal data sent where a category belongs: found and replaced before the lead is scored.

A category field (campaign, industry, lead source...) is echoed in the reasons' labels and values and kept in
the scoring log's features, so an e-mail address, a phone number or a person's name typed into one by mistake
would be stored and shown. Before scoring, a request's category values that **the model never saw in training**
and look like one of those are replaced by :data:`MARKER`; the response names the fields (never the values).

- Known categories (seen in training, compared as the features step compares them: trimmed, whitespace
  collapsed, casefolded) are never replaced, whatever they look like ("Financial Services" stays).
- The score does not change: a value the model never saw is scored as unknown, and so is the marker.
- A "name" is two or three capitalised words (an initial, a title such as Dr. or Frau, and particles such as
  von or van allowed), or "Surname, Given-name", none of which is a word common in category values (Services,
  Sector, Energy, Messe...): a reasonable heuristic, not proof. It errs towards removal, which costs only the
  echo of a new category; a single surname ("Mustermann") is not caught.
- Other roles need no scrubbing: an e-mail column only becomes flags, a job title its seniority and function,
  free text its length, numbers and yes/no fields numbers; none of them is echoed or stored as given.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MARKER = "[personal data removed]"
# a lead's warning where MARKER replaced a value (names the fields, never the values)
REMOVED_WARNING = (
    "personal data (an e-mail address, phone number, name, bank account, profile or IP address) removed from "
    "field(s), scored as unknown"
)
PersonalKind = Literal["e-mail address", "phone number", "name", "bank account", "profile", "IP address"]

_EMAIL = re.compile(r"[^\s@<>(),;:\"']+@[^\s@<>(),;:\"']+\.[^\s@<>(),;:\"'\d]{2,}")
_PHONE_DIGITS = range(7, 16)  # E.164: at most 15 digits; fewer than 7 is an extension or a code
_PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00)\s?\d[\d\s()./-]{5,}\d")  # +49 170 1234567, anywhere
_PHONE_NATIONAL = re.compile(r"\(?0\d[\d\s()./-]{5,}\d")  # 0170 1234567, (030) 123 456 78: the whole value
_PHONE_NANP = re.compile(r"\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}")  # (555) 123-4567: the whole value
# a national number inside other text, after a phone's word or beside a name ("Tel. 030/1234567", "Zwackelmann
# Hildegard 0171 5556667"); alone in text it may be a code ("Produkt 0815-4711", "PLZ-Gebiet 01067-01099")
_PHONE_NATIONAL_IN_TEXT = re.compile(r"(?<![\w.])\(?0\d{2,5}\)?[\s/.-]?\d[\d\s./-]{3,}\d")
# any run of digits inside other text: a phone number only after a phone's word or beside a name ("call me
# 9876543210", "Rahul Sharma 9876543210": national numbers without a leading 0, as in India and the US)
_DIGITS_IN_TEXT = re.compile(r"(?<![\w.+])\d[\d\s./-]{5,}\d(?!\w)")
_PHONE_WORD = re.compile(
    r"(?:tel|phone|fon|mobil|handy|fax|ruf|call(?:\s+me)?(?:\s+(?:at|on))?|whatsapp|cell)[a-zäöü]*\.?:?\s*$",
    re.IGNORECASE,
)
_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}")  # 01.05.2024 is a date, not a number to call
# an IBAN: country, check digits, 11 to 30 characters of account, grouped by four or not; its checksum decides
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
_PROFILE_URL = re.compile(r"(linkedin\.com/in/|xing\.com/profile/|facebook\.com/|instagram\.com/)", re.IGNORECASE)
_IP_ADDRESS = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)")  # the whole value
_UPPER, _LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_WORD = rf"[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?(?:[-'][{_UPPER}]?[{_LOWER}]+)?"  # Anna, McKay, Mary-Jane
_TITLE = r"(?:(?:Dr|Prof|Mr|Mrs|Ms|Herr|Frau)\.?\s+)*"
_PARTICLE = r"(?:(?:von|van|de|der|den|del|da|di|du|la|le|zu|ten|ter)\s+){0,2}"
# one or two given names or initials, then a surname: Erika Mustermann, J. Smith, Ursula von der Leyen
# words apart by a space (an initial's point may touch): "YouTube" or "LinkedIn" is one word, no given name and surname
_NAME = re.compile(rf"{_TITLE}(?:(?:{_WORD}\s+|[{_UPPER}]\.\s*){_PARTICLE}){{1,2}}{_WORD}")
_SURNAME_FIRST = re.compile(rf"{_PARTICLE}{_WORD},\s*{_WORD}(?:\s+{_WORD})?")
# Words common in category values, in English and German: a value holding one is not taken for a name.
_CATEGORY_WORDS = frozenset(
    """
    ads affairs agency analytics association automotive autumn bank banking brand business campaign care center
    centre chemicals cloud company construction consulting content corporate data day days delivery demo design
    dienst dienstleistungen digital direct education einzelhandel energie energy engineering enterprise estate
    event events fair finance financial food form forum gas global goods google government group handel health
    healthcare hospitality industrie industry insurance it labs launch lead leads list logistics management
    manufacturing marketing media messe mining newsletter office oil online organic outbound paid partner
    partners pharma platform portal program programme public real referral research retail sales sector security
    sektor services social software solutions spring summer summit systems tech technology telecommunications
    trade transport travel utilities verwaltung webinar website week wholesale winter
    of the and for with from to in on at by und
    chat press release live click visit visits page pages search traffic source other others cities tier
    city united states kingdom republic emirates arabia zealand county island islands valley beach
    open closed lost cold warm call calls contacted qualified unqualified converted nurture
    working attempted interested customer customers prospect opportunity deal deals account accounts status
    budget revenue amount total value hotel email student students sources career
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# Places whose words are also people's names (Wei Hong, Kim West, Sri Mulyani): a compass point or "New" before a
# place (North Carolina, East London, New Hampshire), or the whole name of one.
_PLACE = re.compile(
    r"^(?:north|south|east|west|central|new|upper|lower|greater)[\s-]+\w|\b(?:hong\s+kong|sri\s+lanka|bay\s+area)\b",
    re.IGNORECASE,
)


def _digits(text: str) -> int:
    return sum(character.isdigit() for character in text)


def _is_phone(text: str) -> bool:
    for match in _PHONE_INTERNATIONAL.finditer(text):
        if _digits(match.group()) in _PHONE_DIGITS:
            return True
    whole = _PHONE_NATIONAL.fullmatch(text) or _PHONE_NANP.fullmatch(text)
    if whole is not None and _digits(text) in _PHONE_DIGITS and not _DATE.fullmatch(text):
        return True
    for match in (*_PHONE_NATIONAL_IN_TEXT.finditer(text), *_DIGITS_IN_TEXT.finditer(text)):
        number = match.group().strip()
        if _digits(number) not in _PHONE_DIGITS or _DATE.fullmatch(number):
            continue
        rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split())
        if _PHONE_WORD.search(text[: match.start()]) or _is_name(rest):
            return True
    return False


def _is_iban(text: str) -> bool:
    """An IBAN by ISO 13616's check: the account moved behind country and check digits, letters as 10..35, mod 97
    is 1 (a campaign code such as "KW12 Newsletter" or "DE12 ABCD 1234 5678" fails it)."""
    for match in _IBAN.finditer(text):
        compact = match.group().replace(" ", "")
        if not 15 <= len(compact) <= 34:
            continue
        rearranged = compact[4:] + compact[:4]
        if int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1:
            return True
    return False


def _is_name(text: str) -> bool:
    if not (_NAME.fullmatch(text) or _SURNAME_FIRST.fullmatch(text)):
        return False
    words = re.findall(r"[^\W\d_]+", text.casefold())
    return not any(word in _CATEGORY_WORDS for word in words) and not _PLACE.search(text)


def personal_kind(value: str, names: bool = True) -> PersonalKind | None:
    """What personal data ``value`` looks like (an e-mail address, a bank account (IBAN), a social profile's
    address, an IP address, a phone number, a name), or None.

    Args:
        value: a category value as the CRM sent it.
        names: also look for a person's name (off for field names, where "Lead Owner" is no one).
    """
    text = " ".join(value.split())
    if _EMAIL.search(text):
        return "e-mail address"
    if _is_iban(text):
        return "bank account"
    if _PROFILE_URL.search(text):
        return "profile"
    if _IP_ADDRESS.fullmatch(text):
        return "IP address"
    if _is_phone(text):
        return "phone number"
    if names and _is_name(text):
        return "name"
    return None


def _category_key(value: str) -> str:
    return " ".join(value.split()).casefold()  # as the features step compares categories


@dataclass(frozen=True)
class CategoryFields:
    """A model's category fields: export column -> the categories it saw in training, and its feature's name."""

    known: Mapping[str, frozenset[str]]
    feature_of: Mapping[str, str]


_FIELDS: weakref.WeakKeyDictionary[Any, CategoryFields] = weakref.WeakKeyDictionary()


def category_fields(pipeline: Any) -> CategoryFields:
    """The category fields of a model pipeline (features -> encode -> classifier); read once per pipeline."""
    cached = _FIELDS.get(pipeline)
    if cached is None:
        columns: dict[str, str] = pipeline.named_steps["features"].verbatim_columns  # feature -> export column
        codes: Mapping[str, Mapping[str, float]] = pipeline.named_steps["encode"].codes_
        cached = CategoryFields(
            known={column: frozenset(codes.get(feature, {})) for feature, column in columns.items()},
            feature_of={column: feature for feature, column in columns.items()},
        )
        _FIELDS[pipeline] = cached
    return cached


def scrub_record(record: Mapping[str, object], fields: CategoryFields) -> tuple[dict[str, object], list[str]]:
    """``record`` with personal-looking unknown category values replaced by :data:`MARKER`, and those fields' names.

    ``record`` is not changed. Values the model saw in training are kept as they are.
    """
    scrubbed = dict(record)
    removed = []
    for column, known in fields.known.items():
        value = record.get(column)
        if isinstance(value, str) and _category_key(value) not in known and personal_kind(value):
            scrubbed[column] = MARKER
            removed.append(column)
    return scrubbed, removed

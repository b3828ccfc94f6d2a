"""The mapping file: which column of a raw CRM export plays which role, as a typed, validated object.

Every export, the synthetic demo included, is read through one (``leadq inspect`` proposes it)::

    columns:
      "Lead ID": id
      "Converted": {role: outcome, won: ["1", "Closed Won"], lost: ["0", "Closed Lost"]}
      # or, where the export only dates the win: "Won Date": won_at (empty: lost once the label horizon passed;
      # without creation dates {role: won_at, blank: lost}: empty is lost at once)
      "No. of Employees": count              # a non-negative whole number
      "Email": email                         # only email_is_freemail, ..._has_valid_email, ..._is_competitor
      "Job Title": job_title                 # only job_title_seniority, ..._function, ..._is_student_or_intern
      "Webinar Visits": {role: count, group: engagement}   # fit or engagement (default: guessed from the name)
      "Consent Tracking": {role: consent, gates: ["Webinar Visits"]}   # gated features need a clear yes
      "Last Call Outcome": after_contact     # known only after sales touched the lead: never a feature
      "Account ID": account                  # the company: its leads are rolled up (else: business e-mail domains)
    tables:                                  # instead of an outcome column: further files in the CRM's words
      deals: {file: opportunities.csv, key: "Lead Id", outcome: {column: Stage, won: ["Closed Won"]}}
    monotone_constraints: {webinar_visits: 1}     # by feature name
    points_rule: {mql_points: 10, lines: [{feature: webinar_visits, at_least: 1, points: 10}]}

``load_mapping`` reads and validates the YAML (errors name the file and the key path),
``check_against_export`` compares it with the export's header, ``dump_mapping`` writes it back.
The full design is in the README ("Bring your own CRM export").
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import pandas as pd
import yaml
from anyascii import anyascii
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from models.cleaning import DEFAULT_PLACEHOLDERS  # one list for the loader, the cleaning and leadq inspect
from models.contract import ACTIVITY_KINDS, STAGES
from models.contract import REJECTION_REASONS as REASONS
from models.engagement import EngagementWindows, ScoringMoment
from models.features import InputColumn, InputRole
from models.rule_score import PointsRule, check_features

Role = Literal[
    "id",
    "created_at",
    "outcome",
    "outcome_at",
    "won_at",
    "stage",
    "reason",
    "numeric",
    "categorical",
    "multi_select",
    "boolean",
    "text",
    "count",
    "email",
    "job_title",
    "consent",
    "pii",
    "account",
    "after_contact",
    "ignore",
]
ROLES: tuple[str, ...] = get_args(Role)
# Roles whose columns become model features (email and job_title only through derived features such as
# email_is_freemail or job_title_seniority; the text itself never).
FEATURE_ROLES: tuple[str, ...] = (
    "numeric", "count", "categorical", "multi_select", "boolean", "text", "email", "job_title"
)  # fmt: skip
# The separators of a multi-select picklist's options in one cell ("ERP; CRM", Mailchimp's tags "Webinar, Ebook")
OPTION_SEPARATORS = (";", ",", "|")
# Roles the model reads at scoring time: the features, and the consent that gates some of them.
INPUT_ROLES: tuple[str, ...] = (*FEATURE_ROLES, "consent")
# Roles of columns that neither a feature nor a label is made from (the leak guard still reads after_contact ones).
UNREAD_ROLES: tuple[str, ...] = ("after_contact", "ignore", "pii")
# leadq's stage and reason words are declared once, in models.contract.
# A feature describes who the lead is (fit) or what it did (engagement); grades score the two separately.
Group = Literal["fit", "engagement"]
GROUPS: tuple[str, ...] = get_args(Group)
# (min, max) columns per role; outcome_at: when the lead was won or lost (checks date columns for leaks);
# won_at: when the lead was won, empty if it was not: the outcome of an export that only dates wins
# account: the CRM's account (company) id, never a feature: leads of one account are rolled up (models.accounts)
_SINGLE_ROLES = {
    "id": (1, 1),
    "created_at": (0, 1),
    "outcome_at": (0, 1),
    "won_at": (0, 1),
    "stage": (0, 1),
    "reason": (0, 1),
    "account": (0, 1),
}
# The lead id of an export without ids (lead_ids: row_number): the row, 1 = the first row after the header
ROW_NUMBER_ID = "leadq_row"
RARE_CATEGORY_SHARE = 0.005  # of the training rows: a rarer category is grouped as "other" (rare_category_share)
_FEATURE_NAME = re.compile(r"[a-z][a-z0-9_]*")
# A column whose name mentions one of these words (English or German, in snake_case, optionally inflected)
# describes what the lead did: engagement. Any other feature column describes who the lead is: fit.
_ENGAGEMENT_WORDS = (
    "visit",
    "website",
    "web",
    "time",
    "spent",
    "view",
    "seen",
    "source",
    "campaign",
    "channel",
    "origin",
    "newsletter",
    "unsubscribe",
    "subscribe",
    "pricing",
    "content",
    "trial",
    "signup",
    "engagement",
    "quelle",
    "kampagne",
    "zeit",
    "page",
    "pageview",
    "session",
    "open",
    "oeffnung",  # "E-Mail-Öffnungen"
    "geoeffnet",
    "click",
    "download",
    "webinar",
    "event",
    "demo",
    "activity",
    "activities",
    "form",
    "time_on",
    "besuch",
    "klick",
    "veranstaltung",
    "formular",
    "aufruf",
    "seitenaufruf",
    # French and Spanish: Visitas, Sesiones, Téléchargements, Descargas, Campagne, Campaña, Origen, Fuente, Clics,
    # Événements, Formulaire, Páginas vistas, E-mails ouverts, Correos abiertos
    "visita",
    "sesion",
    "telechargement",
    "descarga",
    "campagne",
    "campana",
    "origen",
    "fuente",
    "clic",
    "evenement",
    "evento",
    "formulaire",
    "vista",
    "ouvert",
    "abierto",
    # a channel's other names: a UTM medium, Marketo's Acquisition Program
    "medium",
    "acquisition",
    "sitzung",  # HubSpot's German "Anzahl der Sitzungen"
    "geklickt",
    "angeklickt",  # "Marketing-E-Mails angeklickt"
    # a web analytics export's session measures ("ProductRelated_Duration", "BounceRates", "TrafficType")
    "duration",
    "bounce",
    "exit",
    "traffic",
    "landing",
    "utm",
    # how the lead heard of you: channels by another name
    "hear",
    "search",
    "referral",
    "referrer",
    "recommendation",
    "empfehlung",
    "advertisement",
    "advertising",
    "werbung",
    "anzeige",
    # a lead source in Portuguese, Italian, Dutch, Polish, the Nordic languages, Czech, Turkish ("Origem", "Fonte",
    # "Bron", "Źródło", "Källa", "Kilde", "Lähde", "Zdroj", "Kaynak"): how the lead came
    "origem",
    "fonte",
    "origine",
    "bron",
    "zrodlo",
    "kaella",
    "kalla",
    "kilde",
    "laehde",
    "lahde",
    "zdroj",
    "kaynak",
    # what the lead chose about being contacted: opting in or out is something it did
    "opt_in",
    "optin",
    "opt_out",
    "optout",
    "opted_in",
    "opted_out",
    "do_not",
    "abgemeldet",
    "abmeldung",
    # a product trial's use and a form's conversions: what the lead did ("projects_created", "invites_sent",
    # "days_active", HubSpot's "First Conversion"); whole phrases where a word alone says who the lead is
    # ("Number of Active Users", "Project Budget", "Integration Needs")
    "conversion",
    "login",
    "invite",
    "usage",
    "days_active",
    "active_days",
    "last_active",
    "projects?_(?:created|added|started)",
    "integrations?_(?:connected|added|enabled|installed|set_up)",
)
_ENGAGEMENT_NAME = re.compile(r"(?:^|_)(?:" + "|".join(_ENGAGEMENT_WORDS) + r")(?:s|es|d|ed|ing|ings|en|e)?(?:_|$)")
# German compounds carry the word inside ("Leadquelle", "Webseitenbesuche", "Kampagnenname").
_ENGAGEMENT_COMPOUND = re.compile(r"quelle|besuch|kampagne|seitenaufruf|sitzung|formular|klicks?(?:_|$)")
# Names that hold an engagement word but describe who the lead is ("Time Zone": where, not how long).
_FIT_NAME = re.compile(r"(?:^|_)time_?zones?(?:_|$)")
# German umlauts written out; letters NFKD does not split into a Latin letter and a mark (Polish ł in "Płeć", Danish
# and Norwegian ø, æ, Turkish ı in "Satış") written as their Latin letters, not dropped
_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
        "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "đ": "d", "Đ": "D",
        "ı": "i", "İ": "I",
    }
)  # fmt: skip


class MappingError(ValueError):
    """The mapping file is missing, malformed or does not fit the export; the message names the file and key."""


def normalize_value(value: object) -> str:
    """How outcome, stage and reason values are compared: trimmed and case-insensitive."""
    return str(value).strip().casefold()


def option_key(option: object) -> str:
    """How a multi-select column's options are compared, as the features step compares categories: trimmed, inner
    spaces collapsed, case-insensitive ("Pricing  Page" is "pricing page")."""
    return " ".join(normalize_value(option).split())


def _in_latin_letters(character: str) -> str:
    """A letter of another script (Cyrillic, Greek, CJK, ...) in Latin letters (anyascii's transliteration); any other
    character as it is. Latin letters and their marks are left to NFKD and the table above, as before: the feature
    names of exports in Latin script stay what they were (a champion's mapping names them)."""
    if character.isascii() or not character.isalpha() or unicodedata.name(character, "").startswith("LATIN"):
        return character
    return anyascii(character)


def to_snake_case(text: str) -> str:
    """A feature name from a column name: "No. of Employees" -> "no_of_employees", "Größe" -> "groesse", "Дата
    создания" -> "data_sozdaniya", "作成日" -> "zuo_cheng_ri" (a kanji's Chinese reading: no Japanese word, but each
    header its own name)."""
    latin = "".join(map(_in_latin_letters, text.translate(_TRANSLITERATION)))
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    # Split camelCase ("AnnualRevenue") before lowercasing.
    ascii_text = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", ascii_text)
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not name:
        return "column"
    return f"col_{name}" if name[0].isdigit() else name


def option_label(column: str, option: str) -> str:
    """How the leakage guard and its evidence name one option of a multi-select column: "Interessen: ERP"."""
    return f"{column}: {option}"


def option_features(name: str, options: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Each option of a multi-select column with its feature name, ``<name>_<option in snake_case>`` made unique
    ("Interessen" ERP -> ``interessen_erp``)."""
    taken: set[str] = set()
    named: list[tuple[str, str]] = []
    for option in options:
        base = candidate = f"{name}_{to_snake_case(option)}"
        suffix = 2
        while candidate in taken:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(candidate)
        named.append((option, candidate))
    return tuple(named)


def guess_group(column: str) -> Group:
    """Fit or engagement from a column's name, for feature columns whose mapping gives no ``group``.

    Engagement if the name speaks of what the lead did or how it came: visits, website, time spent, pages,
    views, sessions, opens, clicks, downloads, webinars, events, demos, activity, forms, trials, newsletter,
    pricing, content, opting in or out, lead source, campaign, channel, referral or search, as whole words
    (English or German: "Form Submissions", "EmailOpens", "Total Time Spent on Website", "Webinar besucht",
    "Do Not Email"); fit otherwise ("Industry", "Job Title", "Platform", "Time Zone"). ``leadq inspect`` writes
    the guess into the proposed mapping; set ``group:`` there where it guesses wrong.
    """
    name = to_snake_case(column)
    named = _ENGAGEMENT_NAME.search(name) or _ENGAGEMENT_COMPOUND.search(name)
    return "engagement" if named and not _FIT_NAME.search(name) else "fit"


def _suggest(word: str, candidates: Iterable[str]) -> str:
    by_folded = {candidate.casefold(): candidate for candidate in candidates}
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(by_folded[c]) for c in close)}?)" if close else ""


def _as_strings(values: object) -> object:
    # YAML written by hand or by Python code may hold 1, True or 1.0 where the export holds "1", "true".
    if isinstance(values, list | tuple):
        return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return values


def _feature_roles_only(value: object, key: str, info: ValidationInfo) -> None:
    role = info.data.get("role")
    if value is not None and role not in FEATURE_ROLES:
        raise ValueError(f"{key} applies only to feature roles ({', '.join(FEATURE_ROLES)}), not {role}")


def _refuse_unknown_words(values: Mapping[str, str], word: str, allowed: tuple[str, ...]) -> None:
    """Export word -> leadq word: each leadq word must be one of ``allowed`` (a stage, a reason, an activity kind)."""
    wrong = {key: value for key, value in values.items() if value not in allowed}
    if wrong:
        key, value = next(iter(wrong.items()))
        raise ValueError(f"{key}: {value!r} is not a leadq {word}; expected one of: {', '.join(allowed)}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Spec):
    """The role of one export column; ``"Col": numeric`` is shorthand for ``{role: numeric}``."""

    role: Role
    won: list[str] | None = Field(None, validate_default=True, description="outcome: the values that mean won")
    lost: list[str] | None = Field(
        None,
        validate_default=True,
        description="outcome: the values that mean lost; [] where none does (a lifecycle stage: lost once the label "
        "horizon has passed since created_at without a won value)",
    )
    untouched: list[str] | None = Field(
        None,
        description='outcome: the open values that say sales has not touched the lead yet ("Open - Not Contacted"): '
        "the leakage guard stops a column filled for the leads sales worked and empty for these",
    )
    recycled: list[str] | None = Field(
        None,
        description='outcome: the open values that say sales recycled the lead to nurture ("Nurture", "Not now - '
        'recontact Q3"): the need is there, not now; unlabelled whatever their age, never aged into lost',
    )
    excluded: list[str] | None = Field(
        None,
        description='outcome: the values whose rows are no leads (Pipedrive\'s deleted deals, "Deleted", "Gelöscht"): '
        "left out of training and of leadq score, never labelled",
    )
    values: dict[str, str] | None = Field(
        None, validate_default=True, description="stage: export value -> leadq stage; reason: -> leadq reason"
    )
    name: str | None = Field(None, description="feature name override (default: the column name in snake_case)")
    group: Group | None = Field(
        None, description="feature roles: fit (who the lead is) or engagement (what it did); default: guessed"
    )
    gates: list[str] | None = Field(
        None, validate_default=True, description="consent: the columns whose values need this consent"
    )
    blank: Literal["unknown", "no", "lost"] | None = Field(
        None,
        description="what an empty cell means; boolean: no for a checkbox column only ever ticked ('x' or blank); "
        "outcome: lost for a column that marks only the wins ('Converted': 'Yes' or empty) in an export without "
        "creation dates; won_at: lost for a lead without a win date, in an export without creation dates; default "
        "unknown (outcome: unlabelled; won_at: lost once labels.horizon_days have passed since created_at)",
    )

    options: list[str] | None = Field(
        None,
        validate_default=True,
        description="multi_select: the options the model reads, one yes/no feature each (compared ignoring case); "
        "values not listed are left out",
    )
    separator: str | None = Field(None, description="multi_select: what separates a cell's options (default ;)")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        spec = {"role": data} if isinstance(data, str) or data is None else data
        if isinstance(spec, dict) and "role" in spec:
            role = spec["role"]
            if role is None:
                raise ValueError(f"no role given; expected one of: {', '.join(ROLES)}")
            if isinstance(role, str) and role not in ROLES:
                raise ValueError(f"unknown role {role!r}{_suggest(role, ROLES)}; expected one of: {', '.join(ROLES)}")
        return spec

    @field_validator("won", "lost", "untouched", "recycled", "excluded", "options", mode="before")
    @classmethod
    def _string_values(cls, values: object) -> object:
        return _as_strings(values)

    @field_validator("options")
    @classmethod
    def _multi_select_options(cls, options: list[str] | None, info: ValidationInfo) -> list[str] | None:
        role = info.data.get("role")
        if role != "multi_select":
            if options is not None:
                raise ValueError(f"options applies only to role multi_select, not {role}")
            return options
        if not options or not all(option.strip() for option in options):
            raise ValueError(
                "role multi_select needs options: the choices the model reads, e.g. options: [ERP, CRM, BI]"
            )
        seen: dict[str, str] = {}
        for option in options:
            twin = seen.setdefault(option_key(option), option)
            if twin != option or options.count(option) > 1:
                raise ValueError(f"options {twin!r} and {option!r} are one option (compared ignoring case)")
        return options

    @field_validator("separator")
    @classmethod
    def _option_separator(cls, separator: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if separator is not None and role != "multi_select":
            raise ValueError(f"separator applies only to role multi_select, not {role}")
        if separator is not None and separator not in OPTION_SEPARATORS:
            raise ValueError(f"separator {separator!r}; expected one of {' '.join(OPTION_SEPARATORS)}")
        return separator

    @field_validator("excluded")
    @classmethod
    def _excluded_values(cls, values: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if values is not None and info.data.get("role") != "outcome":
            raise ValueError(f"excluded applies only to role outcome, not {info.data.get('role')}")
        fields = ("won", "lost", "untouched", "recycled")
        listed = {normalize_value(v) for field in fields for v in info.data.get(field) or ()}
        if both := sorted({normalize_value(v) for v in values or ()} & listed):
            raise ValueError(
                f"excluded {', '.join(map(repr, both))} listed as won, lost, untouched or recycled too: an excluded "
                "row is no lead"
            )
        return values

    @field_validator("untouched", "recycled")
    @classmethod
    def _open_outcome_values(cls, values: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if values is not None and info.data.get("role") != "outcome":
            raise ValueError(f"{info.field_name} applies only to role outcome, not {info.data.get('role')}")
        closed = {normalize_value(v) for v in [*(info.data.get("won") or ()), *(info.data.get("lost") or ())]}
        if info.field_name == "recycled":
            untouched = {normalize_value(v) for v in info.data.get("untouched") or ()}
            if overlap := sorted({normalize_value(v) for v in values or ()} & untouched):
                raise ValueError(
                    f"recycled {', '.join(map(repr, overlap))} listed in untouched too: a recycled lead was worked"
                )
        if info.field_name == "recycled" and (both := sorted({normalize_value(v) for v in values or ()} & closed)):
            listed = ", ".join(map(repr, both))
            raise ValueError(f"recycled {listed} listed in won or lost too: recycled are open values")
        return values

    @field_validator("won", "lost")
    @classmethod
    def _outcome_values(cls, values: list[str] | None, info: ValidationInfo) -> list[str] | None:
        role, field = info.data.get("role"), info.field_name
        if role != "outcome":
            if values is not None:
                raise ValueError(f"{field} applies only to role outcome, not {role}")
            return values
        if field == "lost" and values is None:
            return values  # needed unless blank: lost says what lost is (checked once blank is read)
        if not values and not (field == "lost" and values == []):
            raise ValueError(
                f"role outcome needs the export values that mean {field}, e.g. {field}: "
                + ('["1", "true", "Closed Won"]' if field == "won" else '["0", "false", "Closed Lost"]')
            )
        if field == "lost" and info.data.get("won"):
            both = sorted({normalize_value(v) for v in values} & {normalize_value(v) for v in info.data["won"]})
            if both:
                raise ValueError(f"{', '.join(map(repr, both))} listed in both won and lost (compared ignoring case)")
        return values

    @field_validator("values")
    @classmethod
    def _mapped_values(cls, values: dict[str, str] | None, info: ValidationInfo) -> dict[str, str] | None:
        role = info.data.get("role")
        if role not in ("stage", "reason"):
            if values is not None:
                raise ValueError(f"values applies only to roles stage and reason, not {role}")
            return values
        if role == "stage" and not values:
            raise ValueError(
                f"role stage needs values mapping the export's values to leadq stages ({', '.join(STAGES)}), "
                'e.g. values: {"Working - Contacted": sal, "Qualified": sql, "Disqualified": rejected}'
            )
        _refuse_unknown_words(values or {}, str(role), STAGES if role == "stage" else REASONS)
        return values

    @field_validator("name")
    @classmethod
    def _feature_name(cls, name: str | None, info: ValidationInfo) -> str | None:
        _feature_roles_only(name, "name", info)
        if name is not None and not _FEATURE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a feature name; expected snake_case like {to_snake_case(name)!r}")
        return name

    @field_validator("group", mode="before")
    @classmethod
    def _known_group(cls, group: object) -> object:
        if isinstance(group, str) and group not in GROUPS:
            raise ValueError(f"unknown group {group!r}{_suggest(group, GROUPS)}; expected one of: {', '.join(GROUPS)}")
        return group

    @field_validator("group")
    @classmethod
    def _feature_group(cls, group: Group | None, info: ValidationInfo) -> Group | None:
        _feature_roles_only(group, "group", info)
        return group

    @field_validator("gates")
    @classmethod
    def _consent_gates(cls, gates: list[str] | None, info: ValidationInfo) -> list[str] | None:
        role = info.data.get("role")
        if role != "consent":
            if gates is not None:
                raise ValueError(f"gates applies only to role consent, not {role}")
            return gates
        if not gates:
            raise ValueError(
                "role consent needs gates: the columns that may only be used with this consent, e.g. "
                'gates: ["Website Visits", "Email Opens"]'
            )
        return gates

    @field_validator("blank")
    @classmethod
    def _blank_of_role(cls, blank: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        allowed = {"boolean": ("unknown", "no"), "outcome": ("unknown", "lost"), "won_at": ("lost",)}
        if blank is not None and role not in allowed:
            raise ValueError(f"blank applies only to roles boolean, outcome and won_at, not {role}")
        if blank is not None and blank not in allowed[str(role)]:
            expected = " or ".join(allowed[str(role)])
            raise ValueError(f"blank: {blank} does not apply to role {role}; expected {expected}")
        return blank

    @model_validator(mode="after")
    def _options_without_separator(self) -> ColumnSpec:
        separator = self.separator or OPTION_SEPARATORS[0]
        holding = [option for option in self.options or () if separator in option]
        if holding:
            raise ValueError(
                f"option {holding[0]!r} holds the separator {separator!r}, which splits a cell's options; expected "
                f"another separator: ({' '.join(OPTION_SEPARATORS)})"
            )
        return self

    @model_validator(mode="after")
    def _lost_values(self) -> ColumnSpec:
        if self.role != "outcome":
            return self
        if self.lost is None and self.blank != "lost":
            raise ValueError(
                'role outcome needs the export values that mean lost, e.g. lost: ["0", "false", "Closed Lost"] '
                "(or blank: lost where only the wins are marked and an empty cell means lost)"
            )
        if self.lost == [] and self.blank == "lost":
            raise ValueError(
                "lost: [] counts a lead without a won value as lost once labels.horizon_days have passed, blank: lost "
                "counts an empty cell as lost at once: keep one"
            )
        return self

    def outcome_of(self, value: object) -> Literal["won", "lost"] | None:
        """``won``, ``lost`` or None (open or unknown) for a value of the outcome column."""
        return self.outcome_reader()(value)

    def outcome_reader(self) -> Callable[[object], Literal["won", "lost"] | None]:
        """:meth:`outcome_of` with the won and lost values normalised once, for a column's every value (an amount
        read as an outcome has thousands of won values)."""
        won = frozenset(normalize_value(v) for v in self.won or ())
        lost = frozenset(normalize_value(v) for v in self.lost or ())

        def read(value: object) -> Literal["won", "lost"] | None:
            token = normalize_value(value)
            return "won" if token in won else "lost" if token in lost else None

        return read

    def is_recycled(self, value: object) -> bool:
        """Whether a value of the outcome column is one of its ``recycled`` open values."""
        return normalize_value(value) in {normalize_value(v) for v in self.recycled or ()}

    def labels(self, values: pd.Series) -> pd.Series:
        """An outcome column's labels: 1.0 won, 0.0 lost, NaN open or unknown; an empty cell (NaN: placeholders
        removed) is lost under ``blank: lost``, else unknown."""
        outcome = values.map(self.outcome_reader(), na_action="ignore")
        if self.blank == "lost":
            outcome = outcome.where(values.notna(), "lost")
        return outcome.map({"won": 1.0, "lost": 0.0}).astype("float64")

    def mapped_value(self, value: object) -> str | None:
        """The leadq stage or reason for a value of a stage or reason column (None: not mapped)."""
        return {normalize_value(k): v for k, v in (self.values or {}).items()}.get(normalize_value(value))


class ValuesColumn(_Spec):
    """A column of a further table whose words the mapping translates (a deal stage, a lead status, a reason)."""

    column: str
    won: list[str] | None = Field(None, description="deal outcome: the values that mean won")
    lost: list[str] | None = Field(None, description="deal outcome: the values that mean lost")
    values: dict[str, str] | None = Field(None, description="stage or reason: export value -> leadq word")

    @field_validator("won", "lost", mode="before")
    @classmethod
    def _string_values(cls, values: object) -> object:
        return _as_strings(values)

    def word_of(self, value: object) -> str | None:
        """The leadq word for a value (won/lost, or the mapped stage or reason); None: not mapped (open)."""
        token = normalize_value(value)
        if self.won is not None or self.lost is not None:
            if token in {normalize_value(v) for v in self.won or ()}:
                return "won"
            return "lost" if token in {normalize_value(v) for v in self.lost or ()} else None
        return {normalize_value(k): v for k, v in (self.values or {}).items()}.get(token)


def _identity(words: tuple[str, ...]) -> dict[str, str]:
    return {word: word for word in words}


class _TableSpec(_Spec):
    """A further table of the export: its file (relative to the export's folder) and how it joins the leads."""

    file: Path
    key: str = Field("lead_id", description="the column holding the lead's id (or the value of lead_column)")
    lead_column: str | None = Field(None, description="the leads' column the key matches (default: the id column)")

    @model_validator(mode="before")
    @classmethod
    def _file_shorthand(cls, data: Any) -> Any:
        return {"file": data} if isinstance(data, str | Path) else data


class DealsSpec(_TableSpec):
    """Deals or opportunities: a deal won within the label horizon makes its lead won.

    Without ``outcome``, every row is a won deal (a won-deals export: presence = won, ``closed_at`` = when).
    Defaults are leadq's own column names and words.
    """

    deal_id: str | None = "deal_id"
    created_at: str | None = "created_at"
    closed_at: str = "closed_at"
    amount: str | None = "amount_eur"
    outcome: ValuesColumn | None = ValuesColumn(column="outcome", won=["won"], lost=["lost"])

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome_values(cls, value: object) -> object:
        if isinstance(value, dict) and not value.get("won"):
            raise ValueError('a deal outcome needs the values that mean won, e.g. {column: Stage, won: ["Closed Won"]}')
        return value


class DispositionsSpec(_TableSpec):
    """What sales did with each lead, dated: stage words (and rejection reasons) translated to leadq's."""

    timestamp: str = "timestamp"
    stage: ValuesColumn = ValuesColumn(column="stage", values=_identity(STAGES))
    reason: ValuesColumn | None = ValuesColumn(column="reason", values=_identity(REASONS))
    sales_team: str | None = "sales_team"

    @field_validator("stage", "reason")
    @classmethod
    def _leadq_words(cls, spec: ValuesColumn | None, info: ValidationInfo) -> ValuesColumn | None:
        if spec is None:
            return spec
        allowed = STAGES if info.field_name == "stage" else REASONS
        if not spec.values:
            raise ValueError(f"{info.field_name} needs values: export word -> leadq word ({', '.join(allowed)})")
        _refuse_unknown_words(spec.values, str(info.field_name), allowed)
        return spec


class ActivitiesSpec(_TableSpec):
    """What each lead did, dated: the CRM's activity types translated to leadq's kinds, and how engagement is read.

    Each mapped kind becomes point-in-time features (``models.engagement``): counts over ``windows_days``, days
    since the last one, and a sum decayed by half every ``half_life_days``, all from activities strictly before
    the lead's scoring moment in training (``moment``), and as of the run when scoring.
    """

    timestamp: str = "timestamp"
    kind: ValuesColumn = ValuesColumn(column="kind", values=_identity(ACTIVITY_KINDS))
    detail: str | None = Field(None, description="optional: the page, asset or campaign (kept, not a feature)")
    moment: ScoringMoment = Field(
        "first_disposition",
        description="training's scoring moment: created (plus days_after_created), the first disposition, or the "
        "first MQL disposition; a lead without such a disposition falls back to created plus days_after_created",
    )
    days_after_created: float = Field(7.0, ge=0, description="days after creation the moment falls (or falls back)")
    windows_days: list[int] = Field(default_factory=lambda: [7, 30, 90], min_length=1)
    half_life_days: float = Field(30.0, gt=0)

    @field_validator("kind")
    @classmethod
    def _leadq_kinds(cls, spec: ValuesColumn) -> ValuesColumn:
        if not spec.values:
            raise ValueError(f"kind needs values: export word -> leadq kind ({', '.join(ACTIVITY_KINDS)})")
        _refuse_unknown_words(spec.values, "activity kind", ACTIVITY_KINDS)
        return spec

    @field_validator("windows_days")
    @classmethod
    def _positive_windows(cls, windows: list[int]) -> list[int]:
        if any(days <= 0 for days in windows) or len(set(windows)) != len(windows):
            raise ValueError(f"expected distinct positive whole days, e.g. [7, 30, 90]; got {windows}")
        return sorted(windows)

    def windows(self) -> EngagementWindows:
        """The engagement features this table gives: the kinds it maps, in leadq's order."""
        mapped = set((self.kind.values or {}).values())
        kinds = tuple(kind for kind in ACTIVITY_KINDS if kind in mapped)
        return EngagementWindows(kinds, tuple(self.windows_days), self.half_life_days)


class TablesSpec(_Spec):
    """Further tables of the export (dispositions and deals omitted: one table with an outcome column).

    Each is a file with its own column names and words, e.g. a deals/opportunities table whose presence or
    stage decides won and whose close date is when; a file name alone means leadq's own column names. Activities
    give point-in-time engagement features, not labels.
    """

    dispositions: DispositionsSpec | None = None
    deals: DealsSpec | None = None
    activities: ActivitiesSpec | None = None


class LeakageSpec(_Spec):
    """The leak guard: features that predict the outcome too well are refused unless the user vouches for them."""

    max_single_feature_auc: float = Field(0.95, gt=0.5, le=1.0)
    max_missingness_auc: float = Field(0.95, gt=0.5, le=1.0)
    allowed: list[str] = Field(default_factory=list, description="columns the user vouches for")


class ExportMapping(_Spec):
    """A whole mapping file; build it with :func:`load_mapping` or from a dict with ``model_validate``."""

    tables: TablesSpec = TablesSpec()
    placeholders: list[str] = Field(default_factory=lambda: list(DEFAULT_PLACEHOLDERS))
    rare_category_share: float = Field(RARE_CATEGORY_SHARE, ge=0, lt=0.5)
    leakage: LeakageSpec = LeakageSpec()
    monotone_constraints: dict[str, Literal[-1, 1]] = Field(
        default_factory=dict, description="feature name -> 1 (can only raise the score) or -1 (only lower it)"
    )
    points_rule: PointsRule | None = Field(None, description="the team's points rule, scored as a baseline")
    lead_ids: Literal["column", "row_number"] = Field(
        "column",
        description="column: one column has role id; row_number: the export has no ids, a lead is its row "
        f"(1 = the first row after the header), named {ROW_NUMBER_ID!r}",
    )
    repeated_ids: Literal["refuse", "first"] = Field(
        "refuse",
        description="an id in rows that differ in a column leadq reads: refuse the export, or keep the id's first "
        "row (as leadq score does: a contact join repeating a deal, a second form submission)",
    )
    columns: dict[str, ColumnSpec]

    @field_validator("placeholders", mode="before")
    @classmethod
    def _string_placeholders(cls, values: object) -> object:
        return _as_strings(values)

    @field_validator("monotone_constraints", mode="before")
    @classmethod
    def _signs(cls, constraints: object) -> object:
        # The mapping loader keeps scalars as text: "1" and "-1" are the signs.
        if isinstance(constraints, dict):
            return {
                k: int(v) if isinstance(v, str) and v.strip() in ("1", "-1", "+1") else v
                for k, v in constraints.items()
            }
        return constraints

    @model_validator(mode="after")
    def _roles_fit_together(self) -> ExportMapping:
        problems = [*self._count_problems(), *self._name_problems(), *self._gate_problems()]
        features = self.derived_feature_names() if self.monotone_constraints or self.points_rule else []
        if self.points_rule is not None:
            try:
                check_features(self.points_rule, features)
            except ValueError as error:
                problems.append(f"points_rule: {error}")
        for feature in self.monotone_constraints:
            if feature not in features:
                problems.append(
                    f"monotone_constraints: {feature!r} is not a feature of this mapping{_suggest(feature, features)}; "
                    f"expected some of: {', '.join(features)}"
                )
        options = [
            option_label(column, option)
            for column, spec in self.columns.items()
            if spec.role == "multi_select"
            for option in spec.options or ()
        ]
        missing_words = {option_key(word) for word in self.placeholders} | {""}
        for column, spec in self.columns.items():
            said = [option for option in spec.options or () if option_key(option) in missing_words]
            if said:
                problems.append(
                    f"columns.{column}.options: {said[0]!r} is also a word for missing (placeholders), so it is never "
                    "read as chosen; take it out of placeholders or of options"
                )
        for column in self.leakage.allowed:
            if column not in self.columns and column not in options:
                problems.append(
                    f"leakage.allowed: {column!r} is not a mapped column{_suggest(column, [*self.columns, *options])}"
                    "; expected names from columns (or an option of a multi_select column: 'Tags: Webinar')"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _count_problems(self) -> list[str]:
        problems = []
        single_table = self.tables.dispositions is None and self.tables.deals is None
        won_at = self.won_at_column
        limits = {**_SINGLE_ROLES, "outcome": (1 if single_table and won_at is None else 0, 0 if won_at else 1)}
        if won_at is not None:
            problems += self._won_at_problems(won_at, single_table)
        if self.wins_only and self.outcome_column is not None:
            problems += self._won_at_problems(self.outcome_column, single_table, "an outcome with lost: []")
        if self.lead_ids == "row_number":
            limits["id"] = (0, 0)
            if not single_table or self.tables.activities is not None:
                problems.append(
                    "lead_ids: row_number numbers the leads by their row, and tables join by the lead id; "
                    "map the export's id column (role id) to use tables"
                )
        for role, (least, most) in limits.items():
            columns = self.columns_with(role)
            if least <= len(columns) <= most:
                continue
            expected = "exactly one column" if least == most else "at most one column"
            if role == "id" and self.lead_ids == "row_number":
                problems.append(
                    f"columns: {', '.join(map(repr, columns))} has role id, and lead_ids is row_number; "
                    "expected one of the two (lead_ids: column, the default, uses the id column)"
                )
            elif not columns and role == "id":
                problems.append(
                    'columns: no column has role id; expected exactly one (the lead\'s ID, e.g. "Lead ID": id), '
                    "or lead_ids: row_number when the export has no ids"
                )
            elif not columns:
                problems.append(
                    "columns: no column has role outcome; expected exactly one, e.g. "
                    '"Converted": {role: outcome, won: ["1"], lost: ["0"]} (or a won date: "Won Date": won_at; '
                    "or set tables.dispositions / tables.deals)"
                )
            elif role == "outcome" and won_at is not None:
                problems.append(
                    f"columns: {columns[0]!r} has role outcome and {won_at!r} has role won_at; expected one of the "
                    "two (won_at: a lead is won when it has a win date)"
                )
            else:
                problems.append(
                    f"columns: expected {expected} with role {role}, "
                    f"got {len(columns)}: {', '.join(map(repr, columns))}"
                )
        return problems

    def _won_at_problems(self, column: str, single_table: bool, described_as: str = "role won_at") -> list[str]:
        """What a label source that says only who won (``won_at``, or an outcome with ``lost: []``) lacks."""
        problems = []
        if not single_table:
            problems.append(
                f"columns: {column!r} has {described_as}, and tables.dispositions / tables.deals also say how leads "
                "ended; expected one of the two"
            )
        if self.created_at_column is None and self.columns[column].blank != "lost":
            problems.append(
                f"columns: {column!r} has {described_as}, which needs a created_at column: a lead that is not won "
                "counts as lost only once labels.horizon_days have passed since it came in"
            )
        if self.created_at_column is not None and self.columns[column].blank == "lost":
            problems.append(
                f"columns: {column!r} has blank: lost, which counts a lead without a win date lost however young, "
                f"and {self.created_at_column!r} dates the leads: drop blank: lost, so young leads stay open"
            )
        return problems

    def _gate_problems(self) -> list[str]:
        problems = []
        # A consent may also gate the activities table's features (e.g. web visits need the tracking consent).
        engagement = set(self.tables.activities.windows().feature_names()) if self.tables.activities else set()
        for column in self.columns_with("consent"):
            for gated in self.columns[column].gates or ():
                if gated in engagement:
                    continue
                if gated not in self.columns or self.columns[gated].role not in FEATURE_ROLES:
                    problems.append(
                        f"columns.{column}.gates: {gated!r} is not a feature column"
                        f"{_suggest(gated, self.columns_with(*FEATURE_ROLES))}; expected feature columns"
                    )
        return problems

    def _name_problems(self) -> list[str]:
        named: dict[str, list[str]] = {}
        for column, spec in self.columns.items():
            if spec.name:
                named.setdefault(spec.name, []).append(column)
        problems = [
            f"columns: feature name {name!r} given to {len(columns)} columns: {', '.join(map(repr, columns))}"
            for name, columns in named.items()
            if len(columns) > 1
        ]
        if self.tables.activities is not None:
            taken = set(self.columns) | set(self.feature_names().values())
            clashes = [name for name in self.tables.activities.windows().feature_names() if name in taken]
            if clashes:
                problems.append(
                    f"tables.activities: its features {clashes} have the names of mapped columns or features; "
                    "rename those (name: ...) or map them as ignore"
                )
        return problems

    def columns_with(self, *roles: str) -> list[str]:
        """The mapped columns with any of ``roles``, in mapping order."""
        return [column for column, spec in self.columns.items() if spec.role in roles]

    @property
    def id_column(self) -> str:
        """The id column; with ``lead_ids: row_number`` the row-number column leadq adds (:func:`with_row_ids`)."""
        return ROW_NUMBER_ID if self.lead_ids == "row_number" else self.columns_with("id")[0]

    @property
    def ids_in_export(self) -> bool:
        return self.lead_ids == "column"

    @property
    def created_at_column(self) -> str | None:
        return next(iter(self.columns_with("created_at")), None)

    @property
    def outcome_column(self) -> str | None:
        return next(iter(self.columns_with("outcome")), None)

    @property
    def outcome_at_column(self) -> str | None:
        return next(iter(self.columns_with("outcome_at")), None)

    def excluded_rows(self, frame: pd.DataFrame) -> pd.Series:
        """Which rows of ``frame`` the outcome's ``excluded`` values say are no leads (False where the column is
        not in ``frame``)."""
        column = self.outcome_column
        excluded = self.columns[column].excluded if column is not None else None
        if column is None or not excluded or column not in frame.columns:
            return pd.Series(False, index=frame.index)
        keys = {normalize_value(value) for value in excluded}
        return frame[column].map(lambda value: isinstance(value, str) and normalize_value(value) in keys).astype(bool)

    @property
    def won_at_column(self) -> str | None:
        return next(iter(self.columns_with("won_at")), None)

    @property
    def wins_only(self) -> bool:
        """The outcome column says only who won (``lost: []``, a lifecycle stage): the rest are lost once the label
        horizon has passed, as with a ``won_at`` column."""
        column = self.outcome_column
        return column is not None and self.columns[column].lost == []

    @property
    def account_column(self) -> str | None:
        """The CRM's account id column; without one, accounts come from business e-mail domains."""
        return next(iter(self.columns_with("account")), None)

    def feature_names(self) -> dict[str, str]:
        """Feature column -> feature name: the ``name`` override or the column in snake_case, made unique."""
        features = self.columns_with(*FEATURE_ROLES)
        taken = {self.columns[c].name for c in features if self.columns[c].name}
        names: dict[str, str] = {}
        for column in features:
            override = self.columns[column].name
            if override:
                names[column] = override
                continue
            base = candidate = to_snake_case(column)
            suffix = 2
            while candidate in taken:
                candidate, suffix = f"{base}_{suffix}", suffix + 1
            taken.add(candidate)
            names[column] = candidate
        return names

    def input_columns(self) -> tuple[InputColumn, ...]:
        """The columns the model reads, in mapping order, as its features step takes them (consent included), then
        the engagement features of the activities table (computed, not exported: ``models.engagement``)."""
        names, groups = self.feature_names(), self.feature_groups()
        engagement = self.tables.activities.windows().input_columns() if self.tables.activities else ()
        return (
            *(
                InputColumn(
                    column=column,
                    role=cast(InputRole, spec.role),
                    name=names.get(column, to_snake_case(column)),
                    group=groups.get(column, "fit"),
                    gates=tuple(spec.gates or ()),
                    blank_is_no=spec.blank == "no",
                    options=option_features(names.get(column, to_snake_case(column)), spec.options or ()),
                    separator=spec.separator or OPTION_SEPARATORS[0],
                )
                for column, spec in self.columns.items()
                if spec.role in INPUT_ROLES
            ),
            *engagement,
        )

    def derived_feature_names(self) -> list[str]:
        """Every feature the mapping gives, in mapping order."""
        return [feature for mapped in self.input_columns() for feature, _ in mapped.derived_features()]

    def feature_groups(self) -> dict[str, Group]:
        """Feature column -> fit or engagement: the ``group`` given, or :func:`guess_group` from the column name."""
        return {
            column: self.columns[column].group or guess_group(column) for column in self.columns_with(*FEATURE_ROLES)
        }


@dataclass(frozen=True)
class MappingCheck:
    """How a mapping fits an export's header."""

    missing: tuple[str, ...]  # mapped but absent from the export
    # of those, the columns never read (after_contact, ignore, pii): a later export may leave them out
    missing_unread: tuple[str, ...]
    unmapped: tuple[str, ...]  # in the export but not in the mapping: reported and ignored
    feature_columns: tuple[str, ...]  # mapped with a feature role and present, in mapping order
    feature_names: Mapping[str, str]  # feature column -> snake_case feature name

    def feature_name(self, column: str) -> str:
        """The feature name of a feature column; KeyError for any other column."""
        try:
            return self.feature_names[column]
        except KeyError:
            raise KeyError(
                f"{column!r} is not a feature column; feature columns: {list(self.feature_columns)}"
            ) from None


def padding_matches(header: list[str], names: Iterable[str]) -> dict[str, str]:
    """The export's columns that are ``names`` but for spaces around them (Excel keeps "Lead Source " as typed; a
    later export may not): export column -> name, where exactly one column matches a name the header lacks."""
    by_trimmed: dict[str, list[str]] = {}
    for column in header:
        by_trimmed.setdefault(column.strip(), []).append(column)
    present = set(header)
    matches = {}
    for name in names:
        found = by_trimmed.get(name.strip(), [])
        if name not in present and len(found) == 1 and found[0] not in matches:
            matches[found[0]] = name
    return matches


def check_against_export(mapping: ExportMapping, columns: list[str], *, allow_missing: bool = False) -> MappingCheck:
    """Compare the mapping with the export's columns.

    A column mapped after_contact, ignore or pii may be absent: nothing is made from it (a later export saved
    without the first one's empty trailing column, or with a notes field removed, still reads).

    Raises:
        MappingError: a mapped column of any other role is absent from the export (unless ``allow_missing``); the
            message lists each one with the export's closest column names.
    """
    present = set(columns)
    missing = tuple(column for column in mapping.columns if column not in present)
    missing_unread = tuple(column for column in missing if mapping.columns[column].role in UNREAD_ROLES)
    needed = [column for column in missing if column not in missing_unread]
    if needed and not allow_missing:
        unmapped_names = [c for c in columns if c not in mapping.columns]
        listed = "; ".join(f"{column!r}{_suggest(column, unmapped_names or columns)}" for column in needed)
        raise MappingError(
            f"mapped column(s) not in the export: {listed}; the export has: {', '.join(map(repr, columns))}"
        )
    names = mapping.feature_names()
    features = tuple(column for column in names if column in present)
    return MappingCheck(
        missing=missing,
        missing_unread=missing_unread,
        unmapped=tuple(column for column in columns if column not in mapping.columns),
        feature_columns=features,
        feature_names={column: names[column] for column in features},
    )


class _MappingLoader(yaml.SafeLoader):
    """Plain scalars stay strings (an export's "yes", "1" or "NO" are values, not booleans); duplicate keys fail."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (each column may appear once)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_MappingLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            text = part if re.fullmatch(r"[\w-]+", part) else f'"{part}"'
            path += f".{text}" if path else text
    return path


def _format_validation_error(error: ValidationError, source: str) -> str:
    lines: list[str] = []
    for item in error.errors():
        loc = item["loc"]
        message = str(item["ctx"]["error"]) if item["type"] == "value_error" else item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key" + _suggest(str(loc[-1]), _expected_keys(loc[:-1]))
        prefix = f"{source}: {_key_path(loc)}: " if loc else f"{source}: "
        lines.extend(prefix + line for line in message.splitlines())
    return "\n".join(lines)


def _expected_keys(parent: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = ExportMapping
    if parent[:1] == ("columns",):
        model = ColumnSpec
    elif parent[:1] == ("leakage",):
        model = LeakageSpec
    elif parent[:2] == ("tables", "deals"):
        model = DealsSpec
    elif parent[:2] == ("tables", "dispositions"):
        model = DispositionsSpec
    elif parent[:1] == ("tables",):
        model = TablesSpec
    return list(model.model_fields)


def parse_mapping(text: str, source: str = "mapping") -> ExportMapping:
    """Validate mapping YAML; errors name ``source`` and the key path, e.g. ``mapping.yml: columns.Converted.won``."""
    try:
        content = yaml.load(text, Loader=_MappingLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as error:
        raise MappingError(f"{source}: not valid YAML: {error}") from error
    if not isinstance(content, dict):
        raise MappingError(
            f"{source}: expected a mapping with at least a columns section, got {type(content).__name__}"
        )
    try:
        return ExportMapping.model_validate(content)
    except ValidationError as error:
        raise MappingError(_format_validation_error(error, source)) from error


def load_mapping(path: Path | str) -> ExportMapping:
    """Read and validate a mapping file; a missing, malformed or invalid file raises MappingError naming it."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"{path}: mapping file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: could not be read: {error}") from error
    return parse_mapping(text, str(path))


def _flow(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=2**31 - 1, sort_keys=False)
    text = text.removesuffix("...\n").strip()
    # a line break in a name or value ("Lead\nSource" from a header cell with Alt+Enter) would span lines: JSON's
    # escapes keep it on one, and JSON is YAML
    return json.dumps(value, ensure_ascii=False) if "\n" in text else text


def _column_entry(spec: ColumnSpec) -> str | dict[str, object]:
    entry = spec.model_dump(mode="json", exclude_none=True)
    return spec.role if entry.keys() == {"role"} else entry


def dump_mapping(mapping: ExportMapping, header: str | None = None, notes: Mapping[str, str] | None = None) -> str:
    """The mapping as YAML that :func:`load_mapping` reads back unchanged; one line per column.

    Args:
        header: comment lines written first (without the ``#``).
        notes: column -> a comment written at the end of the column's line.
    """
    settings = mapping.model_dump(mode="json", exclude={"columns"})
    lines = [f"# {line}".rstrip() for line in (header or "").splitlines()]
    lines.append(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, default_flow_style=None).rstrip())
    lines.append("columns:")
    for column, spec in mapping.columns.items():
        note = " ".join(notes[column].split()) if notes and notes.get(column) else ""  # one line, always
        note = f"  # {note}" if note else ""
        lines.append(f"  {_flow(column)}: {_flow(_column_entry(spec))}{note}")
    return "\n".join(lines) + "\n"

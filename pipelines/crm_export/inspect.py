"""``leadq inspect``: profile a raw CRM export and propose a mapping file for the user to review.

Reading keeps every cell as the text in the file (a German "1.200" stays "1.200", an ID "00123" keeps its
zeros); the profile says what each column looks like, and :func:`propose_mapping` guesses each column's role
(and each feature's group, fit or engagement) from its name and content: e-mail columns become ``email`` and
job titles ``job_title`` (only derived features), consent columns ``consent`` gating the columns their name
speaks of, non-negative whole numbers named like counts ``count``. Example values of e-mail, name and phone
columns are redacted: raw PII is never printed or written.
"""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd

from models.cleaning import DEFAULT_PLACEHOLDERS
from models.job_titles import OTHER, classify_title
from pipelines.crm_export.mapping import (
    FEATURE_ROLES,
    ColumnSpec,
    ExportMapping,
    MappingError,
    Role,
    guess_group,
    normalize_value,
    to_snake_case,
)

Kind = Literal[
    "empty",
    "id-like",
    "date",
    "number",
    "number-as-text",
    "boolean-like",
    "category",
    "free text",
    "e-mail",
    "person name",
    "phone",
]
PROPOSAL_HEADER = (
    "proposed by leadq inspect: review every line\n"
    "roles: id, created_at, outcome, outcome_at, stage, reason (which lead, when, how it ended: never features);\n"
    "  numeric, count, categorical, boolean, text, email, job_title (features; group: fit = who the lead is,\n"
    "  engagement = what it did); consent (gates: columns used only where the lead said a clear yes);\n"
    "  pii, after_contact, ignore (never features)\n"
    "email, job_title: only derived features (freemail, competitor, seniority, function...); never the text itself\n"
    "after_contact: known only after sales touched the lead (status, owner, last activity): never a feature"
)
KIND_SAMPLE = 50_000  # rows the kind is inferred from (missing share and cardinality use every row)
MAX_CATEGORIES = 50
LONG_TEXT_CHARS = 30

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TEXT_NUMBER = re.compile(
    r"[+-]?\s*[€$£]?\s*(\d{1,3}([.,' ]\d{3})+|\d+)([.,]\d+)?\s*(k|m|mio\.?|tsd\.?|%|€|eur|usd|\$)?", re.IGNORECASE
)
_DOT_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")
_DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?)?"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}(,?\s+\d{1,2}:\d{2}(:\d{2})?\s*([AaPp][Mm])?)?"
)
_BOOLEAN_TRUE = {"1", "true", "yes", "y", "ja", "j", "t", "x", "wahr", "on", "checked"}
_BOOLEAN_FALSE = {"0", "false", "no", "n", "nein", "f", "falsch", "off", "unchecked"}
_WON = _BOOLEAN_TRUE | {"won", "closed won", "closed - won", "gewonnen", "converted", "customer", "kunde"}
_LOST = _BOOLEAN_FALSE | {"lost", "closed lost", "closed - lost", "verloren", "not converted", "disqualified"}

# Names, as snake_case, of columns the heuristics look for.
_ID_NAME = re.compile(r"(^|_)(id|key|nr|no|nummer|number)$|^id_")
_CREATED_NAME = re.compile(r"creat|erstellt|angelegt")
# A date named like the moment the lead was won or lost: the leakage guard checks other dates against it.
_OUTCOME_AT_NAME = re.compile(r"clos|convert|won_|lost_|abschluss|gewonnen|verloren")
_OUTCOME_NAMES = (
    "converted",
    "is_converted",
    "konvertiert",
    "is_won",
    "won",
    "gewonnen",
    "outcome",
    "status",
    "result",
    "ergebnis",
)
_AFTER_CONTACT_NAME = re.compile(
    r"status|stage|phase|disqualif|reason|grund|owner|besitzer|inhaber|last_([a-z]+_)?activit|last_call|"
    r"last_modified|opportunit|amount|closed|converted_|rating|lead_quality|^tags?$|^sales_"
)
_STAGE_NAME = re.compile(r"status|stage|phase")
_REASON_NAME = re.compile(r"reason|grund")
_PERSON_NAME = re.compile(r"(^|_)(first|last|full|given|family|sur|vor|nach|contact|kontakt)_?name$|^name$")
_PHONE_NAME = re.compile(r"phone|telefon|mobil|handy|fax")
# Job titles: names that can only mean one, and names that may (then the values must read as titles).
_JOB_TITLE_NAME = re.compile(
    r"job_?tit(le|el)|(^|_)(berufsbezeichnung|stellenbezeichnung|job_position|job_role|job_function)(_|$)"
)
_MAYBE_JOB_TITLE_NAME = re.compile(r"(^|_)(title|titel|position|role|rolle|funktion|function|job|beruf)$")
MIN_TITLE_SHARE = 0.5  # of the rows: values in which the job-title vocabulary finds a seniority or a function
# A consent: yes = the lead agreed. Its opposite (yes = the lead objected) is a plain feature, never a gate.
_CONSENT_NAME = re.compile(
    r"(^|_)(consent[a-z]*|opt_?in|opted_in|permission[a-z]*|einwilligung[a-z]*|zustimmung[a-z]*|gdpr|dsgvo)(_|$)"
)
_OBJECTION_NAME = re.compile(
    r"(^|_)(do_not|dont|opt_?out|opted_out|unsubscri[a-z]*|abgemeldet|abmeldung|widerspruch|widerruf[a-z]*)(_|$)"
)
_TRACKING_CONSENT_NAME = re.compile(r"track|cookie|web|analytic|site|visit|besuch")
# Feature columns a consent gates, by what their name speaks of (snake_case words, optionally inflected).
_TRACKED_NAME = re.compile(
    r"(^|_)(visit|website|web|site|time|spent|page|pageview|view|session|besuch|seite|seitenaufruf|aufruf|zeit|"
    r"pricing)(s|es|e|en|ed)?(_|$)"
)
_EMAIL_ENGAGEMENT_NAME = re.compile(r"(^|_)(open|click|klick|oeffnung|geoeffnet)(s|es|e|en|ed|ungen)?(_|$)")
# Counts: non-negative whole numbers named like one, and not a rate or score ("Page Views Per Visit").
_COUNT_NAME = re.compile(
    r"(^|_)(count|counts|anzahl|number_of|num_of|no_of|nr_of|visits|views|pageviews|downloads|opens|clicks|"
    r"sessions|submissions|besuche|aufrufe|seitenaufrufe|klicks|oeffnungen|employees|mitarbeiter[a-z]*)(_|$)"
)
_RATE_NAME = re.compile(r"(^|_)(per|pro|avg|average|mean|rate|ratio|share|percent|pct|score|index|durchschnitt)(_|$)")
_WHOLE_NUMBER = re.compile(r"\d+(\.0+)?|\d{1,3}([.,' ]\d{3})+")
# Export value (as normalize_value gives it) -> leadq stage, checked in this order (disqualified before qualified).
_STAGE_WORDS: tuple[tuple[str, str], ...] = (
    ("not convert", "rejected"),
    ("not contacted", "mql"),
    ("disqualif", "rejected"),
    ("unqualif", "rejected"),
    ("not qualified", "rejected"),
    ("reject", "rejected"),
    ("abgelehnt", "rejected"),
    ("junk", "rejected"),
    ("lost", "rejected"),
    ("nurtur", "recycled"),
    ("recycl", "recycled"),
    ("wiedervorlage", "recycled"),
    ("qualifi", "sql"),
    ("sql", "sql"),
    ("convert", "sql"),
    ("working", "sal"),
    ("contacted", "sal"),
    ("kontaktiert", "sal"),
    ("accepted", "sal"),
    ("in progress", "sal"),
    ("in bearbeitung", "sal"),
    ("sal", "sal"),
    ("new", "mql"),
    ("neu", "mql"),
    ("open", "mql"),
    ("offen", "mql"),
    ("mql", "mql"),
)
_REASON_WORDS: tuple[tuple[str, str], ...] = (
    ("budget", "no_budget"),
    ("competitor", "competitor"),
    ("wettbewerb", "competitor"),
    ("student", "student_intern"),
    ("intern", "student_intern"),
    ("praktikant", "student_intern"),
    ("size", "wrong_size"),
    ("small", "wrong_size"),
    ("groesse", "wrong_size"),
    ("größe", "wrong_size"),
    ("geograph", "wrong_geography"),
    ("country", "wrong_geography"),
    ("region", "wrong_geography"),
    ("title", "wrong_title"),
    ("role", "wrong_title"),
    ("position", "wrong_title"),
    ("timing", "wrong_timing"),
    ("not now", "wrong_timing"),
    ("later", "wrong_timing"),
    ("spam", "bad_data"),
    ("fake", "bad_data"),
    ("invalid", "bad_data"),
    ("bad data", "bad_data"),
    ("duplicate", "bad_data"),
)


def _placeholders() -> frozenset[str]:
    return frozenset(normalize_value(token) for token in DEFAULT_PLACEHOLDERS)


def _present(series: pd.Series, placeholders: frozenset[str]) -> pd.Series:
    """The non-missing values as stripped text; placeholders ("N/A", "Select", ...) count as missing."""
    text = series.dropna().astype(str).str.strip()
    return text[~text.str.casefold().isin(placeholders)]


def _share(values: pd.Series, pattern: re.Pattern[str]) -> float:
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def _infer_kind(column: str, values: pd.Series, distinct: int) -> Kind:
    name = to_snake_case(column)
    folded = values.str.casefold()
    if values.empty:
        return "empty"
    if _share(values, _EMAIL) >= 0.8:
        return "e-mail"
    if _PERSON_NAME.search(name):
        return "person name"
    if _PHONE_NAME.search(name):
        return "phone"
    unique = distinct == len(values) and len(values) > 1
    if unique and _ID_NAME.search(name):
        return "id-like"
    if distinct <= 2 and folded.isin(_BOOLEAN_TRUE | _BOOLEAN_FALSE).all():
        return "boolean-like"
    if _share(values, _DATE) >= 0.95:
        return "date"
    if _share(values, _PLAIN_NUMBER) == 1.0:
        dotted = values[values.str.contains(".", regex=False)]
        thousands = len(dotted) > 0 and bool(dotted.str.fullmatch(_DOT_THOUSANDS).all())
        return "number-as-text" if thousands else "number"
    if _share(values, _TEXT_NUMBER) >= 0.95:
        return "number-as-text"
    if unique and not values.str.contains(r"\s").any() and values.str.contains(r"\d").mean() >= 0.9:
        return "id-like"  # codes such as 00Q5g000001abcD or L-1042
    repeated = distinct < len(values) or len(values) < MAX_CATEGORIES  # small exports: every value may be rare
    short = values.str.len().mean() < LONG_TEXT_CHARS
    if repeated and short and distinct <= max(MAX_CATEGORIES, len(values) // 20):
        return "category"
    return "free text"


def _redact(value: str, kind: Kind) -> str:
    if kind == "person name":
        return " ".join(f"{word[:1]}***" for word in value.split())
    if kind == "phone":
        return f"{value[:3]}***"
    # E-mail addresses anywhere (an e-mail column, or one inside a description): keep the first letter and domain.
    shown = _EMAIL.sub(lambda m: f"{m.group()[:1]}***@{m.group().split('@', 1)[1]}", value)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def profile_export(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: column, dtype (as read), kind, missing_share, cardinality, examples (PII redacted).

    Placeholders such as "", "N/A", "Select" or "--None--" count as missing.
    """
    placeholders = _placeholders()
    rows = []
    for column in frame.columns:
        values = _present(frame[column], placeholders)
        counts = values.value_counts()
        sample = values.sample(KIND_SAMPLE, random_state=0) if len(values) > KIND_SAMPLE else values
        kind = _infer_kind(str(column), sample, sample.nunique())
        rows.append(
            {
                "column": str(column),
                "dtype": str(frame[column].dtype),
                "kind": kind,
                "missing_share": 1 - len(values) / len(frame) if len(frame) else 1.0,
                "cardinality": len(counts),
                "examples": tuple(_redact(str(value), kind) for value in counts.index[:3]),
            }
        )
    return pd.DataFrame(rows, columns=["column", "dtype", "kind", "missing_share", "cardinality", "examples"])


def _match_words(value: str, words: tuple[tuple[str, str], ...]) -> str | None:
    token = normalize_value(value)
    return next((target for word, target in words if word in token), None)


def _outcome_spec(values: pd.Series) -> ColumnSpec | None:
    observed = sorted(set(values.str.strip()))
    won = [v for v in observed if normalize_value(v) in _WON]
    lost = [v for v in observed if normalize_value(v) in _LOST]
    return ColumnSpec(role="outcome", won=won, lost=lost) if won and lost else None


def _stage_spec(values: pd.Series) -> ColumnSpec | None:
    mapped = {value: _match_words(value, _STAGE_WORDS) for value in sorted(set(values.str.strip()))}
    if not mapped or None in mapped.values():
        return None  # a value we cannot place: after_contact is the safe proposal
    return ColumnSpec(role="stage", values={k: v for k, v in mapped.items() if v})


def _reason_spec(values: pd.Series) -> ColumnSpec:
    mapped = {value: _match_words(value, _REASON_WORDS) for value in sorted(set(values.str.strip()))}
    return ColumnSpec(role="reason", values={k: v for k, v in mapped.items() if v} or None)


def _looks_like_titles(values: pd.Series) -> bool:
    """Whether most values (by rows) read as job titles: the vocabulary finds a seniority or a function."""
    counts = values.value_counts().head(500)  # the common spellings decide; a long tail changes little
    if counts.empty:
        return False
    known = [classify_title(str(value)) != (OTHER, OTHER) for value in counts.index]
    return float(counts[known].sum()) / float(counts.sum()) >= MIN_TITLE_SHARE


def _is_job_title(name: str, kind: str, values: pd.Series) -> bool:
    if kind not in ("category", "free text"):
        return False
    if _JOB_TITLE_NAME.search(name):
        return True
    return bool(_MAYBE_JOB_TITLE_NAME.search(name)) and _looks_like_titles(values)


def _is_count(name: str, kind: str, values: pd.Series) -> bool:
    if kind not in ("number", "number-as-text") or not _COUNT_NAME.search(name) or _RATE_NAME.search(name):
        return False
    return bool(values.str.fullmatch(_WHOLE_NUMBER).all())


def _feature_spec(column: str, kind: str, values: pd.Series, rows: int) -> ColumnSpec:
    name = to_snake_case(column)
    if values.nunique() <= 1 and len(values) == rows:
        return ColumnSpec(role="ignore")  # the same value in every row: nothing to learn from (blanks would tell)
    if kind == "e-mail":
        return ColumnSpec(role="email")
    if _is_job_title(name, kind, values):
        return ColumnSpec(role="job_title")
    if _is_count(name, kind, values):
        return ColumnSpec(role="count")
    if kind in ("number", "number-as-text"):
        return ColumnSpec(role="numeric")
    if kind == "boolean-like":
        return ColumnSpec(role="boolean")
    if kind == "category":
        return ColumnSpec(role="categorical")
    if kind == "free text" and values.str.len().mean() >= LONG_TEXT_CHARS:
        return ColumnSpec(role="text")
    return ColumnSpec(role="ignore")  # IDs, names, phones, empty columns, short free text, dates


def _pick_id(kinds: dict[str, str]) -> str:
    candidates = [column for column, kind in kinds.items() if kind == "id-like"]
    named = [column for column in candidates if _ID_NAME.search(to_snake_case(column))]
    if not candidates:
        raise MappingError(
            "no column looks like the lead ID (unique values, e.g. 'Lead ID'); write the mapping by hand "
            "(see the profile above) or de-duplicate the export"
        )
    return (named or candidates)[0]


def is_consent(column: str, kind: str) -> bool:
    """A yes/no column named like a consent (yes = the lead agreed), not like an objection ("Do Not Email")."""
    name = to_snake_case(column)
    return kind == "boolean-like" and bool(_CONSENT_NAME.search(name)) and not _OBJECTION_NAME.search(name)


def is_objection(column: str) -> bool:
    """A column named like the opposite of a consent: yes = the lead objected ("Do Not Email", "Opt-out")."""
    return bool(_OBJECTION_NAME.search(to_snake_case(column)))


def gated_columns(consent: str, specs: dict[str, ColumnSpec]) -> list[str]:
    """The feature columns a consent speaks of: tracking -> visits, website, time, pages; else e-mail opens, clicks.

    A consent named like tracking (tracking, cookies, web analytics) gates what tracking measures; any other
    (e-mail, marketing, newsletter, a bare "Consent" or "Opt-in") gates the e-mail opens and clicks.
    """
    tracking = bool(_TRACKING_CONSENT_NAME.search(to_snake_case(consent)))
    pattern = _TRACKED_NAME if tracking else _EMAIL_ENGAGEMENT_NAME
    return [
        column
        for column, spec in specs.items()
        if column != consent
        and spec.role in FEATURE_ROLES
        and pattern.search(to_snake_case(column))
        and not is_consent(column, "boolean-like")
    ]


def _with_group(column: str, spec: ColumnSpec) -> ColumnSpec:
    # Written into the proposal so the user reviews it with the role (grades score fit and engagement apart).
    if spec.role not in FEATURE_ROLES or spec.group is not None:
        return spec
    return spec.model_copy(update={"group": guess_group(column)})


def propose_mapping(frame: pd.DataFrame, profile: pd.DataFrame) -> ExportMapping:
    """A best-guess mapping from column names and content, for the user to review line by line.

    Every feature column gets its group (:func:`~pipelines.crm_export.mapping.guess_group`); a consent column
    gates the feature columns its name speaks of (:func:`gated_columns`) and is proposed as a plain boolean
    feature when there are none.

    Raises:
        MappingError: no column can be the lead ID or the outcome; the message says what was looked for.
    """
    placeholders = _placeholders()
    kinds = dict(zip(profile["column"], profile["kind"], strict=True))
    present = {str(column): _present(frame[column], placeholders) for column in frame.columns}
    names = {column: to_snake_case(column) for column in kinds}
    id_column = _pick_id(kinds)
    specs: dict[str, ColumnSpec] = {id_column: ColumnSpec(role="id")}

    outcome_names = [c for c in kinds if c not in specs and names[c] in _OUTCOME_NAMES]
    for column in sorted(outcome_names, key=lambda c: _OUTCOME_NAMES.index(names[c])):
        spec = _outcome_spec(present[column]) if kinds[column] in ("boolean-like", "category") else None
        if spec:
            specs[column] = spec
            break
    else:
        raise MappingError(
            "no column looks like the outcome (0/1 or won/lost values in a column named "
            f"{', '.join(_OUTCOME_NAMES)}); write the mapping by hand (see the profile above)"
        )

    for column, kind in kinds.items():
        if column in specs:
            continue
        role_taken = {spec.role for spec in specs.values()}
        if kind == "date" and _CREATED_NAME.search(names[column]) and "created_at" not in role_taken:
            specs[column] = ColumnSpec(role="created_at")
        elif kind == "date" and _OUTCOME_AT_NAME.search(names[column]) and "outcome_at" not in role_taken:
            specs[column] = ColumnSpec(role="outcome_at")
        elif _AFTER_CONTACT_NAME.search(names[column]) and not is_consent(column, kind):
            specs[column] = _after_contact_spec(names[column], kind, present[column], role_taken)
        else:
            specs[column] = _feature_spec(column, kind, present[column], len(frame))
    for column, kind in kinds.items():  # once every column has its role: what each consent gates
        gates = gated_columns(column, specs) if is_consent(column, kind) else []
        if gates:
            specs[column] = ColumnSpec(role="consent", gates=gates)
    order = [str(column) for column in frame.columns]
    return ExportMapping(columns={column: _with_group(column, specs[column]) for column in order})


def _after_contact_spec(name: str, kind: str, values: pd.Series, role_taken: set[Role]) -> ColumnSpec:
    # Disposition-like columns become stage or reason when their values can be read; never a feature.
    if kind == "category" and _STAGE_NAME.search(name) and "stage" not in role_taken:
        spec = _stage_spec(values)
        if spec:
            return spec
    if kind == "category" and _REASON_NAME.search(name) and "reason" not in role_taken:
        return _reason_spec(values)
    return ColumnSpec(role="after_contact")


def _role_note(column: str, spec: ColumnSpec, distinct: int, missing_share: float) -> str:
    if spec.role == "consent":
        return "the gated columns' features are unknown for leads without a clear yes"
    if spec.role == "boolean" and is_objection(column):
        return "yes = the lead objected: a feature, not a consent (a consent gates where yes = agreed)"
    if spec.role == "boolean" and is_consent(column, "boolean-like"):
        return "a consent gating no column found by name: a feature; to gate, {role: consent, gates: [...]}"
    if spec.role == "ignore" and distinct == 1 and missing_share == 0:
        return "the same value in every row: nothing to learn from"
    return ""


def proposal_notes(profile: pd.DataFrame, mapping: ExportMapping | None = None) -> dict[str, str]:
    """Column -> a short comment for the proposed mapping: kind, missing share, distinct values (never values),
    and what a proposed role means where it needs saying (consent, objections such as "Do Not Email", e-mail)."""
    notes = {}
    for row in profile.to_dict("records"):
        column = row["column"]
        note = f"{row['kind']}, {row['missing_share']:.0%} missing, {row['cardinality']:,} distinct"
        spec = mapping.columns.get(column) if mapping is not None else None
        role_note = _role_note(column, spec, row["cardinality"], row["missing_share"]) if spec is not None else ""
        notes[column] = f"{note}; {role_note}" if role_note else note
    return notes

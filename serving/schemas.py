"""The scoring API's request and response bodies, validated at the door.

The request body is built from the served model itself: its input fields are the CRM export's own columns (by
their own names), and each field's type follows the column's role in the export's mapping (a count is a number
>= 0 or the export's text for one, a boolean is yes/no-like, a category is text...). Every field but ``lead_id``
is optional: a CRM sends what it has, and a missing field is scored as unknown (and named in the response's
warnings). A value no export could hold (a negative count, NaN, a list, ``true`` for a number or a category)
is refused with 422 naming the field; error messages never repeat the value, which may be personal data. Fields
the model does not know are ignored and named in the warnings, but bounded: at most ``max_unknown_fields`` per
lead, each at most ``max_unknown_value_chars`` characters as JSON (422 naming the limit beyond).

A lead of a model trained with an activities table may carry its raw ``activities`` (``ActivityIn``: time, the
CRM's own activity word, optional detail), at most ``max_activities``; the service computes the engagement features
from them (``serving.activities``). With ``account_id=True`` (the service's accounts keyed by the CRM's account id),
a lead may carry its ``account_id`` (trimmed, at most ``ACCOUNT_ID_LIMIT`` characters): never a model input.

A request may ask for ``reasons: false`` (``score_in_model``, ``batch_in_model``): probability, score and MQL
decision only, without TreeSHAP; the answer is then a ``DecisionOut``, which says so (``reasons: false``) and
names the fields it leaves out (``omitted``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    StrictBool,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from models.cleaning import (
    DEFAULT_PLACEHOLDERS,
    FALSE_WORDS,
    TRUE_WORDS,
)
from models.features import number_as_read
from models.scorer import ALWAYS_GIVEN_MISSING_SHARE
from models.trends import Trend
from serving.pii import personal_kind

MIN_CREATED_AT, MAX_CREATED_AT = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, tzinfo=UTC)
SHORT_TEXT_LIMIT = 500  # a category, a job title, a number or flag as text
TEXT_LIMIT = 2_000  # free text: only its length and whether it was answered are used
EMAIL_LIMIT = 320  # RFC 3696's longest address
RESERVED_FIELDS = ("lead_id", "created_at")
REASONS_FIELD = "reasons"  # the request's switch for grade, SLA and reasons (not a lead field)
REASONS_DESCRIPTION = (
    "false: probability, score and is_mql only, without TreeSHAP (faster); grade, priority, respond_within_hours, "
    "reasons_for and reasons_against are then left out of the answer (named in its 'omitted'). Default true"
)
# what an answer without reasons leaves out: every field of ScoreOut that needs the SHAP contributions
OMITTED_WITHOUT_REASONS = ("grade", "priority", "respond_within_hours", "reasons_for", "reasons_against")
MAX_UNKNOWN_FIELDS = 200  # a CRM may send its whole record; a few hundred columns is a large one
MAX_UNKNOWN_VALUE_CHARS = 10_000  # as JSON: a long-text field fits, a file pasted into one does not
ACTIVITIES_FIELD = "activities"  # a lead's raw activities (models trained with an activities table)
MAX_ACTIVITIES = 1_000  # per lead: 90 days of an engaged lead's visits, opens and clicks fit
ACCOUNT_ID_FIELD = "account_id"  # the CRM's account id, when the service's accounts are keyed by it
ACCOUNT_ID_LIMIT = 200
# Ids are kept in the scoring log: no control characters (PostgreSQL refuses NUL in text, and the reads with it).
CONTROL_CHARACTERS = r"\x00-\x1f\x7f"  # a regular expression's character range
PRINTABLE = rf"^[^{CONTROL_CHARACTERS}]*$"
LEAD_ID_LIMIT = 100
ISO_TIME_EXPECTED = "expected an ISO 8601 time such as 2026-10-05T09:30:00+02:00"


def _iso_time_text(value: object) -> object:
    # pydantic would read a number (or a text of digits) as Unix seconds; a CRM's milliseconds would be years off.
    # The contract is an ISO 8601 time; an export's own format ("14.03.2025") is told so, not pydantic's parse error.
    if value is not None and (not isinstance(value, str) or _is_number_text(value)):
        raise _refused("wrong_type", ISO_TIME_EXPECTED)
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip())
        except ValueError:
            raise _refused("not_iso_time", f"{ISO_TIME_EXPECTED} (naive: UTC)") from None
    return value


def _blank_is_none(value: object) -> object:
    """An empty creation date (an export row's empty cell) is no date, as an empty field is missing."""
    return None if isinstance(value, str) and not value.strip() else value


def _utc_time(value: datetime) -> datetime:
    """A time in UTC (naive: taken as UTC), between the years the service accepts."""
    if not MIN_CREATED_AT.year <= value.year <= MAX_CREATED_AT.year:
        raise ValueError(f"expected a time between {MIN_CREATED_AT.year} and {MAX_CREATED_AT.year}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A time a request sends (a lead's creation, an activity): ISO 8601 text only, kept in UTC.
UtcTime = Annotated[datetime, BeforeValidator(_iso_time_text), AfterValidator(_utc_time)]


class ActivityIn(BaseModel):
    """One of the lead's activities as the CRM records it: when, and its type in the CRM's own words."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    timestamp: UtcTime = Field(description="when the lead did it: ISO 8601 with time zone (UTC if no offset)")
    kind: str = Field(
        alias="type",
        min_length=1,
        max_length=SHORT_TEXT_LIMIT,
        description="the activity's type in the CRM's own words (e.g. 'Page Visited'), translated to leadq's kind "
        "by the model's mapping (tables.activities.kind.values) as training translated it; another word is 422",
    )
    detail: str | None = Field(
        None, max_length=SHORT_TEXT_LIMIT, description="optional: the page, asset or campaign; not used, not stored"
    )


ACTIVITIES_DESCRIPTION = (
    "optional, for a model trained with an activities table: the lead's activities, all of them as leadq score "
    "reads the whole activities table (a shorter history changes the days_since and decayed fields of a lead whose "
    "earlier activities are left out); the service computes the engagement fields "
    "(<kind>_<w>d, days_since_<kind>, <kind>_decayed) from them as of the request's time, as leadq score computes "
    "them from the activities table: an activity at or after that time changes nothing (a warning counts those "
    "dated after it). Not together with values of those fields (422 naming them); a model without an activities "
    "table: 422. At most {limit} per lead (serving.max_activities)"
)
ACCOUNT_ID_DESCRIPTION = (
    "optional: the CRM's id of the lead's account (serving.account_key: account_id): the key its account is "
    "rolled up and logged by; without one, the business domain of its e-mail. Trimmed; never a model input"
)


def _id_as_text(value: Any) -> Any:
    """A CRM id sent as a JSON number (X Education's Lead Number 660737) is its text; anything else as sent."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class LeadBase(BaseModel):
    """A scoring request's lead: its id, optionally its creation time, and the served model's input fields.

    ``lead_in_model`` builds the request body of a model from this base (``LeadIn`` in the OpenAPI document).
    """

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)
    export_fields: ClassVar[tuple[str, ...]] = ()  # the export columns, in the order of the fields field_0, field_1...
    export_field_names: ClassVar[tuple[tuple[str, str], ...]] = ()  # (export column, field name), built once
    known_fields: ClassVar[frozenset[str]] = frozenset((*RESERVED_FIELDS, REASONS_FIELD))  # and the export columns
    # the export's columns the model does not read but its mapping names (the outcome, sales' columns, personal
    # data): a lead sent as its export row carries them; ignored without a warning, never stored
    quiet_fields: ClassVar[frozenset[str]] = frozenset()
    max_unknown_fields: ClassVar[int] = MAX_UNKNOWN_FIELDS
    max_unknown_value_chars: ClassVar[int] = MAX_UNKNOWN_VALUE_CHARS
    missing_words: ClassVar[frozenset[str]] = frozenset({""})  # the export's words for missing, folded
    number_fields: ClassVar[dict[str, str]] = {}  # number columns -> the decimal convention the model reads them by

    lead_id: Annotated[str, BeforeValidator(_id_as_text)] = Field(
        min_length=1,
        max_length=LEAD_ID_LIMIT,
        pattern=PRINTABLE,
        description="the CRM's id of the lead (no control characters)",
    )
    created_at: Annotated[UtcTime | None, BeforeValidator(_blank_is_none)] = Field(
        None,
        description="when the lead was created in the CRM (UTC if no offset): starts the SLA clock in the "
        "quarterly audit and assigns the lead to its quarter; not a model input",
    )

    @model_validator(mode="before")
    @classmethod
    def _bounded_unknown_fields(cls, data: Any) -> Any:
        """At most ``max_unknown_fields`` unknown fields, each at most ``max_unknown_value_chars`` as JSON."""
        if not isinstance(data, dict):
            return data  # pydantic refuses it
        unknown = [name for name in data if name not in cls.known_fields and name not in cls.quiet_fields]
        if len(unknown) > cls.max_unknown_fields:
            raise PydanticCustomError(
                "too_many_unknown_fields",
                "expected at most {limit} unknown fields per lead, got {count}",
                {"limit": cls.max_unknown_fields, "count": len(unknown)},
            )
        for name in unknown:
            if _json_length(data[name], cls.max_unknown_value_chars) > cls.max_unknown_value_chars:
                raise PydanticCustomError(
                    "unknown_field_too_long",
                    "unknown field '{field}': expected at most {limit} characters as JSON",
                    {"field": _shown_name(name), "limit": cls.max_unknown_value_chars},
                )
        return data

    def scoring_record(self) -> dict[str, object]:
        """The model's input fields by their export names (no id, no extras), as the scorer reads them."""
        values = self.__dict__  # pydantic keeps the validated fields here: read directly, names made once (a
        # batch of 100 leads built this record 400 times, a tenth of its time with getattr and f-strings)
        return {column: values[name] for column, name in self.export_field_names}

    def sent_activities(self) -> list[ActivityIn] | None:
        """The lead's activities as sent (None: not sent; a LeadIn of ``lead_in_model`` has the field)."""
        return self.__dict__.get(ACTIVITIES_FIELD)

    def sent_account_id(self) -> str | None:
        """The lead's account id as sent, trimmed (None: not sent, empty, or not a field of this LeadIn)."""
        return self.__dict__.get(ACCOUNT_ID_FIELD) or None

    def missing_fields(self) -> list[str]:
        """Names of the model's input fields the request left out or sent as a word for missing ("k.A.", "Select"):
        scored as unknown."""
        return [
            name
            for name, value in self.scoring_record().items()
            if value is None or (isinstance(value, str) and value.strip().casefold() in self.missing_words)
        ]

    def unread_numbers(self) -> list[str]:
        """Names of number fields sent as text the model reads no number from ("abc", or "2,5" where the export
        writes decimals with a point): scored as unknown, as such text was in training."""
        record = self.scoring_record()
        return [
            name
            for name, convention in self.number_fields.items()
            if isinstance(value := record.get(name), str)
            and value.strip().casefold() not in self.missing_words
            and math.isnan(number_as_read(value, convention, frozenset()))
        ]

    def unknown_fields(self) -> list[str]:
        """Names (never values) of fields neither the model nor its mapping knows; they are ignored."""
        return sorted(name for name in self.model_extra or {} if name not in self.quiet_fields)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        if cls.export_fields:  # a model's LeadIn: its unknown fields' limits, which pydantic cannot say itself
            schema["maxProperties"] = len(cls.model_fields) + cls.max_unknown_fields
            schema["additionalProperties"] = {
                "description": f"a field the model does not know: ignored and named in the warnings; at most "
                f"{cls.max_unknown_fields} per lead, each at most {cls.max_unknown_value_chars} characters as JSON"
            }
        return schema


def _json_length(value: object, limit: int) -> int:
    """The length of ``value`` as JSON, or more than ``limit`` if it cannot be written (nested too deeply)."""
    if isinstance(value, str):
        return len(value)
    try:
        return len(json.dumps(value, ensure_ascii=False, default=str))
    except (RecursionError, ValueError):
        return limit + 1


def _shown_name(name: str, limit: int = 40) -> str:
    """A field name fit for an error message: shortened, and hidden if it holds personal data (as the warnings do)."""
    if personal_kind(name, names=False):
        return "(a name holding personal data)"
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- one value of an export column, by the column's role ------------------------------------------------------
# Each check returns the value as the model's features step reads it, or raises an error that names no value.


def _refused(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)  # JSON true is not the number 1


def _finite(value: float) -> float:
    try:
        number = float(value)  # an integer beyond float's range (10**400) overflows: as unusable as infinity
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _refused("not_finite", "expected a finite number, not NaN or infinity")
    return number


def _text(value: object, limit: int, expected: str) -> str:
    if not isinstance(value, str):
        raise _refused("wrong_type", expected)
    if len(value) > limit:
        raise PydanticCustomError("too_long", "expected at most {limit} characters", {"limit": limit})
    return value


_NEGATIVE_COUNT = "a count cannot be negative"
_YES_NO = "expected yes or no: true/false, 0/1 or a word such as yes/no, ja/nein, x"
# what a number field expects, by the decimal separator its export was read with in training
_NUMBER_EXAMPLES = {
    "point": "a number such as 1200, 1,200, 2.5 or 50k (this export writes decimals with a point)",
    "comma": "a number such as 1200, 1.200, 2,5 or 50k (this export writes decimals with a comma)",
    "none": "a number such as 1200, 1.200 or 50k",
}


def _number_text(value: object, missing_words: frozenset[str], convention: str) -> tuple[str, float | None]:
    """A count's text, and the number the model reads it as (None: a word for missing), read as the model reads it
    (``models.features.number_as_read`` under the column's decimal convention); text it reads no number from is
    refused."""
    expected = _NUMBER_EXAMPLES.get(convention, _NUMBER_EXAMPLES["none"])
    text = _text(value, SHORT_TEXT_LIMIT, f"expected {expected}")
    if text.strip().casefold() in missing_words:
        return text, None
    number = number_as_read(text, convention, frozenset())
    if math.isnan(number):
        raise _refused("not_a_number", f"expected {expected}")
    return text, number


def _count(value: object, missing_words: frozenset[str], convention: str = "none") -> object:
    if _is_number(value):
        number = _finite(value)  # type: ignore[arg-type]
        if number < 0:
            raise _refused("negative_count", _NEGATIVE_COUNT)
        return number
    text, read = _number_text(value, missing_words, convention)
    if read is not None and read < 0:
        raise _refused("negative_count", _NEGATIVE_COUNT)
    return text


def _numeric(value: object, missing_words: frozenset[str]) -> object:
    if _is_number(value):
        return _finite(value)  # type: ignore[arg-type]
    # text the model reads no number from is scored as unknown, as it was in training, and named in the warnings
    # (``LeadBase.unread_numbers``): a form's free-text revenue ("about a million") is not refused
    return _text(value, SHORT_TEXT_LIMIT, f"expected {_NUMBER_EXAMPLES['none']}")


def _yes_no(value: object, missing_words: frozenset[str]) -> object:
    if isinstance(value, bool):
        return value
    if _is_number(value):
        if value in (0, 1):
            return value
        raise _refused("not_yes_no", _YES_NO)
    key = _text(value, SHORT_TEXT_LIMIT, _YES_NO).strip().casefold()
    if key in TRUE_WORDS or key in FALSE_WORDS or key in missing_words:
        return value
    raise _refused("not_yes_no", _YES_NO)


def _category(value: object, missing_words: frozenset[str]) -> object:
    if _is_number(value) and isinstance(value, int):  # a category code, as some CRMs send it
        return value
    return _text(value, SHORT_TEXT_LIMIT, "expected text (or an integer category code)")


def _free_text(value: object, missing_words: frozenset[str]) -> object:
    return _text(value, TEXT_LIMIT, "expected text")


def _options(value: object, missing_words: frozenset[str]) -> object:
    return _text(value, TEXT_LIMIT, "expected the chosen options as text, as the export writes them (ERP; CRM)")


def _email(value: object, missing_words: frozenset[str]) -> object:
    return _text(value, EMAIL_LIMIT, "expected an e-mail address as text")


def _job_title(value: object, missing_words: frozenset[str]) -> object:
    return _text(value, SHORT_TEXT_LIMIT, "expected a job title as text")


def _one_of(*schemas: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [*schemas, {"type": "null"}]}


_SHORT_STRING = {"type": "string", "maxLength": SHORT_TEXT_LIMIT}
_YES_NO_SCHEMA = _one_of({"type": "boolean"}, {"type": "integer", "enum": [0, 1]}, _SHORT_STRING)
Check = Callable[[object, frozenset[str]], object]
# role -> (check, JSON schema for the OpenAPI document, what the field is)
_ROLES: dict[str, tuple[Check, dict[str, Any], str]] = {
    "count": (
        _count,
        _one_of({"type": "number", "minimum": 0}, _SHORT_STRING),
        "a number >= 0, or the export's text for it (1.200, 50k)",
    ),
    "numeric": (
        _numeric,
        _one_of({"type": "number"}, _SHORT_STRING),
        "a number, or the export's text for it (1.200, € 10.000)",
    ),
    "boolean": (_yes_no, _YES_NO_SCHEMA, "yes or no: true/false, 0/1 or the export's word (yes/no, ja/nein, x)"),
    "consent": (
        _yes_no,
        _YES_NO_SCHEMA,
        "yes or no, as for a boolean: without a clear yes, the fields this consent covers are not used",
    ),
    "categorical": (
        _category,
        _one_of(_SHORT_STRING, {"type": "integer"}),
        "a category as the export spells it (or its integer code)",
    ),
    "multi_select": (
        _options,
        _one_of({"type": "string", "maxLength": TEXT_LIMIT}),
        "a multi-select picklist's options as the export writes them ('ERP; CRM'): one yes/no per option the model "
        "knows, in any order; others are left out",
    ),
    "text": (
        _free_text,
        _one_of({"type": "string", "maxLength": TEXT_LIMIT}),
        "free text: only its length and whether it was answered are used",
    ),
    "email": (
        _email,
        _one_of({"type": "string", "maxLength": EMAIL_LIMIT}),
        "PII: the lead's e-mail address, used only to derive features (freemail, valid address, competitor "
        "domain) and the lead's account (its business domain, kept in the scoring log; null for freemail); the "
        "address itself is never stored",
    ),
    "job_title": (
        _job_title,
        _one_of(_SHORT_STRING),
        "a job title: only its seniority, function and whether it is a student or intern are used",
    ),
}


def _field_check(role: str, convention: str) -> Check:
    """The role's check; a count's reads text under the column's decimal convention, as the model does."""
    if role == "count":
        return lambda value, missing_words: _count(value, missing_words, convention)
    return _ROLES[role][0]


def _field_type(role: str, missing_words: frozenset[str], convention: str = "none") -> Any:
    check, schema = _field_check(role, convention), _ROLES[role][1]

    def validate(value: object) -> object:
        return None if value is None else check(value, missing_words)

    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


def _describe(column: str, role: str) -> str:
    return f"the export's column {column!r} ({role}): {_ROLES[role][2]}; missing: scored as unknown"


@dataclass(frozen=True)
class ExportNames:
    """The export's own column names a request may carry, from the served version's mapping: a lead sent as its
    export row. ``other_columns``: the mapped columns the model does not read (outcome, after contact, ignore, pii)."""

    lead_id: str | None = None
    created_at: str | None = None
    other_columns: frozenset[str] = frozenset()


def lead_in_model(
    roles: Mapping[str, str],
    placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS,
    max_unknown_fields: int = MAX_UNKNOWN_FIELDS,
    max_unknown_value_chars: int = MAX_UNKNOWN_VALUE_CHARS,
    max_activities: int = MAX_ACTIVITIES,
    account_id: bool = False,
    decimal_conventions: Mapping[str, str] | None = None,
    export_names: ExportNames | None = None,
) -> type[LeadBase]:
    """The request body (``LeadIn``) of a model: its input fields by their export names, each typed by its role.

    Args:
        roles: export column -> role, as the model's features step has them (``input_roles``).
        placeholders: the export's words for missing ("N/A", "Select"), accepted in count and yes/no fields.
        max_unknown_fields: unknown fields accepted per lead (ignored, named in the warnings); 422 beyond.
        max_unknown_value_chars: the longest unknown field's value, as JSON; 422 beyond.
        max_activities: the longest ``activities`` list of a lead; 422 beyond.
        account_id: the lead may carry ``account_id`` (the service's accounts are keyed by the CRM's account id).
        decimal_conventions: export column -> the decimal separator its numbers were read with in training
            ("point", "comma"; the features step's ``decimal_conventions_``): a number field's text is read so, and
            refused where the model would read no number; a column not named reads each value by its own separator.
        export_names: the export's own names (the model's mapping): its id and created_at columns, read as
            ``lead_id`` and ``created_at`` so that the lead's row as the export has it reads too ("Lead ID",
            "Erstellt am"; the own name wins where both are sent), and its other mapped columns, ignored quietly.

    Raises:
        ValueError: a column is named like a field of every request (lead_id, created_at, activities, and
            account_id with ``account_id``), or has a role that is not a model input; named.
    """
    own = (*RESERVED_FIELDS, REASONS_FIELD, ACTIVITIES_FIELD, *((ACCOUNT_ID_FIELD,) if account_id else ()))
    reserved = [column for column in roles if column in own]
    if reserved:
        raise ValueError(f"the model reads export column(s) {reserved}, named like a request's own fields")
    unknown = {column: role for column, role in roles.items() if role not in _ROLES}
    if unknown:
        raise ValueError(f"input column roles {unknown} are not model inputs; expected one of {list(_ROLES)}")
    missing_words = frozenset(word.strip().casefold() for word in placeholders) | {""}
    fields: dict[str, Any] = {
        f"field_{position}": (
            _field_type(role, missing_words, (decimal_conventions or {}).get(column, "none")),
            Field(None, alias=column, description=_describe(column, role)),
        )
        for position, (column, role) in enumerate(roles.items())
    }
    fields[ACTIVITIES_FIELD] = (
        list[ActivityIn] | None,
        Field(None, max_length=max_activities, description=ACTIVITIES_DESCRIPTION.format(limit=max_activities)),
    )
    names = export_names or ExportNames()
    aliases = {
        name: column
        for name, column in (("lead_id", names.lead_id), ("created_at", names.created_at))
        if column and column != name and column not in roles
    }
    for name, column in aliases.items():
        info = copy.copy(LeadBase.model_fields[name])
        info.validation_alias = AliasChoices(name, column)
        fields[name] = (info.annotation, info)
    if account_id:
        fields[ACCOUNT_ID_FIELD] = (
            str | None,
            Field(None, max_length=ACCOUNT_ID_LIMIT, pattern=PRINTABLE, description=ACCOUNT_ID_DESCRIPTION),
        )
    model = create_model(
        "LeadIn",
        __base__=LeadBase,
        __doc__="One lead as the CRM knows it when it asks for a score: the fields of the export the model was "
        "trained on, by the export's own column names. Unknown fields are ignored and named in the warnings.",
        **fields,
    )
    model.export_fields = tuple(roles)
    model.export_field_names = tuple((column, f"field_{position}") for position, column in enumerate(roles))
    model.missing_words = missing_words
    model.number_fields = {
        column: (decimal_conventions or {}).get(column, "none")
        for column, role in roles.items()
        if role in ("count", "numeric")
    }
    model.known_fields = frozenset((*own, *roles, *aliases.values()))
    model.quiet_fields = names.other_columns - model.known_fields
    model.max_unknown_fields, model.max_unknown_value_chars = max_unknown_fields, max_unknown_value_chars
    return model


def score_in_model(lead_model: type[LeadBase]) -> type[LeadBase]:
    """The single-lead request body (``ScoreIn``): a lead of ``lead_model`` and the ``reasons`` switch."""
    model: type[LeadBase] = create_model(
        "ScoreIn",
        __base__=lead_model,
        __doc__=lead_model.__doc__,
        reasons=(StrictBool, Field(True, description=REASONS_DESCRIPTION)),
    )
    return model


def batch_in_model(lead_model: type[LeadBase], max_batch: int | None = None) -> type[BaseModel]:
    """The batch request body (``BatchIn``): leads in the fields of ``lead_model`` and the ``reasons`` switch.

    ``max_batch`` is documented (``maxItems``) but not validated here: the route answers 413 beyond it.
    """
    return create_model(
        "BatchIn",
        __config__=ConfigDict(extra="forbid"),
        reasons=(StrictBool, Field(True, description=REASONS_DESCRIPTION)),
        leads=(
            list[lead_model],  # type: ignore[valid-type]
            Field(
                min_length=1,
                description=f"at most {max_batch or 'serving.max_batch'} leads (413 beyond)",
                json_schema_extra=None if max_batch is None else {"maxItems": max_batch},
            ),
        ),
    )


TREND_DESCRIPTION = (
    "this score against the lead's first score in the scoring log within the trend window (trends.window_days): "
    "improving or declining by trends.min_change_points score points or more, steady otherwise, new without an "
    "earlier score in the window (scores of the last scoring_log_flush_s seconds may not be seen yet); null when no "
    "scoring log is configured, or when it could not be read (a warning says so)"
)


class ReasonOut(BaseModel):
    feature: str
    label: str = Field(description="plain-language reason, e.g. 'Demo requested'")
    value: str | float | bool | None = Field(description="the lead's value of the feature (None: unknown)")
    impact: float = Field(description="log-odds of the model before calibration; > 0 raises the score")


class ModelRef(BaseModel):
    name: str
    version: str


ACCOUNT_DESCRIPTION = (
    "POST /v1/leads/score: the lead's account (the business domain of its e-mail address, or with serving.account_key "
    "account_id the account_id it carries) rolled up with the "
    "account's other leads in the scoring log, each by its latest score within the trend window (trends.window_days); "
    "null when the lead has no account (freemail, invalid or missing address) or no scoring log is configured; when "
    "the log could not be read, this lead alone (a warning says so). Left out of a batch's results: the batch answers "
    "each account once, in accounts"
)


class AccountOut(BaseModel):
    """The leads of one account rolled up (``models.accounts``): the buying group, not just the person."""

    account: str = Field(
        description="the business domain of the leads' e-mail addresses (freemail: no account), or the CRM's account "
        "id the leads carried (serving.account_key: account_id)"
    )
    leads: int = Field(
        ge=1,
        description="this request's leads of the account and its other leads scored within the trend window "
        "(trends.window_days), each counted once by its latest score",
    )
    probability_any_converts: float = Field(
        ge=0, le=1, description="1 - prod(1 - p): that at least one converts, the leads taken as independent"
    )
    expected_conversions: float = Field(ge=0)
    mqls: int
    engaged_leads: int | None = Field(
        description="leads with the grade's engagement digit 1 or 2 (the engaged buying group); null when a lead of "
        "the account was scored with reasons: false (no grade)"
    )
    best_lead: str
    best_probability: float = Field(ge=0, le=1)


# a lead's warning naming the input fields (nearly) every training lead had (``LeadScorer.always_given``) that it
# lacks; "nearly": a field missing for 36 of X Education's 9,240 leads is one its model needs as much
MISSING_ALWAYS_GIVEN_WARNING = (
    f"missing field(s) {1 - ALWAYS_GIVEN_MISSING_SHARE:.1%} or more of the training leads had, scored as unknown: "
    "the score may be far off without them"
)
UNSEEN_WARNING = "value not seen in training, scored as unknown"  # after a category feature's name
UNREAD_NUMBER_WARNING = "field(s) without a number the model can read, scored as unknown"


class ScoreOut(BaseModel):
    """A lead's score with grade, SLA and the top reasons (the default)."""

    lead_id: str
    probability: float = Field(ge=0, le=1, description="calibrated probability of a won deal within the horizon")
    score: int = Field(ge=0, le=100)
    is_mql: bool
    trend: Trend | None = Field(None, description=TREND_DESCRIPTION)
    account: AccountOut | None = Field(None, description=ACCOUNT_DESCRIPTION)
    threshold: float
    grade: str = Field(description="fit letter A (best) .. D x engagement digit 1 (most) .. 4")
    priority: str
    respond_within_hours: float | None = Field(description="None: no personal follow-up (nurture)")
    reasons_for: list[ReasonOut]
    reasons_against: list[ReasonOut]
    model: ModelRef
    warnings: list[str]
    reasons: Literal[True] = Field(True, description="true: grade, SLA and reasons were computed")


class DecisionOut(BaseModel):
    """A lead's score without grade, SLA and reasons: the answer to ``reasons: false``."""

    lead_id: str
    probability: float = Field(ge=0, le=1, description="calibrated probability of a won deal within the horizon")
    score: int = Field(ge=0, le=100)
    is_mql: bool
    trend: Trend | None = Field(None, description=TREND_DESCRIPTION)
    account: AccountOut | None = Field(None, description=ACCOUNT_DESCRIPTION)
    threshold: float
    model: ModelRef
    warnings: list[str]
    reasons: Literal[False] = Field(
        False, description="false: the request asked for reasons: false; no grade, SLA or reasons were computed"
    )
    omitted: list[str] = Field(
        default=list(OMITTED_WITHOUT_REASONS),  # copied for each answer by pydantic
        description="the fields of a full answer (ScoreOut) left out because reasons were not asked for",
    )


class BatchOut(BaseModel):
    results: list[ScoreOut] | list[DecisionOut] = Field(
        description="one per lead, in the request's order: ScoreOut, or DecisionOut for reasons: false"
    )
    model: ModelRef
    accounts: list[AccountOut] = Field(
        default_factory=list,
        description="the accounts (business e-mail domains, or account ids) of the batch's leads, best first: the "
        "batch's leads of each with its other leads in the scoring log (their latest scores within trends.window_days; "
        "this batch's leads only without a scoring log, or when it could not be read: a warning on those leads says "
        "so); empty when no lead has an account",
    )


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str | None
    model_uri: str
    threshold: float
    threshold_policy: str
    threshold_rationale: str
    trained_as_of: str | None
    train_quarters: list[str]
    test_quarters: list[str]
    test_metrics: dict[str, float]
    loaded_at: str


class Health(BaseModel):
    status: Literal["ok", "not ready"]
    model_version: str | None = None
    reason: str | None = Field(None, description="why the service is not ready (e.g. the scoring log's backlog)")


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. validation_error, unauthorized")
    message: str
    details: list[ErrorDetail] = []


class ErrorOut(BaseModel):
    error: ErrorBody

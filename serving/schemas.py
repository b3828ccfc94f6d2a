"""The scoring API's request and response bodies: the data contract's lead fields, validated at the door.

Every field but ``lead_id`` is optional: a CRM sends what it has, and a missing field is scored as unknown
(and named in the response's warnings). Numbers must be finite and within sane ranges, so a typo such as a
company size of 10^12 or a negative visit count is refused with 422 naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from models.contract import LEAD_BOOLEAN_COLUMNS, LEAD_COUNT_COLUMNS, LEAD_TEXT_COLUMNS

MIN_CREATED_AT, MAX_CREATED_AT = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, tzinfo=UTC)
ShortText = Annotated[str, Field(max_length=200)]
Count = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


class LeadBase(BaseModel):
    """What every scoring request carries besides the lead's fields: its id and, optionally, its creation time."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    lead_id: str = Field(min_length=1, max_length=100, description="the CRM's id of the lead")
    created_at: datetime | None = Field(
        None,
        description="when the lead was created in the CRM (UTC if no offset): starts the SLA clock in the "
        "quarterly audit and assigns the lead to its quarter; not a model input",
    )

    @field_validator("created_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if not MIN_CREATED_AT.year <= value.year <= MAX_CREATED_AT.year:
            raise ValueError(f"expected a time between {MIN_CREATED_AT.year} and {MAX_CREATED_AT.year}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def scoring_record(self) -> dict[str, object]:
        """The model's input fields (no id, no extras) as the scorer reads them."""
        raise NotImplementedError

    def missing_fields(self) -> list[str]:
        """Names of the model's input fields the request left out (scored as unknown)."""
        return [name for name, value in self.scoring_record().items() if value is None]

    def unknown_fields(self) -> list[str]:
        """Names (never values) of fields the model does not know; they are ignored."""
        return sorted(self.model_extra or {})


class LeadIn(LeadBase):
    """One lead as the CRM knows it when it asks for a score (the data contract's fields)."""

    email: str | None = Field(None, max_length=320, description="PII: only used to derive features, never stored")
    job_title: ShortText | None = None
    company_size: float | None = Field(None, ge=1, le=5_000_000, allow_inf_nan=False, description="employees")
    industry: ShortText | None = None
    country: ShortText | None = None
    lead_source: ShortText | None = None
    campaign: ShortText | None = None
    budget_stated: ShortText | None = None
    consent_marketing: bool | None = None
    consent_tracking: bool | None = None
    form_fields_answered: Count | None = None
    website_visits: Count | None = None
    pages_per_visit: Count | None = None
    time_on_site_s: Count | None = None
    content_downloads: Count | None = None
    webinar_attended: bool | None = None
    pricing_page_visits: Count | None = None
    demo_requested: bool | None = None
    email_opens: Count | None = None
    email_clicks: Count | None = None
    newsletter_unsubscribed: bool | None = None

    def scoring_record(self) -> dict[str, object]:
        """The data-contract fields (no id, no extras) as the scorer reads them."""
        return {name: getattr(self, name) for name in SCORING_FIELDS}


SCORING_FIELDS = (*LEAD_TEXT_COLUMNS, *LEAD_BOOLEAN_COLUMNS, *LEAD_COUNT_COLUMNS)
# A mapped export's field: a CRM value as the export holds it (text such as "1.200" or "ja", a number, a flag).
ExportValue = str | Annotated[float, Field(allow_inf_nan=False)] | bool | None
_EXPORT_TEXT_LIMIT = 2_000


class MappedLeadBase(LeadBase):
    """A lead in the fields of the CRM export the model was trained on (see ``mapped_lead_model``)."""

    export_fields: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _bounded_text(cls, value: object) -> object:
        if isinstance(value, str) and len(value) > _EXPORT_TEXT_LIMIT:
            raise ValueError(f"expected at most {_EXPORT_TEXT_LIMIT} characters")
        return value

    def scoring_record(self) -> dict[str, object]:
        return {column: getattr(self, f"field_{i}") for i, column in enumerate(self.export_fields)}


def mapped_lead_model(columns: tuple[str, ...]) -> type[MappedLeadBase]:
    """The request body for a model trained on a mapped CRM export: its columns, by their export names."""
    fields: dict[str, Any] = {
        f"field_{i}": (ExportValue, Field(None, alias=column, description=f"the export's column {column!r}"))
        for i, column in enumerate(columns)
    }
    model = create_model("MappedLeadIn", __base__=MappedLeadBase, **fields)
    model.export_fields = columns
    return model


_BATCH_LEADS = Field(min_length=1, description="at most serving.max_batch leads (413 beyond)")


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: list[LeadIn] = _BATCH_LEADS


def mapped_batch_model(lead_model: type[MappedLeadBase]) -> type[BaseModel]:
    """A batch of leads in a mapped export's fields."""
    return create_model(
        "MappedBatchIn",
        __config__=ConfigDict(extra="forbid"),
        leads=(list[lead_model], _BATCH_LEADS),  # type: ignore[valid-type]
    )


class ReasonOut(BaseModel):
    feature: str
    label: str = Field(description="plain-language reason, e.g. 'Demo requested'")
    value: str | float | bool | None = Field(description="the lead's value of the feature (None: unknown)")
    impact: float = Field(description="log-odds of the model before calibration; > 0 raises the score")


class ModelRef(BaseModel):
    name: str
    version: str


class ScoreOut(BaseModel):
    lead_id: str
    probability: float = Field(ge=0, le=1, description="calibrated probability of a won deal within the horizon")
    score: int = Field(ge=0, le=100)
    is_mql: bool
    threshold: float
    grade: str = Field(description="fit letter A (best) .. D x engagement digit 1 (most) .. 4")
    priority: str
    respond_within_hours: float | None = Field(description="None: no personal follow-up (nurture)")
    reasons_for: list[ReasonOut]
    reasons_against: list[ReasonOut]
    model: ModelRef
    warnings: list[str]


class BatchOut(BaseModel):
    results: list[ScoreOut]
    model: ModelRef


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


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. validation_error, unauthorized")
    message: str
    details: list[ErrorDetail] = []


class ErrorOut(BaseModel):
    error: ErrorBody

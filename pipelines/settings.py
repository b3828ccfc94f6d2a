"""One typed settings object for leadq, read from ``mlflow.yml`` and environment variables.

Precedence: environment variables (``LEADQ_<SECTION>__<KEY>``, e.g. ``LEADQ_LABELS__HORIZON_DAYS=120``)
override the YAML file, which overrides the defaults below. Relative paths, including a relative SQLite
tracking URI, are resolved against the folder of the YAML file, so commands work from any directory.
"""

from __future__ import annotations

import functools
import os
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from models.explanations import GradeSettings
from models.feature_text import Language
from models.labels import UndatedSplit
from models.pipeline import BoosterParams
from models.sla import SlaTable
from models.threshold import ThresholdPolicy

CONFIG_ENV_VAR = "LEADQ_CONFIG"
DEFAULT_CONFIG_FILE = "mlflow.yml"
# The synthetic CRM's mapping ships with leadq: the demo export takes the road every export takes.
DEMO_MAPPING = Path(__file__).parent / "demo" / "synthetic_crm.yml"
TRACKING_SCHEMES = frozenset({"sqlite", "file", "http", "https", "postgresql", "mysql", "databricks"})


class ConfigError(ValueError):
    """The settings file or environment holds an invalid value; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MlflowSettings(_Section):
    tracking_uri: str = "sqlite:///.leadq/mlflow.db"
    artifact_location: Path = Path(".leadq/artifacts")
    experiment: str = Field("leadq-training", min_length=1)
    registered_model: str = Field("leadq-lead-conversion", min_length=1)
    champion_alias: str = Field("champion", min_length=1)

    @field_validator("tracking_uri")
    @classmethod
    def _known_scheme(cls, uri: str) -> str:
        scheme = urlparse(uri).scheme.split("+")[0]
        if scheme not in TRACKING_SCHEMES:
            raise ValueError(f"unknown tracking scheme {scheme!r}; expected one of {sorted(TRACKING_SCHEMES)}")
        return uri


class DataSettings(_Section):
    """The CRM export every command reads (its leads file; further tables come from the mapping) and its mapping."""

    export: Path = Path("data/synthetic/leads.parquet")
    mapping: Path = DEMO_MAPPING


class SyntheticSettings(_Section):
    leads: int = Field(200_000, ge=100)
    seed: int = 42
    end: date = date(2026, 9, 30)
    months: int = Field(30, ge=12, le=120)
    format: Literal["parquet", "csv"] = "parquet"


class LabelSettings(_Section):
    horizon_days: int = Field(180, gt=0, le=3650)
    as_of: date | None = None


class SplitSettings(_Section):
    test_quarters: int = Field(1, ge=1, le=8)
    calibration_quarters: int = Field(1, ge=1, le=8)
    # without creation dates the split is random: repeated over this many folds (1: one split) for exports of at
    # most cross_validate_up_to labelled leads, whose single test set would be too small to read
    folds: int = Field(8, ge=1, le=20)
    cross_validate_up_to: int = Field(50_000, ge=0)
    undated: UndatedSplit = Field(
        "random",
        description="without creation dates: random (stratified, cross-validated) or row_order (the export's last "
        "rows held out: rows in the order the leads came)",
    )

    def options(self) -> dict[str, Any]:
        """The split's keyword arguments of ``prepare_export``."""
        return {
            "test_quarters": self.test_quarters,
            "calibration_quarters": self.calibration_quarters,
            "folds": self.folds,
            "cross_validate_up_to": self.cross_validate_up_to,
            "undated": self.undated,
        }


class FeatureSettings(_Section):
    """Your company's view of e-mail domains (what is a feature of which column is the mapping's business)."""

    extra_freemail_domains: tuple[str, ...] = ()
    competitor_domains: tuple[str, ...] = ()


class ExplanationSettings(_Section):
    language: Language = "en"
    top_k: int = Field(3, ge=1, le=10)
    report_sample: int = Field(5_000, ge=100, description="leads drawn in the report's beeswarm and dependence plots")
    report_leads: int = Field(20_000, ge=1_000, description="most leads the report analyses (random sample)")
    reports_dir: Path = Path(".leadq/reports")


class ServingSettings(_Section):
    model_alias: str | None = Field("champion", description="registry alias served; null: serve model_version")
    model_version: str | None = None
    max_batch: int = Field(1_000, ge=1, le=100_000)
    max_request_bytes: int = Field(
        8 * 1024 * 1024, ge=1_024, description="largest request body (413 before it is read); raise with max_batch"
    )
    max_unknown_fields: int = Field(200, ge=0, description="fields the model does not know, per lead (422 beyond)")
    max_unknown_value_chars: int = Field(10_000, ge=1, description="longest unknown field's value as JSON (422 beyond)")
    max_activities: int = Field(1_000, ge=1, description="raw activities a lead may carry in a request (422 beyond)")
    account_key: Literal["email_domain", "account_id"] = Field(
        "email_domain",
        description="a lead's account in the service and the scoring log: its e-mail's business domain, or the "
        "account_id the request carries (without one, the domain); leadq score --log then logs the mapping's account "
        "column",
    )
    reload_interval_s: float = Field(0.0, ge=0, description="poll the registry alias; 0: only POST /v1/admin/reload")
    scoring_log_url: str | None = Field("sqlite:///.leadq/scoring_log.db", description="SQLAlchemy URL; null: off")
    scoring_log_flush_s: float = Field(1.0, gt=0, le=60)
    scoring_log_spool: Path | None = Field(
        None, description="local file scores wait in for the log's database; null: next to a SQLite log"
    )
    scoring_log_max_backlog: int = Field(50_000, ge=1, description="rows waiting beyond which /readyz answers 503")
    scoring_log_on_spool_failure: Literal["refuse", "serve"] = Field(
        "refuse", description="when the spool cannot write: refuse (503) or serve without logging (counted)"
    )
    scoring_log_spool_max_mb: float | None = Field(
        None, gt=0, description="cap on the spool file (its WAL adds up to 64 MB); null: any"
    )

    @model_validator(mode="after")
    def _alias_or_version(self) -> ServingSettings:
        if (self.model_alias is None) == (self.model_version is None):
            raise ValueError("set exactly one of model_alias and model_version")
        return self

    @model_validator(mode="after")
    def _spool_on_local_disk(self) -> ServingSettings:
        url = self.scoring_log_url
        if url and self.scoring_log_spool is None and (not url.startswith("sqlite") or ":memory:" in url):
            raise ValueError("scoring_log_spool: a scoring log that is not a SQLite file needs a local spool file path")
        return self


class RetrainSettings(_Section):
    """When ``leadq retrain`` promotes a challenger (see README, "The quarterly routine")."""

    min_auc_gain: float = Field(0.005, ge=0, le=0.2, description="the challenger's AUC must be higher by this")
    max_ece_increase: float = Field(
        0.005, ge=0, le=0.1, description="its calibration error may be higher by at most this (noise on a quarter)"
    )
    previous_alias: str = Field("previous", min_length=1)
    challenger_alias: str = Field("challenger", min_length=1)


class GateSettings(_Section):
    """The publish gate: what a new version must show before it becomes the champion (README, "The publish gate").

    The data minimum sits between the vendors' (Dynamics 365: 40 qualified and 40 disqualified leads; Salesforce
    Einstein: 1,000 leads and 120 conversions): with fewer than ~100 leads of the rarer outcome, the test leads
    (a quarter or a fifth of them) hold about 20, and an AUC measured on 20 conversions is +-0.1 wide, too wide to
    tell a useful model from chance.
    """

    min_leads: int = Field(1_000, ge=0, description="labelled leads the export must hold")
    min_conversions: int = Field(
        100, ge=0, description="leads of each outcome (converted and not) the export must hold"
    )
    min_auc: float = Field(
        0.60, ge=0.5, lt=1, description="the test AUC's interval must lie above this: clearly better than chance"
    )
    max_auc: float = Field(
        0.97,
        gt=0.5,
        le=1,
        description="a test AUC above this is refused: lead scoring that good is a column filled after contact",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1, description="of the bootstrap intervals the gate reads")
    resamples: int = Field(1_000, ge=100, le=20_000, description="bootstrap resamples of the test leads")


class AuditSettings(_Section):
    """``leadq audit``: the funnel target, the features whose values are new each quarter, and the thresholds."""

    target_customers_per_month: float = Field(20.0, gt=0, description="new customers a month for the funnel math")
    min_mqls: int = Field(30, ge=1, description="groups with fewer MQLs are listed but not flagged")
    time_bound_features: tuple[str, ...] = Field(
        ("campaign",), description="features (by name) with new values every quarter by nature: reported, not drift"
    )
    sal_low: float = Field(0.60, gt=0, lt=1)
    sql_low: float = Field(0.20, gt=0, lt=1)
    sql_good: float = Field(0.40, gt=0, lt=1)
    psi_drift: float = Field(0.20, gt=0)
    psi_watch: float = Field(0.10, gt=0)
    max_auc_drop: float = Field(0.03, ge=0, lt=0.5)
    max_ece: float = Field(0.03, gt=0, lt=0.5)
    max_calibration_gap: float = Field(0.25, gt=0)
    min_resolved_leads: int = Field(100, ge=1)
    min_won_leads: int = Field(10, ge=1)
    max_open_share: float = Field(0.5, gt=0, le=1, description="more open leads: ranking and calibration not judged")


class TrendSettings(_Section):
    """Score trends and ``leadq hot``, from the scoring log (README, "Engagement over time")."""

    window_days: int = Field(30, ge=1, description="a lead's trend compares its first and last score in this window")
    min_change_points: int = Field(5, ge=1, le=100, description="score points that make a trend improving/declining")
    first_run_days: int = Field(7, ge=1, description="`leadq hot` without an earlier run looks back this many days")
    lookback_days: int = Field(365, ge=1, description="`leadq hot` reads a lead's scores this far before the run")
    hot_state: Path = Field(Path(".leadq/hot_last_run.json"), description="when `leadq hot` last ran")


class Settings(BaseSettings):
    """Everything a leadq command needs; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="LEADQ_", env_nested_delimiter="__", extra="forbid", frozen=True)

    mlflow: MlflowSettings = MlflowSettings()
    data: DataSettings = DataSettings()
    synthetic: SyntheticSettings = SyntheticSettings()
    labels: LabelSettings = LabelSettings()
    split: SplitSettings = SplitSettings()
    features: FeatureSettings = FeatureSettings()
    model: BoosterParams = BoosterParams()
    threshold: ThresholdPolicy = ThresholdPolicy()
    explanations: ExplanationSettings = ExplanationSettings()
    grades: GradeSettings = GradeSettings()
    sla: SlaTable = SlaTable()
    serving: ServingSettings = ServingSettings()
    retrain: RetrainSettings = RetrainSettings()
    gate: GateSettings = GateSettings()
    audit: AuditSettings = AuditSettings()
    trends: TrendSettings = TrendSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML content arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    def resolved(self, base_dir: Path) -> Settings:
        """Return a copy whose relative paths and SQLite URI point below ``base_dir``."""
        return self.model_copy(
            update={
                "mlflow": self.mlflow.model_copy(
                    update={
                        "tracking_uri": _absolute_sqlite_uri(self.mlflow.tracking_uri, base_dir),
                        "artifact_location": _absolute(self.mlflow.artifact_location, base_dir),
                    }
                ),
                "serving": self.serving.model_copy(
                    update={
                        "scoring_log_url": _absolute_sqlite_uri(self.serving.scoring_log_url, base_dir)
                        if self.serving.scoring_log_url
                        else None,
                        "scoring_log_spool": _absolute(self.serving.scoring_log_spool, base_dir)
                        if self.serving.scoring_log_spool
                        else None,
                    }
                ),
                "explanations": self.explanations.model_copy(
                    update={"reports_dir": _absolute(self.explanations.reports_dir, base_dir)}
                ),
                "trends": self.trends.model_copy(update={"hot_state": _absolute(self.trends.hot_state, base_dir)}),
                "data": DataSettings(
                    export=_absolute(self.data.export, base_dir), mapping=_absolute(self.data.mapping, base_dir)
                ),
            }
        )


def _absolute(path: Path, base_dir: Path) -> Path:
    return path if path.is_absolute() else (base_dir / path).resolve()


def _absolute_sqlite_uri(uri: str, base_dir: Path) -> str:
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri.startswith(prefix + "/"):
        return uri
    return prefix + str(_absolute(Path(uri[len(prefix) :]), base_dir))


def _format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid settings"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        got = f" (got {item['input']!r})" if item["type"] != "missing" and "input" in item else ""
        message = item["msg"].removeprefix("Value error, ")  # pydantic's wording for a validator's ValueError
        lines.append(f"  {key}: {message}{got}")
    return "\n".join(lines)


def read_config_file(path: Path) -> dict[str, Any]:
    """Read the YAML settings file into a dict; a missing or malformed file raises ConfigError."""
    if not path.is_file():
        raise ConfigError(
            f"{path}: settings file not found; run leadq in the folder of your mlflow.yml (the repository's is the "
            f"shipped one) or name it with {CONFIG_ENV_VAR}=path/to/mlflow.yml"
        )
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level, got {type(content).__name__}")
    return content


def settings_file_named(path: Path | str | None = None) -> Path | None:
    """The settings file ``load_settings(path)`` reads: ``path``, $LEADQ_CONFIG or ./mlflow.yml; None when neither is
    named and ./mlflow.yml does not exist (a named file that does not exist is returned: reading it says so)."""
    named = path or os.environ.get(CONFIG_ENV_VAR)
    if named:
        return Path(named).resolve()
    default = Path(DEFAULT_CONFIG_FILE).resolve()
    return default if default.is_file() else None


def load_settings(path: Path | str | None = None) -> Settings:
    """Build validated settings from ``path`` (default: $LEADQ_CONFIG or ./mlflow.yml) and the environment."""
    config_path = settings_file_named(path) or Path(DEFAULT_CONFIG_FILE).resolve()  # missing: read_config_file says so
    content = read_config_file(config_path)
    try:
        settings = Settings(**content)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error, str(config_path))) from error
    return settings.resolved(config_path.parent)


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, loaded once; tests call ``get_settings.cache_clear()`` to reload."""
    return load_settings()

"""``leadq score``: a whole CRM export scored by a registered model, chunk by chunk, into a file a CRM imports.

The model is loaded as the scoring service loads it (the champion, or a version or alias named; its files
checked against the digest recorded at registration), and the export is read through the mapping the model
was trained with (the run's ``data/mapping.json``; ``--mapping`` names another). Each chunk is a thin pipeline
of small steps::

    read a chunk -> number its rows -> ids (none: rejected) -> --since (created on or after the date)
    -> repeated ids (rejected) -> each field checked as the service checks a request (unreadable: rejected)
    -> personal data in unseen categories replaced, as the service does -> LeadScorer.explain_columns (the array
    path under the service's own ``explain_records``: one TreeSHAP call per chunk) -> flat ``leadq_*`` columns
    -> appended to a temporary file

Scoring is the service's: the same checks, the same fields, the same arrays ``explain_records`` builds its answer
from (without a dict per lead), so a lead gets the score, grade and reasons the service would answer for it.
``--no-reasons`` (``ScoreOptions.reasons``) takes the same road to ``LeadScorer.predict_mql_columns`` instead:
probability, score and is_mql by the same rule, no TreeSHAP call, and no grade, priority or reasons columns. Memory
stays flat: Parquet is read in record batches (pyarrow), CSV in pandas chunks; an ``.xlsx`` file (and a CSV that is
not valid UTF-8, whose encoding the training reader guesses from the whole file) is read whole, then scored in
chunks. Only the ids already seen (to refuse a repeated one) grow with the export: about 20 bytes a lead
(``IdRegister``).

The output and the rejects file are written under temporary names in their own folders and renamed over the
targets at the end (``os.replace``): a failed or killed run never leaves a half file, and a file from an earlier
run stays as it was. A rejected row is named by its row number, its id, the field and why; never by a value.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.arrays import ArrowStringArray, BooleanArray, IntegerArray
from pydantic import ConfigDict, TypeAdapter, ValidationError

from models.accounts import (
    ACCOUNT_COLUMNS,
    account_keys,
    account_totals,
    email_field,
    engaged,
    merge_totals,
    rollup_from_totals,
)
from models.audit import OutOfRange, RangeTally
from models.cleaning import DateOrderEvidence, clean_column, date_order_evidence, mark_missing, parse_dates
from models.contract import DataContractError
from models.engagement import ActivityIndex
from models.explanations import contributions_from, features_for_contributions, tree_contributions, unseen_categories
from models.feature_text import Language, feature_name
from models.features import number_as_read
from models.scorer import ExplainedBatch, LeadScorer
from models.trends import trend_of
from pipelines.audit import read_score_history
from pipelines.crm_export.mapping import ExportMapping, MappingError, padding_matches
from pipelines.crm_export.prepare import table_path, with_row_ids
from pipelines.crm_export.read import (
    CSV_LAYOUT_LINES,
    SECTION_WORDS,
    TEXT_SUFFIXES,
    TOTALS_WORDS,
    UTF16_BOMS,
    csv_layout,
    drop_report_footer,
    filled_cells,
    footer_note,
    read_export,
    refuse_swallowed_rows,
    rows_longer_than_header,
    section_note,
    separator_hint,
    settled_rows,
    title_note,
    totals_note,
    without_blank_rows,
    without_section_rows,
    without_totals_rows,
)
from pipelines.crm_export.tables import activities_table
from pipelines.settings import Settings
from pipelines.tracking import not_found_hint, other_export_hint
from pipelines.training import registered_mapping
from serving.model_holder import (
    ModelHolder,
    ModelIntegrityError,
    ModelLoadError,
    ModelNotReadyError,
    blank_means_no_of,
    decimal_conventions_of,
    input_roles_of,
    placeholders_of,
)
from serving.pii import MARKER, REMOVED_WARNING, CategoryFields, category_fields, scrub_record
from serving.schemas import (
    CONTROL_CHARACTERS,
    EMAIL_LIMIT,
    LEAD_ID_LIMIT,
    MISSING_ALWAYS_GIVEN_WARNING,
    SHORT_TEXT_LIMIT,
    TEXT_LIMIT,
    UNREAD_NUMBER_WARNING,
    UNSEEN_WARNING,
    LeadBase,
    lead_in_model,
)
from serving.scoring_log import ScoringLog, default_spool_path, score_row

OutputFormat = Literal["parquet", "csv"]
DEFAULT_CHUNK_SIZE = 20_000
_CHECKED_VALUES_KEPT = 10_000  # distinct values remembered per field across chunks (e-mails are not worth it)
_TEMPORARY_SUFFIX = ".leadq-tmp"
_BLOCK = 1 << 20  # bytes read at a time when a CSV is checked for UTF-8
# A CSV row with more fields than the header (a separator in a value not in quotes) is rejected, not the file: up to
# this many fields more are read as fields the header does not name; a row with more refuses the file
SPARE_FIELDS = 8
# A CSV chunk's column where one of its rows has values in fields the header does not name: that row's field count
LONG_ROW = "\x00leadq_fields"


DEFAULT_MAX_REJECTED = 0.5  # of the rows read (those left out by --since aside)


@dataclass(frozen=True)
class ScoreOptions:
    """What ``leadq score`` was asked for (the paths are the final ones; temporaries sit next to them)."""

    out: Path
    rejects: Path
    fmt: OutputFormat = "parquet"
    version: str | None = None
    alias: str | None = None
    mapping: Path | None = None
    language: Language | None = None  # None: the model's own, as the service answers
    chunk_size: int = DEFAULT_CHUNK_SIZE
    since: date | None = None
    reasons: bool = True  # False: probability, score and is_mql only (no TreeSHAP: no grade, SLA or reasons)
    activities: Path | None = None  # the activities table (default: the mapping's file next to the export)
    accounts: Path | None = None  # the accounts' roll-up (and leadq_account per lead); None: no accounts
    log: bool = False  # append the scores to the scoring log, and give each lead its trend (reasons only)
    # the share of rows that may be rejected: more, and nothing is written (a changed export, not a few bad rows)
    max_rejected: float = DEFAULT_MAX_REJECTED


@dataclass(frozen=True)
class ScoringModel:
    """A registered model as the service serves it, and the mapping its export is read through."""

    scorer: LeadScorer
    name: str
    version: str
    mapping: ExportMapping
    roles: dict[str, str]  # the model's input fields (export columns) -> role: the service's request schema
    lead_model: type[LeadBase]  # the service's request body for one lead: checks each field by its role
    categories: CategoryFields  # category fields and the values seen in training (personal data is scrubbed)
    top_k: int
    language: Language | None
    # the input fields every training lead (almost) had, a checkbox's blank (no) aside: a lead without one is warned
    always_given: frozenset[str] = frozenset()

    @property
    def id_column(self) -> str:
        return self.mapping.id_column


def scoring_model(
    scorer: LeadScorer, name: str, version: str, mapping: ExportMapping, top_k: int, language: Language | None
) -> ScoringModel:
    """A loaded version's scorer with the request model the service checks its fields by (on one machine and on a
    Spark executor alike)."""
    roles = input_roles_of(scorer)
    return ScoringModel(
        scorer=scorer,
        name=name,
        version=version,
        mapping=mapping,
        roles=roles,
        lead_model=lead_in_model(roles, placeholders_of(scorer), decimal_conventions=decimal_conventions_of(scorer)),
        categories=category_fields(scorer.pipeline),
        top_k=top_k,
        language=language,
        # engagement from the activities table is computed, never missing as a field is: a lead without
        # activities has no visit to date from
        always_given=scorer.always_given() - blank_means_no_of(scorer) - set(engagement_columns(mapping)),
    )


@dataclass(frozen=True)
class Reject:
    """A row that was not scored: its row number (1: the first row after the header), id, field and why."""

    row: int
    lead_id: str | None
    field: str
    why: str


@dataclass(frozen=True)
class CheckedChunk:
    """A chunk's leads ready for the scorer (their ids and checked fields), and the rows that were not."""

    ids: np.ndarray
    columns: dict[str, np.ndarray]  # the model's input fields, as the service hands them to the scorer
    rejects: list[Reject]
    before_since: int  # rows created before --since (left out, not rejected)
    positions: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))  # the leads' rows in the chunk

    def records(self) -> list[dict[str, object]]:
        """The leads as the service's request records: one dict per lead, the model's fields only."""
        names = list(self.columns)
        return [dict(zip(names, row, strict=True)) for row in zip(*self.columns.values(), strict=True)]


@dataclass(frozen=True)
class ScoreSummary:
    name: str
    version: str
    out: Path
    rejects: Path
    scored: int
    rejected_rows: int
    before_since: int
    mqls: int
    grades: dict[str, int]
    seconds: float  # the whole run, the model's loading included
    loading_seconds: float  # of which finding, checking and loading the model
    read_whole: str | None  # why the export was read at once instead of in chunks (None: it was not)
    accounts: int | None = None  # accounts rolled up into ``ScoreOptions.accounts`` (None: not asked for)
    notes: tuple[str, ...] = ()  # how the export was read (a report's footer left out)
    # number features most scored leads hold beyond nearly every training lead's value, named as the export does
    beyond_training: tuple[OutOfRange, ...] = ()

    @property
    def leads_per_s(self) -> float:
        """Leads scored per second once the model is loaded (reading, checking, scoring and writing)."""
        scoring = self.seconds - self.loading_seconds
        return self.scored / scoring if scoring > 0 else 0.0


Progress = Callable[[int, int | None], None]  # (rows read so far, rows in the export if known)


# --- the model and its mapping ------------------------------------------------------------------------------------


def load_scoring_model(
    settings: Settings,
    version: str | None = None,
    alias: str | None = None,
    mapping_path: Path | None = None,
    language: Language | None = None,
) -> ScoringModel:
    """The registered model (the champion unless a version or an alias is named), loaded as the service loads it.

    Raises:
        LookupError: no such version or alias (or no MLflow store at all).
        ModelIntegrityError / ModelLoadError: the version's files were changed after registration, or are broken.
        MappingError: the mapping (the run's, or ``mapping_path``) is missing, invalid or not the model's.
    """
    if version is not None and alias is not None:
        raise ValueError("name a version or an alias, not both")
    uri, name = settings.mlflow.tracking_uri, settings.mlflow.registered_model
    alias = alias if alias is not None or version is not None else settings.mlflow.champion_alias
    wanted = f"version {version}" if version is not None else f"alias {alias!r}"
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise LookupError(f"no MLflow store at {uri}, so no {name!r} with {wanted}; run `leadq train` first")
    holder = ModelHolder(uri, name, alias, version)
    try:
        holder.reload()
    except (ModelIntegrityError, ModelLoadError):
        raise
    except ModelNotReadyError as error:
        hint = not_found_hint(uri, name, alias if version is None else None)
        raise LookupError(f"no registered model {name!r} with {wanted} in {uri}; {hint}") from error
    served = holder.current
    mapping = _mapping_for(uri, name, served.version, mapping_path)
    check_model_mapping(mapping, input_roles_of(served.scorer), mapping_path)
    # top_k as the service (pipelines/serve.py) answers
    return scoring_model(served.scorer, name, served.version, mapping, settings.explanations.top_k, language)


def _mapping_for(uri: str, name: str, version: str, mapping_path: Path | None) -> ExportMapping:
    """The mapping the version was trained with (its run's artifact), or the file given."""
    if mapping_path is not None:
        from pipelines.crm_export.mapping import load_mapping

        return load_mapping(mapping_path)
    return registered_mapping(uri, name, version)


def check_model_mapping(mapping: ExportMapping, roles: Mapping[str, str], source: Path | None) -> None:
    """Refuse a mapping that does not map the model's input fields in the roles the model reads them in.

    Raises:
        MappingError: the fields the mapping lacks or maps otherwise, named.
    """
    problems = []
    computed = set(engagement_columns(mapping))
    for column, role in roles.items():
        spec = mapping.columns.get(column)
        if spec is None and column in computed:
            continue  # an engagement feature of the activities table: computed as of the run, not read
        if spec is None:
            problems.append(f"{column!r} (a {role} the model reads) is not mapped")
        elif spec.role != role:
            problems.append(f"{column!r} is mapped as {spec.role}, the model reads it as {role}")
    if problems:
        where = str(source) if source else "the model's mapping"
        raise MappingError(f"{where} does not fit the model: {'; '.join(problems)}")


def required_columns(model: ScoringModel, since: date | None, logged: bool = False) -> list[str]:
    """The export columns scoring reads: the id, the model's input fields, and created_at for ``since`` and, where
    the mapping has one, for the scoring log (``logged``: the audit places each lead in its creation quarter).

    Raises:
        MappingError: ``since`` is asked for but the mapping has no created_at column.
    """
    computed = set(engagement_columns(model.mapping))
    ids = [model.id_column] if model.mapping.ids_in_export else []  # else leadq numbers the rows
    columns = [*ids, *(column for column in model.roles if column not in computed)]
    created = model.mapping.created_at_column
    if logged and created is not None:
        columns.append(created)
    if since is not None:
        if created is None:
            raise MappingError(
                "--since needs the leads' creation dates, and the mapping maps no column as created_at; "
                "score the whole export, or map the creation-date column (role created_at) and pass --mapping"
            )
        columns.append(created)
    return list(dict.fromkeys(columns))


def engagement_columns(mapping: ExportMapping) -> list[str]:
    """The model inputs the mapping's activities table gives (none without one): computed, not in the export."""
    spec = mapping.tables.activities
    return spec.windows().feature_names() if spec is not None else []


@dataclass(frozen=True)
class Engagement:
    """The activities table indexed by lead, and the moment the leads' engagement is computed at (the run)."""

    index: ActivityIndex
    moment: pd.Timestamp  # naive, as the CRM's activity times are read
    path: Path


def open_activities(model: ScoringModel, export: Path, path: Path | None, moment: pd.Timestamp) -> Engagement | None:
    """The model's activities table (``path``, or the mapping's file next to the export), read as training reads
    it; None for a model without one.

    Raises:
        MappingError: the table joins the leads on another column than the id (not supported here).
        DataContractError: the file is missing or unreadable (named).
    """
    spec = model.mapping.tables.activities
    if spec is None:
        return None
    if spec.lead_column not in (None, model.id_column):
        raise MappingError(
            f"tables.activities.lead_column {spec.lead_column!r}: leadq score joins activities on the lead id only; "
            "export the activities with the lead's id"
        )
    source = path if path is not None else table_path(spec.file, export)
    frame = read_export(source).frame
    if spec.key not in frame.columns:
        raise MappingError(f"tables.activities.key {spec.key!r} is not a column of {source}")
    keys, _ = clean_column(frame[spec.key].astype(object), "id", spec.key, model.mapping.placeholders)
    known = pd.Index(keys.dropna().astype(str).unique())
    activities, _ = activities_table(frame, spec, pd.Series(known, index=known), model.mapping.placeholders)
    return Engagement(ActivityIndex(activities, spec.windows()), moment, source)


def with_engagement(chunk: pd.DataFrame, model: ScoringModel, engagement: Engagement | None) -> pd.DataFrame:
    """The chunk with its leads' engagement features as of the run (unchanged without an activities table)."""
    if engagement is None:
        return chunk
    ids = read_ids(chunk[model.id_column], model.id_column, model.mapping.placeholders)
    features = engagement.index.features_at(pd.Index([str(i) if i is not None else "" for i in ids]), engagement.moment)
    return chunk.assign(**{name: features[name].to_numpy() for name in features.columns})


def account_sources(model: ScoringModel) -> tuple[str | None, str | None]:
    """The export columns a lead's account comes from: the mapping's account column, the model's e-mail field.

    Raises:
        MappingError: neither exists, so no lead has an account.
    """
    email = email_field(model.roles)
    account = model.mapping.account_column
    if account is None and email is None:
        raise MappingError(
            "--accounts needs the leads' account: map the CRM's account id column as role account (or an e-mail "
            "column the model reads, whose business domains become accounts)"
        )
    return account, email


def chunk_accounts(chunk: pd.DataFrame, model: ScoringModel, ids: np.ndarray) -> np.ndarray:
    """The account of each of ``ids`` (scored leads of ``chunk``): its account id, else its business e-mail domain."""
    return _accounts_by_id(chunk, model, ids, *account_sources(model))


def logged_accounts(
    chunk: pd.DataFrame, model: ScoringModel, ids: np.ndarray, by_account_id: bool = False
) -> np.ndarray:
    """The account the scoring log keeps for each of ``ids``, the key the service logs and reads: its business e-mail
    domain, or with ``by_account_id`` (``serving.account_key: account_id``, the service keyed by the account id the
    CRM sends) the mapping's account column where the lead has one, else that domain; None without either."""
    email = email_field(model.roles)
    return _accounts_by_id(chunk, model, ids, model.mapping.account_column if by_account_id else None, email)


def _accounts_by_id(
    chunk: pd.DataFrame, model: ScoringModel, ids: np.ndarray, account: str | None, email: str | None
) -> np.ndarray:
    if account is None and email is None:  # no column names an account (Olist's MQLs): none for any lead
        return np.full(len(ids), None, dtype=object)
    keys = account_keys(
        chunk[account].to_numpy(dtype=object) if account else None,
        chunk[email].to_numpy(dtype=object) if email else None,
    )
    chunk_ids = read_ids(chunk[model.id_column], model.id_column, model.mapping.placeholders)
    by_id = pd.Series(keys, index=pd.Index(chunk_ids, dtype=object))
    by_id = by_id[~by_id.index.duplicated()]  # a repeated id: only its first row is scored
    keys = by_id.reindex(pd.Index(ids, dtype=object)).to_numpy(dtype=object)
    keys[pd.isna(keys)] = None  # reindex turns None into NaN, which no log or JSON takes
    return keys


def chunk_account_totals(scores: pd.DataFrame, model: ScoringModel) -> pd.DataFrame:
    """The scored leads' partial account totals (``models.accounts.account_totals``)."""
    grades = scores["leadq_grade"].to_numpy(dtype=object) if "leadq_grade" in scores else None
    return account_totals(
        pd.DataFrame(
            {
                "lead_id": scores[model.id_column].astype(str).to_numpy(),
                "account": scores["leadq_account"].to_numpy(dtype=object),
                "probability": scores["leadq_probability"].to_numpy(),
                "is_mql": scores["leadq_is_mql"].to_numpy(),
                "engaged": engaged(grades) if grades is not None else np.zeros(len(scores), bool),
            }
        )
    )


@dataclass
class ScoreHistory:
    """Where ``--log`` puts the run's scores, and each lead's first score in the trend window before the run."""

    log: ScoringLog
    first: pd.Series  # lead id -> its first score in the window (before this run)
    count: pd.Series  # lead id -> its scores in the window (before this run)
    min_change_points: int

    def trends(self, ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Each lead's trend with this run's score as its last (``models.trends``: one rule for all)."""
        index = pd.Index(ids.astype(str))
        first = self.first.reindex(index).fillna(pd.Series(scores, index=index)).to_numpy(dtype=float)
        count = self.count.reindex(index).fillna(0).to_numpy(dtype=int) + 1
        return trend_of((scores - first).astype(int), count, self.min_change_points)

    def append(
        self,
        ids: np.ndarray,
        batch: ExplainedBatch,
        model: ScoringModel,
        scored_at: datetime,
        accounts: np.ndarray,
        created: list[datetime | None],
    ) -> None:
        threshold = model.scorer.threshold.threshold
        leads = zip(ids.tolist(), batch.records(), accounts.tolist(), created, strict=True)
        rows = [
            {
                **score_row(str(lead_id), record, model.name, model.version, threshold, created_at, account=account),
                "scored_at": scored_at,
            }
            for lead_id, record, account, created_at in leads
        ]
        self.log.append(rows)


def open_history(settings: Settings, now: pd.Timestamp) -> ScoreHistory:
    """The scoring log (its own spool, ``<spool>.score``: one ``leadq score --log`` at a time) and the scores of the
    trend window before ``now``.

    Raises:
        ValueError: no scoring log is configured. RuntimeError: another ``leadq score --log`` runs.
    """
    serving, trends = settings.serving, settings.trends
    url = serving.scoring_log_url
    if url is None:
        raise ValueError("--log appends to the scoring log, and serving.scoring_log_url is null; configure one")
    # Whole seconds in the log: a run in the same second as the last one must still count that one's scores.
    until = now + pd.Timedelta(seconds=1)
    history = read_score_history(url, now - pd.Timedelta(days=trends.window_days), until)
    by_lead = history.groupby("lead_id")["score"]
    spool = Path(serving.scoring_log_spool) if serving.scoring_log_spool else default_spool_path(url)
    log = ScoringLog(url, serving.scoring_log_flush_s, spool_path=spool.with_name(spool.name + ".score"))
    return ScoreHistory(log, by_lead.first(), by_lead.size(), trends.min_change_points)


def check_header(header: list[str], needed: list[str], path: Path) -> None:
    """Refuse an export without a column scoring reads; each one is named with the export's closest columns.

    Raises:
        DataContractError: the columns missing from ``header``.
    """
    missing = [column for column in needed if column not in header]
    if missing:
        named = []
        for column in missing:
            close = difflib.get_close_matches(column, header, n=2, cutoff=0.6)
            named.append(f"{column!r}" + (f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""))
        raise DataContractError(
            [f"{path}: column(s) the model reads are missing: {', '.join(named)}; expected the model's export columns"]
        )


# --- reading the export in chunks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportReader:
    """An export opened for scoring: its header, its rows (estimated for a CSV) and a reader of chunks."""

    path: Path
    header: list[str]
    total: int | None
    read_whole: str | None
    _chunks: Callable[[list[str], int], Iterator[pd.DataFrame]]
    notes: list[str] = field(default_factory=list)  # how it was read, once its chunks are read

    def chunks(self, columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        """The export's ``columns`` in chunks of ``chunk_size`` rows (every CSV and Excel cell as text)."""
        return self._chunks(columns, chunk_size)


def open_export(path: Path) -> ExportReader:
    """Open a CSV (separator and encoding detected as the training reader does), .xlsx or Parquet export.

    Raises:
        DataContractError: the file is missing, empty, unreadable or of another type; the message names it.
    """
    suffix = path.suffix.lower()
    if suffix not in (*TEXT_SUFFIXES, ".parquet", ".xlsx") or not path.is_file() or path.stat().st_size == 0:
        read_export(path)  # the training reader's refusal, in its words
    if suffix == ".parquet":
        return _open_parquet(path)
    if suffix in TEXT_SUFFIXES:
        utf8, lines = _utf8_lines(path)
        if utf8:
            return _open_csv(path, lines)
        with path.open("rb") as handle:
            utf16 = handle.read(2) in UTF16_BOMS
        if utf16:
            return _read_whole(path, "UTF-16 text (Excel's Unicode Text): the training reader reads it whole")
        return _read_whole(path, "not valid UTF-8: the training reader guesses the encoding from the whole file")
    return _read_whole(path, ".xlsx files are read whole (openpyxl cannot stream them)")


def _unreadable(path: Path, error: Exception) -> DataContractError:
    return DataContractError([f"{path} could not be read: {error}"])


def _open_parquet(path: Path) -> ExportReader:
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as error:
        raise _unreadable(path, error) from error

    def chunks(columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        try:
            read = 0
            for batch in parquet.iter_batches(batch_size=chunk_size, columns=columns):
                yield batch.to_pandas().set_axis(pd.RangeIndex(read, read + batch.num_rows))  # the rows' positions
                read += batch.num_rows
        except (OSError, pa.ArrowException) as error:
            raise _unreadable(path, error) from error

    return ExportReader(path, list(parquet.schema_arrow.names), parquet.metadata.num_rows, None, chunks)


def _utf8_lines(path: Path) -> tuple[bool, int]:
    """Whether the file is valid UTF-8 (read block by block, constant memory) and how many lines it has."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    feeds, returns, last = 0, 0, b""
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            feeds, returns, last = feeds + block.count(b"\n"), returns + block.count(b"\r"), block[-1:]
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return False, 0
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, 0
    breaks = feeds or returns  # lines ended by bare carriage returns when the file holds no line feed
    return True, breaks + (last not in (b"\n", b"\r"))  # the last line may have no line break


@contextmanager
def _below(path: Path, lines: int) -> Iterator[io.TextIOWrapper]:
    """The CSV's text from its line ``lines + 1`` on: lines above the header are skipped as whole lines, as the
    training reader skips them (pandas' ``skiprows`` counts rows, and a quote in a title would span lines)."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        for _ in range(lines):
            next(text, None)
        yield text


def _open_csv(path: Path, lines: int) -> ExportReader:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        top = [line for _, line in zip(range(CSV_LAYOUT_LINES + 1), handle, strict=False)]
    hint = separator_hint(top[0]) if top else None
    # as the training reader decides: the separator, and a report's title above the header
    separator, above = (hint, 0) if hint else csv_layout(top or [""])
    options: dict[str, Any] = {"sep": separator, "dtype": str, "keep_default_na": False}
    skipped = int(bool(hint)) + above
    try:
        with _below(path, skipped) as text:
            header = [str(column) for column in pd.read_csv(text, nrows=0, **options).columns]
    except (ValueError, pd.errors.ParserError) as error:
        raise _unreadable(path, error) from error
    notes: list[str] = [title_note(path.name, above)] if above else []
    spare = [f"\x00spare {number}" for number in range(SPARE_FIELDS)]

    def chunks(columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        # every column, blank lines kept: which rows are leads (blank rows, a report's footer) is decided on the
        # whole row, as the training reader decides it
        try:
            with _below(path, skipped) as text:
                # the header's record skipped as a record (a quoted line break in a name spans lines): pandas
                # refuses more names than the header has fields
                frames = pd.read_csv(
                    text,
                    chunksize=chunk_size,
                    skip_blank_lines=False,
                    header=None,
                    skiprows=1,
                    names=header + spare,
                    **options,
                )
                marked = _long_rows_marked(frames, len(header), separator, path)
                for frame in report_leads(marked, notes, path.name):
                    yield frame[[*columns, LONG_ROW]] if frame[LONG_ROW].ne("").any() else frame[columns]
        except pd.errors.ParserError as error:
            with _below(path, skipped) as text:
                said = rows_longer_than_header(text, separator, skipped)
            raise (DataContractError([f"{path}: {said}"]) if said else _unreadable(path, error)) from error
        except DataContractError:
            raise  # said in full where it was found (a swallowed row)
        except ValueError as error:
            raise _unreadable(path, error) from error

    # A line break inside a quoted cell counts too: the rows after the header are at most this (time left only).
    return ExportReader(path, header, max(lines - 1 - skipped, 0), None, chunks, notes)


def _long_rows_marked(frames: Iterator[pd.DataFrame], named: int, separator: str, path: Path) -> Iterator[pd.DataFrame]:
    """The chunks as the header names their fields, and ``LONG_ROW``: a row's field count where it holds a value in
    a field the header does not name (a separator in a value not in quotes shifted the rest), else empty. Fields
    left empty there (a separator at the end of every row) are no sign of it, as training reads them.

    Raises:
        DataContractError: a quote never closed swallowed rows of leads (as training refuses it).
    """
    first_row = 0
    for read in frames:
        # rows longer than every name (the first data row, or every row padded by a spreadsheet): pandas took their
        # first fields for an index; all of a row's fields, in their order
        fields = read if isinstance(read.index, pd.RangeIndex) else read.reset_index()
        fields = fields.set_axis(pd.RangeIndex(first_row, first_row + len(fields)), axis=0)
        first_row += len(fields)
        frame = fields.set_axis([*read.columns[:named], *range(fields.shape[1] - named)], axis=1)
        refuse_swallowed_rows(frame.iloc[:, :named], separator, path)
        spare = frame.iloc[:, named:]
        marks = np.full(len(frame), "", dtype=object)
        if spare.notna().to_numpy().any():  # rows as long as the header leave every spare field missing
            filled = filled_cells(spare)
            last = np.where(filled.any(axis=1), filled.shape[1] - np.argmax(filled[:, ::-1], axis=1), 0)
            marks = np.where(last > 0, (named + last).astype(str), "").astype(object)
        yield frame.iloc[:, :named].assign(**{LONG_ROW: marks})


def report_leads(frames: Iterator[pd.DataFrame], notes: list[str], name: str) -> Iterator[pd.DataFrame]:
    """A CSV's chunks as the training reader reads the whole file: blank rows and a report's footer left out
    (``drop_report_footer`` on the file's last rows, with a note in ``notes``).

    Each chunk's rows that no later row can make part of the footer (``settled_rows``) go on; the rest waits for the
    next chunk: a few rows, or the part from a blank line after the last full row on."""
    held: pd.DataFrame | None = None
    context: pd.DataFrame | None = None  # the last full row that went on: the footer rule reads what follows it
    sections: tuple[int, tuple[str, ...]] = (0, ())  # rows that repeat the column names so far, and titles above
    totals = 0  # rows inside the table that total a group, so far

    def leads_only(rows: pd.DataFrame) -> pd.DataFrame:
        nonlocal sections, totals
        counted, found = without_totals_rows(rows)
        if found:
            totals += found
            _say_once(notes, totals_note(name, totals), name, TOTALS_WORDS)
        leads, repeated, titles = without_section_rows(counted)
        if repeated:
            sections = (sections[0] + repeated, sections[1] + titles)
            _say_once(notes, section_note(name, *sections), name, SECTION_WORDS)
        return leads

    for frame in frames:
        held = frame if held is None else pd.concat([held, frame])
        settled, last_full = settled_rows(held)
        if settled:
            context = held.iloc[[last_full]] if last_full is not None else context
            yield leads_only(without_blank_rows(held.iloc[:settled]))
            held = held.iloc[settled:]
    if held is None:
        return
    leads, footer = drop_report_footer(held if context is None else pd.concat([context, held]), keep_positions=True)
    if footer and footer_note(name, footer) not in notes:  # said once, however often the file is read
        notes.append(footer_note(name, footer))
    leads = leads_only(leads if context is None else leads.iloc[1:])  # the full row went on already
    if len(leads):
        yield leads


def _excluded_note(export: Path, rows: int) -> str:
    return f"{export.name}: {rows:,} row(s) whose outcome the mapping lists under excluded (no leads) left out"


def _say_once(notes: list[str], note: str, name: str, kind: str) -> None:
    """``note`` in ``notes`` instead of any note about file ``name`` holding the words ``kind`` (its counts
    aside): a file read twice (``--since``, ``--log``) counts from 0 again and must not say it twice."""
    notes[:] = [said for said in notes if not (said.startswith(f"{name}: ") and kind in said)] + [note]


def _read_whole(path: Path, why: str) -> ExportReader:
    export = read_export(path, keep_positions=True)
    frame = export.frame.rename(columns=str)

    def chunks(columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        for start in range(0, len(frame), chunk_size):
            yield frame.iloc[start : start + chunk_size][columns]

    return ExportReader(path, list(frame.columns), len(frame), f"{path.name}: {why}", chunks, list(export.warnings))


# --- the steps of a chunk -------------------------------------------------------------------------------------------


def plain_values(values: pd.Series, role: str) -> np.ndarray:
    """A column as the Python values a JSON request would hold: None for missing, no numpy scalars.

    A category column that a reader made float because some cells are blank (12.0) is given as the integer
    code a CRM sends (12); the features step reads both as the category "12".
    """
    plain = values.astype(object).to_numpy(copy=True)
    plain[values.isna().to_numpy()] = None  # the Series' own mask: pd.isna of the values, cheaper on Arrow text
    if role == "categorical" and values.dtype.kind == "f":
        integral = np.array([isinstance(v, float) and v.is_integer() for v in plain], dtype=bool)
        plain[integral] = [int(v) for v in plain[integral]]
    return plain


def read_ids(values: pd.Series, id_column: str, placeholders: list[str]) -> np.ndarray:
    """Each row's lead id as training reads it ("1042.0" -> "1042", trimmed); None where there is none.

    The reading of ``clean_column``'s "id" role (a blank or a placeholder, compared trimmed and case-insensitively,
    is no id; ``id_column`` names the column there) in one pass over the values: ids hardly repeat, so judging
    each distinct value once, as ``clean_column`` does, costs a hash table and two passes for nothing.
    """
    keys = frozenset(placeholder.strip().casefold() for placeholder in placeholders) | {""}
    raw = values.to_numpy(dtype=object)
    present = ~pd.isna(raw)
    ids = np.full(len(raw), None, dtype=object)
    listed = raw[present].tolist()
    if _all_text(raw[present]):  # an export's ids as text: _lead_id without a call per id
        trimmed = [value.strip() for value in listed]
        ids[present] = [None if text.casefold() in keys else text for text in trimmed]
    else:
        ids[present] = [_lead_id(value, keys) for value in listed]
    return ids


_CONTROL_CHARACTER = re.compile(f"[{CONTROL_CHARACTERS}]")
UNFIT_ID = f"a lead id longer than {LEAD_ID_LIMIT} characters or with control characters (the service refuses it too)"


def unfit_ids(ids: np.ndarray) -> list[int]:
    """Positions of ids the service would refuse: longer than ``LEAD_ID_LIMIT`` or with control characters (one
    such id made the id register hold every id at its length, and PostgreSQL's log refuses NUL)."""
    listed = ids.tolist()
    texts = [lead_id for lead_id in listed if isinstance(lead_id, str)]
    if not texts or (max(map(len, texts)) <= LEAD_ID_LIMIT and not _CONTROL_CHARACTER.search("".join(texts))):
        return []  # the usual chunk: one pass in C over all of them
    return [
        position
        for position, lead_id in enumerate(listed)
        if isinstance(lead_id, str) and (len(lead_id) > LEAD_ID_LIMIT or _CONTROL_CHARACTER.search(lead_id))
    ]


def _all_text(values: np.ndarray) -> bool:
    """Whether every one of ``values`` (an object array, missing ones left out) is text (str or a subclass)."""
    return pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")


def _lead_id(value: object, placeholder_keys: frozenset[str]) -> str | None:
    """One present id as ``clean_column`` reads it: ``mark_missing``, then ``_identifier_text``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))  # CSV readers turn integer ids into floats when some are missing: 1042.0 is "1042"
    text = str(value).strip()
    return None if isinstance(value, str) and text.casefold() in placeholder_keys else text


def created_since(
    values: pd.Series, column: str, since: date, placeholders: list[str], order: DateOrderEvidence | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(created on or after ``since``, no readable creation date) per row, dates read as training reads them.

    ``order``: the whole column's day/month evidence (:func:`creation_date_order`), so that every chunk reads
    03/04/2026 the same way, as training decides it once per column.
    """
    created = creation_dates(values, column, placeholders, order)
    unreadable = created.isna().to_numpy()
    return (~unreadable) & (created >= pd.Timestamp(since)).to_numpy(), unreadable


def creation_dates(
    values: pd.Series, column: str, placeholders: list[str], order: DateOrderEvidence | None = None
) -> pd.Series:
    """The creation dates as training reads them (NaT: missing or unreadable), on a fresh index."""
    marked, _ = mark_missing(values.reset_index(drop=True), placeholders)
    return parse_dates(marked, column, max_unparseable_share=1.0, order=order)[0]


def logged_creation_times(
    chunk: pd.DataFrame, model: ScoringModel, positions: np.ndarray, order: DateOrderEvidence | None
) -> list[datetime | None]:
    """The scored leads' creation times for the scoring log, in UTC (None: no readable date, or no created_at
    column): the audit counts a lead in the quarter it was created in."""
    column = model.mapping.created_at_column
    if column is None or column not in chunk:
        return [None] * len(positions)
    dates = creation_dates(chunk[column].iloc[positions], column, model.mapping.placeholders, order)
    if dates.dt.tz is None:
        dates = dates.dt.tz_localize(UTC)  # an export's naive times are taken as UTC, as the service takes them
    return [None if pd.isna(value) else value.to_pydatetime() for value in dates.dt.tz_convert(UTC)]


def creation_date_order(
    reader: ExportReader, model: ScoringModel, options: ScoreOptions, in_file: Mapping[str, str] | None = None
) -> DateOrderEvidence:
    """The creation dates' day/month evidence over the whole file (a first pass reading that column only), and the
    order training read them in, which decides where this file's values cannot; ``in_file``: the export's name of
    a column the model names otherwise (``padding_matches``)."""
    column = model.mapping.created_at_column
    learnt = model.scorer.metadata.get("created_at_day_first")  # how training read them, where its values told
    evidence = DateOrderEvidence(learnt_day_first=learnt if isinstance(learnt, bool) else None)
    if column is None:
        return evidence
    column = (in_file or {}).get(column, column)
    for chunk in reader.chunks([column], options.chunk_size):
        marked, _ = mark_missing(chunk[column].reset_index(drop=True), model.mapping.placeholders)
        evidence = evidence + date_order_evidence(marked)
    return evidence


class IdRegister:
    """The ids seen so far and the row each was first seen in: a repeated id is rejected, the first is scored.

    Kept as one sorted array of the ids' UTF-8 bytes and one of their first rows (the id's length plus 9 bytes a
    lead; a dict of Python strings takes about 150), so a million ids stay about 20 MB.
    """

    def __init__(self) -> None:
        self._ids = np.array([], dtype="S1")  # sorted; each id's UTF-8 bytes and \x01 (numpy drops trailing \x00)
        self._rows = np.array([], dtype=np.int64)

    def repeated(self, ids: np.ndarray, rows: np.ndarray) -> dict[int, str]:
        """Positions of ``ids`` seen before (in an earlier row), with why; records the others."""
        if not len(ids):
            return {}
        keys = np.array([f"{lead_id}\x01".encode() for lead_id in ids.tolist()], dtype=bytes)
        rows = np.asarray(rows, dtype=np.int64)
        width = max(keys.dtype.itemsize, self._ids.dtype.itemsize)
        keys, self._ids = keys.astype(f"S{width}", copy=False), self._ids.astype(f"S{width}", copy=False)
        # each distinct id once, in sorted order: one search of the register, and nearby searches stay in cache
        distinct, first_position, inverse = np.unique(keys, return_index=True, return_inverse=True)
        at = np.searchsorted(self._ids, distinct)
        last = max(len(self._ids) - 1, 0)
        known = (self._ids[np.minimum(at, last)] == distinct) if len(self._ids) else np.zeros(len(distinct), bool)
        # an id seen before: the row it was first seen in; else its first row in this chunk
        first = np.where(known, self._rows[np.minimum(at, last)] if len(self._rows) else 0, rows[first_position])
        first = first[inverse]
        new = ~known
        self._ids = np.insert(self._ids, at[new], distinct[new])
        self._rows = np.insert(self._rows, at[new], rows[first_position][new])
        return {
            int(position): f"the id is also in row {first[position]}: {REPEATED_ID}"
            for position in np.flatnonzero(first != rows)
        }


REPEATED_ID = "only the first row of an id is scored"  # why a later row of an id is rejected (IdRegister)


class FieldChecker:
    """Each value checked as the service checks a request's field (its ``LeadIn``), once per distinct value.

    A value the service would refuse (a count that is no number, a negative count, text where yes/no belongs)
    is reported with the service's reason; a value it accepts is given to the scorer as the service gives it.
    Each field is validated by its own type in the request model (its validator and constraints, under the
    model's configuration): what ``LeadIn.model_validate`` runs for that field, without building a lead per value.
    """

    def __init__(self, lead_model: type[LeadBase], roles: Mapping[str, str]):
        self.lead_model = lead_model
        self.roles = dict(roles)
        self.positions = {column: position for position, column in enumerate(roles)}
        config = ConfigDict(**{key: value for key, value in lead_model.model_config.items() if key != "extra"})  # type: ignore[typeddict-item]
        self._fields: dict[str, TypeAdapter[Any]] = {}
        self._lists: dict[str, TypeAdapter[list[Any]]] = {}  # the same type for many values in one call
        for column, position in self.positions.items():
            field = lead_model.model_fields[f"field_{position}"]
            field_type = Annotated[(field.annotation, *field.metadata)]  # type: ignore[name-defined]
            self._fields[column] = TypeAdapter(field_type, config=config)
            self._lists[column] = TypeAdapter(list[field_type], config=config)
        self._known: dict[str, dict[object, tuple[bool, object]]] = {column: {} for column in roles}
        self._scrubbed: dict[str, dict[object, object]] = {column: {} for column in roles}

    def check_value(self, column: str, value: object) -> tuple[bool, object]:
        """(True, the value the scorer gets) or (False, why it is refused); the reason never repeats the value."""
        return self.check_values(column, [value])[0]

    def check_values(self, column: str, values: list[object]) -> list[tuple[bool, object]]:
        """``check_value`` of each of ``values``: the ones not remembered validated together, in one call."""
        known = self._known[column]
        keys = [(type(value), value) for value in values]  # 1, 1.0 and True are equal keys in a dict, not here
        checked = [known.get(key) for key in keys]
        new = [position for position, result in enumerate(checked) if result is None]
        if not new:
            return checked  # type: ignore[return-value]
        try:
            results = [(True, value) for value in self._lists[column].validate_python([values[p] for p in new])]
        except ValidationError:  # a value is refused: each one validated alone, for its own reason
            results = [self._validate(column, values[position]) for position in new]
        for position, result in zip(new, results, strict=True):
            checked[position] = result
            if len(known) < _CHECKED_VALUES_KEPT:
                known[keys[position]] = result
        return checked  # type: ignore[return-value]

    def _validate(self, column: str, value: object) -> tuple[bool, object]:
        try:
            return True, self._fields[column].validate_python(value)
        except ValidationError as error:
            return False, "; ".join(problem["msg"] for problem in error.errors())

    def check_series(
        self, column: str, values: pd.Series, categories: CategoryFields | None = None
    ) -> tuple[np.ndarray, dict[int, str]]:
        """``check_column`` of an export's column as read (``plain_values``): a column of numbers a reader typed (or
        of True/False in a yes/no field) without a Python value per lead where every value passes, and a column of
        Arrow text (Parquet; pandas' ``str``) within its field's limit without a check per value."""
        role = self.roles[column]
        floats = _accepted_numbers(values, role)
        if floats is not None:
            return floats, {}
        limit = _TEXT_LIMITS.get(role)
        if limit is not None and role in _REPEATING_ROLES and isinstance(values.array, ArrowStringArray):
            # categories and titles repeat: their distinct texts checked, and a Python string made, once each
            codes, uniques = pd.factorize(values, use_na_sentinel=True)  # pyarrow's hash table, not Python's
            texts = uniques.tolist()
            if max(map(len, texts), default=0) <= limit:
                scrub = categories if categories is not None and column in categories.known else None
                return self._given(column, codes, [(True, text) for text in texts], scrub), {}
        elif _arrow_texts_within(values, limit):
            return values.array.to_numpy(dtype=object, na_value=None), {}
        return self.check_column(column, plain_values(values, role), categories)

    def check_column(
        self, column: str, values: np.ndarray, categories: CategoryFields | None = None
    ) -> tuple[np.ndarray, dict[int, str]]:
        """The column's values as the scorer gets them, and the positions refused with why.

        ``categories``: the model's category fields; an accepted value of one is then scrubbed as the service
        scrubs a request's (``serving.pii.scrub_record``: personal-looking unseen categories replaced), once per
        distinct value.
        """
        scrubbed = categories is not None and column in categories.known
        texts = None if scrubbed else _accepted_texts(values, _TEXT_LIMITS.get(self.roles[column]))
        if texts is not None:
            return texts, {}
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        distinct = self.check_values(column, list(uniques))
        refused = {code: why for code, (ok, why) in enumerate(distinct) if not ok}
        positions = np.flatnonzero(np.isin(codes, list(refused))) if refused else np.array([], dtype=int)
        given = self._given(column, codes, distinct, categories if scrubbed else None)
        return given, {int(p): str(refused[codes[p]]) for p in positions}

    def _given(
        self,
        column: str,
        codes: np.ndarray,
        distinct: list[tuple[bool, object]],
        categories: CategoryFields | None,
    ) -> np.ndarray:
        """Each row's value as the scorer gets it from its code into ``distinct`` (checked; -1: missing)."""
        given = np.empty(len(distinct) + 1, dtype=object)
        given[: len(distinct)] = [
            (value if categories is None else self._scrub(column, value, categories)) if ok else None
            for ok, value in distinct
        ]
        given[-1] = None  # code -1: missing
        return as_read(given, self.roles[column])[codes]

    def _scrub(self, column: str, value: object, categories: CategoryFields) -> object:
        """An accepted category value as ``scrub_record`` leaves it (remembered per field, as the checks are)."""
        known = self._scrubbed[column]
        key = (type(value), value)
        if key not in known:
            scrubbed = scrub_record({column: value}, categories)[0][column]
            if len(known) >= _CHECKED_VALUES_KEPT:
                return scrubbed
            known[key] = scrubbed
        return known[key]


# The text fields' checks (serving.schemas: an e-mail, a job title, free text): any text up to this many characters
# is accepted as it is, so a column of such texts needs no check per distinct value (e-mails hardly repeat).
# A category is text up to SHORT_TEXT_LIMIT characters too, or an integer code (checked per distinct value).
_TEXT_LIMITS = {
    "email": EMAIL_LIMIT,
    "job_title": SHORT_TEXT_LIMIT,
    "text": TEXT_LIMIT,
    "multi_select": TEXT_LIMIT,
    "categorical": SHORT_TEXT_LIMIT,
}


_REPEATING_ROLES = frozenset({"categorical", "multi_select", "job_title"})


def _arrow_texts_within(values: pd.Series, limit: int | None) -> bool:
    """Whether ``values`` are pandas' Arrow text (every present value a str) of at most ``limit`` characters each,
    which a text field's check accepts as they are (Arrow counts code points, as ``len`` does)."""
    if limit is None or not isinstance(values.array, ArrowStringArray):
        return False
    longest = pc.max(pc.utf8_length(pa.array(values.array))).as_py()
    return longest is None or longest <= limit


def _accepted_texts(values: np.ndarray, limit: int | None) -> np.ndarray | None:
    """A text field's values as its check gives them when every present value is text within ``limit`` characters
    (missing: None); None when some value is not, and then each distinct value is checked for its own reason."""
    if limit is None:
        return None
    missing = pd.isna(values)
    present = values[~missing]
    if not _all_text(present) or max(map(len, present.tolist()), default=0) > limit:
        return None
    accepted = values.astype(object, copy=True)
    accepted[missing] = None
    return accepted


_NUMBER_ROLES = frozenset({"numeric", "count"})
_YES_NO_ROLES = frozenset({"boolean", "consent"})


def _accepted_numbers(values: pd.Series, role: str) -> np.ndarray | None:
    """What ``check_column`` and ``as_read`` give a column of a numeric NumPy type when the field's check accepts
    every value (a number field: finite numbers, >= 0 for a count; a yes/no field: True/False), as floats with NaN
    for missing; None otherwise (then each distinct value is checked for its own reason)."""
    masked = isinstance(values.array, IntegerArray | BooleanArray)  # pandas' nullable Int64 and boolean (Parquet)
    if not isinstance(values.dtype, np.dtype) and not masked:
        return None
    kind = values.dtype.kind
    if role in _YES_NO_ROLES and kind == "b":
        return values.to_numpy(dtype=float, na_value=np.nan, copy=True)
    if role not in _NUMBER_ROLES or kind not in "iuf":
        return None
    floats = values.to_numpy(dtype=float, na_value=np.nan, copy=True)
    present = floats[~np.isnan(floats)]
    if not np.isfinite(present).all() or (role == "count" and (present < 0).any()):
        return None
    return floats


def as_read(given: np.ndarray, role: str) -> np.ndarray:
    """Checked values as floats (None: NaN) where the features step reads the floats exactly as the values:
    numbers in a number field (``read_number``: a number is its float) and True/False in a yes/no field (1.0/0.0).
    The features step then takes its array path instead of a Python call per distinct value. Other values (text
    such as "1.200" or "ja", or True in a number field, which is no number there) are given unchanged."""
    if role not in _NUMBER_ROLES and role not in _YES_NO_ROLES:
        return given
    present = [value for value in given.tolist() if value is not None]
    if role in _NUMBER_ROLES:
        floats = all(isinstance(value, int | float) and not isinstance(value, bool) for value in present)
    else:
        floats = all(isinstance(value, bool) for value in present)
    if not floats:
        return given
    return np.array([math.nan if value is None else float(value) for value in given.tolist()], dtype=float)


def _without_problems(positions: np.ndarray, problems: Mapping[int, object]) -> np.ndarray:
    """Which of ``positions`` have no problem (a boolean mask)."""
    return ~np.isin(positions, np.fromiter(problems, dtype=np.int64, count=len(problems)))


def check_chunk(
    chunk: pd.DataFrame,
    rows: np.ndarray,
    model: ScoringModel,
    checker: FieldChecker,
    register: IdRegister,
    since: date | None = None,
    date_order: DateOrderEvidence | None = None,
    long_rows: Mapping[int, str] | None = None,
) -> CheckedChunk:
    """A chunk's leads ready for the scorer, and its rejected rows (no id, a repeated id, an unreadable field, a
    CSV row with more fields than the header: ``long_rows``, position -> why). ``rows``: each row's number in the
    export (1 = the first after the header; :func:`row_numbers`).

    Rows created before ``since`` are left out (counted); without a readable creation date they are rejected
    (``date_order``: the creation-date column's day/month evidence over the whole file). An id is registered
    only by a row that is scored, so a later, readable row of an id whose first row was rejected is scored.
    """
    placeholders = model.mapping.placeholders
    ids = read_ids(chunk[model.id_column], model.id_column, placeholders)
    problems: dict[int, list[tuple[str, str]]] = {}
    for position, why in (long_rows or {}).items():
        problems[position] = [(WHOLE_ROW, why)]
        ids[position] = None  # its values are shifted: the id too, maybe; the row number says which row it is
    for position in np.flatnonzero(pd.isna(ids)).tolist():
        if position not in problems:
            problems[position] = [(model.id_column, "no lead id")]
    for position in unfit_ids(ids):
        problems.setdefault(position, []).append((model.id_column, UNFIT_ID))
        ids[position] = None  # not written to the rejects file: the row number says which lead it is
    keep = ~pd.isna(ids)
    before_since = 0
    created = model.mapping.created_at_column
    if since is not None and created is not None:
        in_scope, undated = created_since(chunk[created], created, since, placeholders, date_order)
        for position in np.flatnonzero(keep & undated).tolist():
            problems.setdefault(position, []).append((created, "no readable creation date (--since needs one)"))
        before_since = int((keep & ~undated & ~in_scope).sum())
        keep &= in_scope
    kept = np.flatnonzero(keep)
    columns: dict[str, np.ndarray] = {}  # of the kept rows only: a lead left out by --since is not checked
    for column in model.roles:
        # category values scrubbed as the service scrubs them, in the same pass over their distinct values
        columns[column], refused = checker.check_series(column, chunk[column].iloc[kept], model.categories)
        for position, why in refused.items():
            problems.setdefault(int(kept[position]), []).append((column, why))
    readable = np.flatnonzero(_without_problems(kept, problems))
    for position, why in register.repeated(ids[kept[readable]], rows[kept[readable]]).items():
        problems.setdefault(int(kept[readable[position]]), []).append((model.id_column, why))
    scored = _without_problems(kept, problems)
    rejects = [
        Reject(int(rows[position]), ids[position], column, why)
        for position in sorted(problems)
        for column, why in problems[position]
    ]
    checked = {column: values[scored] for column, values in columns.items()}
    return CheckedChunk(ids[kept[scored]], checked, rejects, before_since, kept[scored])


WHOLE_ROW = "(the whole row)"  # the rejects file's field for a row that could not be read as the header names it


def row_numbers(chunk: pd.DataFrame) -> np.ndarray:
    """Each row's number in the export, 1 = the first after the header, from the chunk's index (every reader gives
    its rows' positions in the file, 0 = the first after the header): a blank line or a report's divider left out
    still counts, so the row numbers, the rejects' and ``lead_ids: row_number``'s, are the file's rows."""
    return chunk.index.to_numpy(dtype=np.int64) + 1


def _without_long_rows(chunk: pd.DataFrame, named: int) -> tuple[pd.DataFrame, dict[int, str]]:
    """The chunk without its ``LONG_ROW`` column, and the positions of its rows with more fields than the header's
    ``named`` -> why (none from a Parquet or workbook reader)."""
    if LONG_ROW not in chunk:
        return chunk, {}
    fields = chunk[LONG_ROW].to_numpy()
    long_rows = {
        int(position): (
            f"{fields[position]} fields where the header names {named}: a separator inside a value that is not in "
            "quotes shifts every value after it, so none is read; export again with values in quotes (or, where "
            "every row has them, add the missing column name to the header)"
        )
        for position in np.flatnonzero(fields != "")
    }
    return chunk.drop(columns=LONG_ROW), long_rows


def _long_row_numbers_refused(export: Path, row: int) -> str:
    return (
        f"{export}: data row {row:,} has more fields than the header (a separator inside a value that is not in "
        "quotes), and the leads are numbered by their row (lead_ids: row_number): a row left out would renumber "
        "the rows after it. Export again with values in quotes"
    )


def output_columns(id_column: str, top_k: int, reasons: bool = True) -> list[str]:
    """The output's columns: the CRM's id, then the ``leadq_*`` fields a CRM import maps.

    Without reasons: the id, probability, score, is_mql and the model (grade, priority and response time come from
    the SHAP values too, so they go with the reasons).
    """
    decision = [id_column, "leadq_probability", "leadq_score", "leadq_is_mql"]
    model = ["leadq_model", "leadq_model_version", "leadq_scored_at"]
    if not reasons:
        return [*decision, *model]
    for_ = [f"leadq_reason_{n}" for n in range(1, top_k + 1)]
    against = [f"leadq_reason_against_{n}" for n in range(1, top_k + 1)]
    return [
        *decision,
        "leadq_grade",
        "leadq_priority",
        "leadq_respond_within_hours",
        *for_,
        *against,
        "leadq_warnings",
        *model,
    ]


def lead_warnings(model: ScoringModel, checked: CheckedChunk, batch: ExplainedBatch) -> np.ndarray:
    """Per lead, what the service's answer warns of, by the export's column names ("" for most leads): the
    categories the model never saw and those whose personal data was removed, the fields (nearly) every training
    lead had and this one lacks (its score may be far off), and number fields whose text reads no number (all
    scored as unknown). Names only, never values."""
    n, words = len(checked.ids), model.lead_model.missing_words
    missing: dict[str, np.ndarray] = {}
    for column in sorted(model.always_given):
        values = checked.columns.get(column)
        rows = np.ones(n, bool) if values is None else _per_distinct(values, lambda v: _is_missing(v, words))
        if rows.any():
            missing[column] = rows
    unread: dict[str, np.ndarray] = {}
    for column, convention in model.lead_model.number_fields.items():
        values = checked.columns.get(column)
        if values is not None and values.dtype == object:
            rows = _per_distinct(values, lambda v, c=convention: _is_unread_number(v, c, words))  # type: ignore[misc]
            if rows.any():
                unread[column] = rows
    scrubbed = {
        column: rows
        for column in model.categories.known
        if column in checked.columns
        and checked.columns[column].dtype == object
        and (rows := checked.columns[column] == MARKER).any()
    }
    column_of = {feature: column for column, feature in model.categories.feature_of.items()}
    unseen = unseen_categories(batch.contributions)
    warned = np.full(n, "", dtype=object)
    flagged = [*missing.values(), *unread.values(), *scrubbed.values(), np.fromiter(map(bool, unseen), bool, n)]
    for lead in np.flatnonzero(np.logical_or.reduce(flagged)).tolist():
        # as the service words them (serving.app): a scrubbed category is said as personal data, not as unseen
        personal = [column for column, rows in scrubbed.items() if rows[lead]]
        new = [column_of.get(feature, feature) for feature in unseen[lead]]
        said = [
            f"{what}: {', '.join(columns)}"
            for what, columns in (
                (UNSEEN_WARNING, [column for column in new if column not in personal]),
                (REMOVED_WARNING, personal),
                (MISSING_ALWAYS_GIVEN_WARNING, [c for c, rows in missing.items() if rows[lead]]),
                (UNREAD_NUMBER_WARNING, [c for c, rows in unread.items() if rows[lead]]),
            )
            if columns
        ]
        warned[lead] = "; ".join(said)
    return warned


def _per_distinct(values: np.ndarray, test: Callable[[object], bool]) -> np.ndarray:
    """``test`` of each value, run once per distinct value (a chunk's column repeats a few values)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = np.array([*map(test, uniques.tolist()), test(None)], dtype=bool)  # code -1: missing
    return results[codes]


def _is_missing(value: object, words: frozenset[str]) -> bool:
    """As the service's ``LeadBase.missing_fields`` reads a value: none, or a word for missing ("", "Select")."""
    return value is None or (isinstance(value, str) and value.strip().casefold() in words) or value != value


def _is_unread_number(value: object, convention: str, words: frozenset[str]) -> bool:
    """As the service's ``LeadBase.unread_numbers`` reads a value: text the model reads no number from."""
    return (
        isinstance(value, str)
        and value.strip().casefold() not in words
        and math.isnan(number_as_read(value, convention, frozenset()))
    )


def flat_scores(
    ids: np.ndarray, batch: ExplainedBatch, model: ScoringModel, scored_at: str, warnings: np.ndarray
) -> pd.DataFrame:
    """One row per lead under the CRM's id: the decision, the top reasons' labels, ``warnings``
    (:func:`lead_warnings`) and the model version (straight from the scorer's arrays: no dict per lead)."""
    decided, k = batch.decided, model.top_k

    def labels(reasons: np.ndarray, slot: int) -> pd.Series:
        if slot >= reasons.shape[1]:  # fewer features than top_k: a column without reasons
            return pd.Series([None] * len(ids), dtype=object)
        return pd.Series(reasons[:, slot], dtype=object)

    frame = pd.DataFrame(
        {
            model.id_column: pd.Series(ids, dtype=object),
            "leadq_probability": pd.Series(decided["probability"], dtype="float64"),
            "leadq_score": pd.Series(decided["score"], dtype="int64"),
            "leadq_is_mql": pd.Series(decided["is_mql"], dtype="bool"),
            "leadq_grade": pd.Series(decided["grade"], dtype=object),
            "leadq_priority": pd.Series(decided["priority"], dtype=object),
            "leadq_respond_within_hours": pd.Series(decided["response_hours"], dtype="float64"),
            **{f"leadq_reason_{n + 1}": labels(batch.reasons_for.label, n) for n in range(k)},
            **{f"leadq_reason_against_{n + 1}": labels(batch.reasons_against.label, n) for n in range(k)},
            "leadq_warnings": pd.Series(warnings, dtype=object),
            **_model_columns(model, scored_at),
        }
    )
    return frame


def flat_decisions(
    ids: np.ndarray, decided: Mapping[str, np.ndarray], model: ScoringModel, scored_at: str
) -> pd.DataFrame:
    """One row per lead under the CRM's id: probability, score, is_mql (``LeadScorer.predict_mql_columns``) and the
    model."""
    frame = pd.DataFrame(
        {
            model.id_column: pd.Series(ids, dtype=object),
            "leadq_probability": pd.Series(np.asarray(decided["probability"]), dtype="float64"),
            "leadq_score": pd.Series(np.asarray(decided["score"]), dtype="int64"),
            "leadq_is_mql": pd.Series(np.asarray(decided["is_mql"]), dtype="bool"),
            **_model_columns(model, scored_at),
        }
    )
    return frame


def _model_columns(model: ScoringModel, scored_at: str) -> dict[str, str]:
    """The columns every row repeats (given once: the frame repeats them without a copy per column)."""
    return {"leadq_model": model.name, "leadq_model_version": model.version, "leadq_scored_at": scored_at}


def score_checked(model: ScoringModel, checked: CheckedChunk, scored_at: str, reasons: bool = True) -> pd.DataFrame:
    """The chunk's leads scored as the service's call (``explain_records``) scores them, as flat output rows:
    its array path (``LeadScorer.explain_columns``) without a record or result dict per lead.

    Without reasons: ``LeadScorer.predict_mql_columns`` on the same checked fields (``predict_mql``'s array path:
    ``predict_proba``'s probability and the same score and MQL rule, no TreeSHAP call).
    """
    if not len(checked.ids):
        return pd.DataFrame(columns=output_columns(model.id_column, model.top_k, reasons))
    if not reasons:
        decided = model.scorer.predict_mql_columns(scorer_columns(model, checked), len(checked.ids))
        return flat_decisions(checked.ids, decided, model, scored_at)
    batch = explain_checked(model, checked)
    return flat_scores(checked.ids, batch, model, scored_at, lead_warnings(model, checked, batch))


def start_scoring(
    model: ScoringModel,
    checked: CheckedChunk,
    scored_at: str,
    reasons: bool,
    predictions: BackgroundPredictions,
    ranges: RangeTally | None = None,
) -> Callable[[], pd.DataFrame]:
    """``score_checked``, begun: the chunk's scores when the returned function is called. The trees (TreeSHAP's
    ``pred_contrib`` with reasons, ``Booster.predict`` without) run in the background (``predictions``) meanwhile,
    and the caller reads and checks the next chunk; the steps are ``score_checked``'s, split where the trees run.
    The chunk's model features are counted into ``ranges`` (if given)."""
    if not len(checked.ids):
        return _scored(score_checked(model, checked, scored_at, reasons))
    columns, n, scorer = scorer_columns(model, checked), len(checked.ids), model.scorer
    if not reasons:
        features, matrix = scorer.encoded_columns(columns, n)
        raw = predictions.start(scorer.raw_predictions, matrix)
        if ranges is not None:
            ranges.add(features)
        return lambda: flat_decisions(checked.ids, scorer.decide_raw(raw()), model, scored_at)
    features, encoded = features_for_contributions(scorer.pipeline, columns, n)
    contributions = predictions.start(partial(tree_contributions, scorer.pipeline), encoded)
    if ranges is not None:
        ranges.add(features)

    def scores() -> pd.DataFrame:
        explained = contributions_from(scorer.pipeline, columns, pd.RangeIndex(n), features, encoded, contributions())
        batch = scorer.explain_arrays(explained, model.top_k, model.language)
        return flat_scores(checked.ids, batch, model, scored_at, lead_warnings(model, checked, batch))

    return scores


def _scored(scores: pd.DataFrame) -> Callable[[], pd.DataFrame]:
    return lambda: scores


class BackgroundPredictions:
    """A chunk's trees (``Booster.predict`` or TreeSHAP's ``pred_contrib``) on a thread of their own, so that
    ``leadq score`` reads, checks and encodes the next chunk (Python, on one core) while they run (LightGBM's call
    releases the GIL and runs on its usual threads). On 1,000,000 leads without reasons the run went from 0.79 to
    0.87 of ``Booster.predict`` alone; splitting the rows into one single-threaded call per core (tried) did no
    better."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="leadq-predict")

    def start(self, trees: Callable[[np.ndarray], np.ndarray], matrix: np.ndarray) -> Callable[[], np.ndarray]:
        """``trees(matrix)``, begun; the returned function waits for its result (and raises what it raised)."""
        return self._thread.submit(trees, matrix).result

    def __enter__(self) -> BackgroundPredictions:
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)


def scorer_columns(model: ScoringModel, checked: CheckedChunk) -> dict[str, np.ndarray]:
    """The fields of explain_records' records, as arrays (a field the chunk lacks: None, as record.get gives)."""
    n = len(checked.ids)
    inputs = model.scorer.pipeline.named_steps["features"].input_columns
    return {name: checked.columns.get(name, np.full(n, None, dtype=object)) for name in inputs}


def explain_checked(model: ScoringModel, checked: CheckedChunk) -> ExplainedBatch:
    """The chunk's leads through the scorer's array path (``LeadScorer.explain_columns``), with reasons."""
    n = len(checked.ids)
    return model.scorer.explain_columns(scorer_columns(model, checked), n, top_k=model.top_k, language=model.language)


# --- the file edge: temporary files renamed at the end ----------------------------------------------------------


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{_TEMPORARY_SUFFIX}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files that killed runs (SIGKILL: no clean-up) left next to ``path``; return them."""
    removed = []
    for leftover in path.parent.glob(f".{path.name}.*{_TEMPORARY_SUFFIX}"):
        pid = leftover.name.removeprefix(f".{path.name}.").removesuffix(_TEMPORARY_SUFFIX)
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


@contextmanager
def replaced_at_end(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed over it when the block ends normally and removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = _temporary(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _arrow_schema(columns: list[str]) -> pa.Schema:
    types = {
        "leadq_probability": pa.float64(),
        "leadq_score": pa.int64(),
        "leadq_is_mql": pa.bool_(),
        "leadq_respond_within_hours": pa.float64(),
    }
    return pa.schema([(column, types.get(column, pa.string())) for column in columns])


_UNIQUE_COLUMNS = frozenset({"leadq_probability", "row"})  # besides the id (the first column)


class TableWriter:
    """Appends frames of fixed columns to one Parquet or CSV file (CSV: UTF-8, comma, a header row)."""

    def __init__(self, path: Path, fmt: OutputFormat, columns: list[str]):
        self.columns, self.fmt = columns, fmt
        self._parquet: pq.ParquetWriter | None = None
        self._csv: io.TextIOWrapper | None = None
        if fmt == "parquet":
            self.schema = _arrow_schema(columns)
            # dictionary pages for the columns that repeat (grades, reasons, the model), not for ids and probabilities
            repeating = [column for column in columns if column not in _UNIQUE_COLUMNS and column != columns[0]]
            self._parquet = pq.ParquetWriter(path, self.schema, use_dictionary=repeating)
        else:
            self._csv = path.open("w", encoding="utf-8", newline="")
            csv.writer(self._csv).writerow(columns)

    def write(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        if self._parquet is not None:
            self._parquet.write_table(
                pa.Table.from_pandas(frame[self.columns], schema=self.schema, preserve_index=False)
            )
        elif self._csv is not None:
            frame[self.columns].to_csv(self._csv, header=False, index=False)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()


@contextmanager
def _table_writer(path: Path, fmt: OutputFormat, columns: list[str]) -> Iterator[TableWriter]:
    writer = TableWriter(path, fmt, columns)
    try:
        yield writer
    finally:
        writer.close()


def reject_columns(id_column: str) -> list[str]:
    """The rejects file's columns: the row number, the CRM's id, the field and why (no value of the row)."""
    return ["row", id_column, "field", "why"]


def rejects_frame(rejects: list[Reject], id_column: str) -> pd.DataFrame:
    """The rejects file's rows: row, the CRM's id (if any), field and why; never a value of the row."""
    return pd.DataFrame(
        {
            "row": [r.row for r in rejects],
            id_column: [r.lead_id for r in rejects],
            "field": [r.field for r in rejects],
            "why": [r.why for r in rejects],
        },
        columns=reject_columns(id_column),
    )


# --- the pipeline ---------------------------------------------------------------------------------------------------


_REFUSALS_KEPT = 1_000
_ROW_NAMED = re.compile(r"\brow \d+")  # "the id is also in row 17": one why for every repeated id


@dataclass
class _Tally:
    scored: int = 0
    rejected_rows: int = 0
    repeated_rows: int = 0  # of the rejected rows, later rows of an id (a join's repeats: no unreadable row)
    before_since: int = 0
    mqls: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    # rejected rows by field and why (the first distinct ones): what says why a whole file was refused
    refusals: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, scores: pd.DataFrame, checked: CheckedChunk) -> None:
        self.scored += len(scores)
        rejected = {reject.row for reject in checked.rejects}
        unreadable = {reject.row for reject in checked.rejects if not reject.why.endswith(REPEATED_ID)}
        self.rejected_rows += len(rejected)
        self.repeated_rows += len(rejected - unreadable)
        if len(self.refusals) < _REFUSALS_KEPT:  # by field and why, whichever row the why names
            self.refusals.update(
                (reject.field, _ROW_NAMED.sub("an earlier row", reject.why)) for reject in checked.rejects
            )
        self.before_since += checked.before_since
        self.mqls += int(scores["leadq_is_mql"].sum()) if len(scores) else 0
        if "leadq_grade" in scores:  # not without reasons
            self.grades.update(scores["leadq_grade"].tolist())

    def most_often(self) -> str:
        """The fields and whys that rejected the most rows, for a refusal."""
        return "; ".join(f"{name}: {why} ({rows:,} rows)" for (name, why), rows in self.refusals.most_common(3))


@contextmanager
def closing_log(history: ScoreHistory) -> Iterator[ScoreHistory]:
    """The history whose log is closed (its spool drained to the database) when the run ends, however it ends."""
    try:
        yield history
    finally:
        history.log.close()


def _write_rollup(rollup: pd.DataFrame, path: Path, fmt: OutputFormat) -> None:
    if fmt == "parquet":
        rollup.to_parquet(path, index=False)
    else:
        rollup.to_csv(path, index=False)


def run_score(
    settings: Settings, export: Path, options: ScoreOptions, progress: Progress | None = None
) -> ScoreSummary:
    """Score every lead of ``export`` into ``options.out`` (rejected rows into ``options.rejects``).

    Raises:
        LookupError: the model is not in the registry. MappingError: no usable mapping, or ``--since`` without a
        created_at column. DataContractError: the export is unreadable, empty or lacks a column the model reads.
    """
    started = time.perf_counter()
    reader = open_export(export)  # first: a wrong path is refused before the model is loaded
    loading = time.perf_counter()
    model = load_scoring_model(settings, options.version, options.alias, options.mapping, options.language)
    loading_seconds = time.perf_counter() - loading
    needed = required_columns(model, options.since, logged=options.log)
    if options.accounts is not None:
        account_column, _ = account_sources(model)
        needed = list(dict.fromkeys([*needed, *([account_column] if account_column else [])]))
    by_account_id = options.log and settings.serving.account_key == "account_id"  # the service's account key
    if by_account_id and model.mapping.account_column:
        needed = list(dict.fromkeys([*needed, model.mapping.account_column]))
    outcome = model.mapping.outcome_column or ""
    excludes = bool(outcome) and bool(model.mapping.columns[outcome].excluded)
    in_header = outcome in reader.header or outcome in padding_matches(reader.header, [outcome]).values()
    if excludes and in_header:  # the rows of deleted records: no leads
        needed = list(dict.fromkeys([*needed, outcome]))
    spaced = padding_matches(reader.header, needed)  # the export's column -> the name the model reads
    try:
        check_header([spaced.get(column, column) for column in reader.header], needed, export)
    except DataContractError as error:  # often another CRM's export, scored with the first one's champion
        hint = other_export_hint(settings.mlflow.tracking_uri, model.name, model.version, export)
        raise DataContractError([*error.problems, *([hint] if hint else [])]) from error
    in_file = {name: column for column, name in spaced.items()}
    checker, register, tally = FieldChecker(model.lead_model, model.roles), IdRegister(), _Tally()
    ranges = RangeTally(model.scorer.reference) if model.scorer.reference else None  # none before profiles
    scored_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    columns = output_columns(model.id_column, model.top_k, options.reasons)
    if options.accounts is not None:
        columns.insert(columns.index("leadq_model"), "leadq_account")
    if options.log:
        if not model.mapping.ids_in_export:
            raise MappingError(
                "--log keeps each lead's scores under its CRM id for the trends, leadq hot and the audit: not with "
                "lead_ids: row_number (row 17 tonight is not row 17 last night)"
            )
        if not options.reasons:
            raise ValueError(
                "--log keeps each score with its reasons and features for the audit: not with --no-reasons"
            )
        columns.insert(columns.index("leadq_model"), "leadq_trend")
    totals: list[pd.DataFrame] = []
    with ExitStack() as files:
        out = files.enter_context(replaced_at_end(options.out))
        rejects_path = files.enter_context(replaced_at_end(options.rejects))
        writer = files.enter_context(_table_writer(out, options.fmt, columns))
        rejects = files.enter_context(_table_writer(rejects_path, "csv", reject_columns(model.id_column)))
        dated = options.since is not None or options.log
        date_order = creation_date_order(reader, model, options, in_file) if dated else None
        now = pd.Timestamp(scored_at).tz_convert(None)
        engagement = open_activities(model, export, options.activities, now)
        history = files.enter_context(closing_log(open_history(settings, now))) if options.log else None
        predictions = files.enter_context(BackgroundPredictions())
        read = written = excluded = 0
        pending: tuple[pd.DataFrame, CheckedChunk, Callable[[], pd.DataFrame]] | None = None

        def write_scored(chunk: pd.DataFrame, checked: CheckedChunk, scoring: Callable[[], pd.DataFrame]) -> None:
            nonlocal totals, written
            scores = scoring()
            if options.accounts is not None:
                scores = scores.assign(leadq_account=chunk_accounts(chunk, model, checked.ids))
                totals = [merge_totals(*totals, chunk_account_totals(scores, model))]
            writer.write(scores)
            rejects.write(rejects_frame(checked.rejects, model.id_column))
            tally.add(scores, checked)
            written += len(chunk)
            if progress is not None:
                progress(written, reader.total)

        for read_chunk in reader.chunks([in_file.get(column, column) for column in needed], options.chunk_size):
            chunk, long_rows = _without_long_rows(read_chunk.rename(columns=spaced), len(reader.header))
            if excludes and (no_leads := model.mapping.excluded_rows(chunk).to_numpy()).any():
                excluded += int(no_leads.sum())
                kept = np.flatnonzero(~no_leads)
                moved = {int(old): new for new, old in enumerate(kept)}
                chunk = chunk.iloc[kept]
                long_rows = {moved[position]: why for position, why in long_rows.items() if position in moved}
            rows = row_numbers(chunk)
            if len(long_rows) and not model.mapping.ids_in_export:
                raise DataContractError([_long_row_numbers_refused(export, int(rows[min(long_rows)]))])
            chunk = with_engagement(with_row_ids(chunk, model.mapping, rows, reader.header), model, engagement)
            checked = check_chunk(chunk, rows, model, checker, register, options.since, date_order, long_rows)
            read += len(chunk)
            if history is None or not len(checked.ids):
                scoring = start_scoring(model, checked, scored_at, options.reasons, predictions, ranges)
            else:
                batch = explain_checked(model, checked)
                if ranges is not None:
                    ranges.add(batch.contributions.arrays)
                scores = flat_scores(checked.ids, batch, model, scored_at, lead_warnings(model, checked, batch))
                logged_at = pd.Timestamp(scored_at).to_pydatetime()
                history.append(
                    checked.ids,
                    batch,
                    model,
                    logged_at,
                    logged_accounts(chunk, model, checked.ids, by_account_id),
                    logged_creation_times(chunk, model, checked.positions, date_order),
                )
                scores["leadq_trend"] = history.trends(checked.ids, scores["leadq_score"].to_numpy())
                scoring = _scored(scores)
            if pending is not None:  # the chunk before: its trees ran while this one was read and checked
                write_scored(*pending)
            pending = (chunk, checked, scoring)
        if pending is not None:
            write_scored(*pending)
        if progress is not None:  # done: a CSV's line count was an upper bound (line breaks in cells, a footer)
            progress(read, read)
        if read == 0:
            raise DataContractError([f"{export} has no rows; expected a header and at least one row"])
        if tally.scored == 0 and tally.rejected_rows:
            # nothing to import: the previous output stays, and a scheduled run fails where someone looks
            raise DataContractError(
                [
                    f"{export}: every one of its {tally.rejected_rows:,} rows was rejected, so no file was written "
                    f"(the previous {options.out.name}, if any, stays as it was); most often {tally.most_often()}"
                ]
            )
        unreadable = tally.rejected_rows - tally.repeated_rows  # a join's repeated ids are no unreadable rows
        if unreadable > options.max_rejected * (tally.scored + unreadable):
            # most rows unreadable: a changed export (a column the CRM now writes otherwise), not a few bad rows;
            # importing the rest would leave most leads with yesterday's scores unnoticed
            judged = tally.scored + unreadable
            logged = f"; the {tally.scored:,} leads scored are in the scoring log (--log)" if options.log else ""
            raise DataContractError(
                [
                    f"{export}: {unreadable:,} of its {judged:,} rows ({unreadable / judged:.0%}) "
                    f"were rejected, more than --max-rejected {options.max_rejected:.0%}, so no file was written "
                    f"(the previous {options.out.name}, if any, stays as it was){logged}; most often "
                    f"{tally.most_often()}; to import the rest anyway, pass --max-rejected 1"
                ]
            )
        accounts = None
        if options.accounts is not None:
            rollup = rollup_from_totals(totals[0]) if totals else pd.DataFrame(columns=list(ACCOUNT_COLUMNS))
            if not options.reasons:
                rollup["engaged_leads"] = None  # the engagement digit is the grade's: not without reasons
            accounts_path = files.enter_context(replaced_at_end(options.accounts))
            _write_rollup(rollup, accounts_path, options.fmt)
            accounts = len(rollup)
    return ScoreSummary(
        name=model.name,
        version=model.version,
        out=options.out,
        rejects=options.rejects,
        scored=tally.scored,
        rejected_rows=tally.rejected_rows,
        before_since=tally.before_since,
        mqls=tally.mqls,
        grades=dict(sorted(tally.grades.items())),
        seconds=time.perf_counter() - started,
        loading_seconds=loading_seconds,
        read_whole=reader.read_whole,
        accounts=accounts,
        notes=(*reader.notes, *([_excluded_note(export, excluded)] if excluded else [])),
        beyond_training=tuple(_named(beyond, model) for beyond in (ranges.beyond_training() if ranges else ())),
    )


def _named(beyond: OutOfRange, model: ScoringModel) -> OutOfRange:
    """``beyond`` with its feature named as the export does ("Número de visitas")."""
    spec = model.scorer.pipeline.named_steps["features"].feature_spec
    return replace(beyond, feature=feature_name(beyond.feature, "en", spec.texts))

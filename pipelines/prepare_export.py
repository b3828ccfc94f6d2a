"""The data half of training on your own CRM export: a raw export and its mapping in, model-ready frames out.

:func:`prepare_export` is a thin pipeline of small pure steps, each taking frames and returning new ones::

    select mapped columns -> index by lead id -> drop duplicates -> clean each column by role (reported)
    -> labels -> split -> features (the model's own features step, fitted on the training leads)
    -> group rare categories (fitted on the training rows) -> leakage guard

The features are built by :class:`~models.mapped_features.MappedFeatureBuilder`, the step the trained model
carries, so what is checked here is what the model sees and what a scoring request becomes. Every choice
lands in ``PreparedExport.report``, a JSON-serialisable dict that training logs so the data team can audit it.
PII columns only yield derived flags (``<name>_is_freemail``, ``<name>_has_valid_email``) and are dropped:
no raw e-mail address reaches the features or the report. A leaking feature stops preparation
with :class:`~models.leakage.LeakageError`. :func:`prepare_export_files` is the file edge (the export, the
mapping, and the dispositions and deals tables the mapping names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from pandera.errors import SchemaErrors
from sklearn.model_selection import train_test_split

from models.cleaning import (
    OTHER_CATEGORY,
    CleaningError,
    clean_column,
    drop_exact_duplicates,
    duplicate_report,
    group_categories,
    mark_missing,
    parse_dates,
    rare_categories,
)
from models.contract import (
    DEAL_COLUMNS,
    DEALS_SCHEMA,
    DISPOSITION_COLUMNS,
    DISPOSITIONS_SCHEMA,
    CRMTables,
    DataContractError,
    require_both_classes,
)
from models.labels import build_labels, resolve_as_of
from models.leakage import LeakagePolicy, LeakageReport, check_leakage
from models.mapped_features import FeatureKind, MappedColumn, MappedFeatureBuilder, MappedRole
from pipelines.inspect_export import RawExport, read_export
from pipelines.mapping import ColumnSpec, ExportMapping, MappingError, check_against_export, load_mapping

Split = Literal["out_of_time", "random_stratified"]

MIN_DATED_SHARE = 0.95  # out of time needs created_at for at least this share of labelled leads
MIN_QUARTERS = 2
MIN_EMAIL_SHARE = 0.5  # a pii column yields e-mail flags only if most of its values contain an "@"
_CLEANED_ROLES = ("created_at", "numeric", "categorical", "boolean", "text", "pii")
_LABEL_ROLES = ("outcome", "stage", "reason")
_TABLE_SCHEMAS = {"dispositions": DISPOSITIONS_SCHEMA, "deals": DEALS_SCHEMA}
_TABLE_COLUMNS = {"dispositions": DISPOSITION_COLUMNS, "deals": DEAL_COLUMNS}
_TABLE_DATES = {"dispositions": ("timestamp",), "deals": ("created_at", "closed_at")}
_TABLE_CODES = {"dispositions": ("stage", "reason"), "deals": ("outcome",)}
_MAX_SHOWN = 5
_MAX_VALUES_REPORTED = 10


@dataclass(frozen=True)
class PreparedExport:
    """A mapped export ready for training: one row per lead, indexed by the lead id.

    ``features`` holds numeric features as float (booleans, text lengths and e-mail flags too, as 0/1 or
    counts) and categorical ones as str/NaN. ``y`` is 1 won, 0 lost, NaN unlabelled. ``train_mask`` is True
    for the rows a model is fitted on (unlabelled rows are never fitted or evaluated whatever their value).
    ``rows`` are the export's mapped columns as read, one per lead (the model's raw input; they may hold PII and
    are never logged), and ``columns`` the feature columns a model's features step reads.
    """

    features: pd.DataFrame
    y: pd.Series
    created_at: pd.Series | None
    train_mask: np.ndarray
    split: Split
    split_reason: str
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    report: dict[str, Any]
    rows: pd.DataFrame
    columns: tuple[MappedColumn, ...]


@dataclass(frozen=True)
class _Source:
    """Where a feature comes from, and how the leakage check names it (the export column the user maps)."""

    column: str
    kind: FeatureKind
    label: str


# --- steps --------------------------------------------------------------------------------------------------


def select_mapped_columns(leads: pd.DataFrame, mapping: ExportMapping) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The mapped columns of the export (a new frame) and the unmapped ones, which are reported and ignored.

    Raises:
        MappingError: a mapped column is missing from the export (the message suggests close matches).
    """
    frame = leads.rename(columns=str)
    check = check_against_export(mapping, list(frame.columns))
    return frame.loc[:, list(mapping.columns)].copy(), {"unmapped": list(check.unmapped)}


def index_by_id(frame: pd.DataFrame, id_column: str, placeholders: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The frame with cleaned ids ("1042.0" -> "1042", trimmed); rows without an id are dropped and counted."""
    ids, _ = clean_column(frame[id_column], "id", id_column, placeholders)
    has_id = ids.notna()
    return frame.assign(**{id_column: ids})[has_id], {"rows_without_id": int((~has_id).sum())}


def drop_duplicate_leads(frame: pd.DataFrame, id_column: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop rows that repeat another in every mapped column; return the frame indexed by ``lead_id``.

    Raises:
        DataContractError: an id occurs in rows that differ; the message names up to five such ids.
    """
    report = duplicate_report(frame, id_column)
    unique_rows = drop_exact_duplicates(frame)
    ids = unique_rows[id_column]
    conflicting = ids[ids.duplicated(keep=False)].unique().tolist()
    if conflicting:
        raise DataContractError(
            [
                f"{id_column}: {len(conflicting)} lead id(s) occur in rows that differ, e.g. "
                f"{conflicting[:_MAX_SHOWN]}; expected one row per lead (merge or remove the conflicting rows)"
            ]
        )
    indexed = unique_rows.set_index(id_column)
    indexed.index.name = "lead_id"
    return indexed, report


def clean_mapped_columns(
    frame: pd.DataFrame, mapping: ExportMapping
) -> tuple[dict[str, pd.Series], dict[str, dict[str, Any]]]:
    """Each mapped column cleaned by its role, with its cleaning report.

    Categories are normalised but not grouped yet: rare grouping is fitted on the training rows after the split.
    Label columns (outcome, stage, reason) only have placeholders marked missing; after_contact and ignore
    columns are left out.

    Raises:
        CleaningError: a column cannot be read as its role; the message names it and gives examples.
    """
    cleaned: dict[str, pd.Series] = {}
    reports: dict[str, dict[str, Any]] = {}
    for column, spec in mapping.columns.items():
        if spec.role in _CLEANED_ROLES:
            cleaned[column], reports[column] = clean_column(frame[column], spec.role, column, mapping.placeholders)
        elif spec.role == "outcome_at":
            cleaned[column], reports[column] = clean_column(frame[column], "date", column, mapping.placeholders)
        elif spec.role in _LABEL_ROLES:
            cleaned[column], _ = mark_missing(frame[column], mapping.placeholders)
    return cleaned, reports


def mapped_columns(mapping: ExportMapping, export: pd.DataFrame | None = None) -> tuple[MappedColumn, ...]:
    """The mapping's feature columns as the model's features step reads them, in mapping order.

    Names are ``mapping.feature_names()``; groups ``mapping.feature_groups()``: the column's ``group``, or
    engagement when its name mentions visits, pages, sessions, opens, clicks, downloads, webinars, events,
    demos, activity, forms or time on site, else fit (:func:`pipelines.mapping.guess_group`).

    Args:
        export: the export's rows (raw values). Given, a pii column is kept only if most of its values hold
            an "@" (e-mail flags are all it can yield); without it, every pii column is taken as an e-mail.
    """
    names, groups = mapping.feature_names(), mapping.feature_groups()
    columns = []
    for column, name in names.items():
        role = cast(MappedRole, mapping.columns[column].role)  # feature_names() holds feature roles only
        if role == "pii" and export is not None and not _holds_emails(export[column], mapping.placeholders):
            continue
        columns.append(MappedColumn(column=column, role=role, name=name, group=groups[column]))
    return tuple(columns)


def _holds_emails(values: pd.Series, placeholders: list[str]) -> bool:
    present = mark_missing(values, placeholders)[0].dropna().astype(str)
    return bool(len(present)) and float(present.str.contains("@", regex=False).mean()) >= MIN_EMAIL_SHARE


def feature_sources(columns: tuple[MappedColumn, ...]) -> dict[str, _Source]:
    """Each feature's export column, kind and the name the leakage check gives it (``Description (length)``).

    Raises:
        MappingError: two features would get the same name (e.g. a text column's ``<name>_length``).
    """
    sources: dict[str, _Source] = {}
    for mapped in columns:
        for feature, kind in mapped.derived_features():
            if feature in sources:
                raise MappingError(
                    f"columns: {mapped.column!r} gives the feature {feature!r}, which {sources[feature].column!r} "
                    "gives too; expected unique feature names (set name: on one of them)"
                )
            own_column = kind in ("numeric", "categorical", "boolean")
            label = mapped.column if own_column else f"{mapped.column} ({feature[len(mapped.name) + 1 :]})"
            sources[feature] = _Source(mapped.column, kind, label)
    return sources


def build_feature_frame(
    rows: pd.DataFrame, columns: tuple[MappedColumn, ...], fit_mask: np.ndarray, placeholders: list[str]
) -> tuple[pd.DataFrame, MappedFeatureBuilder]:
    """The feature frame (mapping order) of the export's rows, and the features step fitted on ``fit_mask`` rows.

    The model's own step builds it, so it holds exactly what the model will see; raw PII never enters it.

    Raises:
        CleaningError: the fitting rows of a column cannot be read as its role.
    """
    builder = MappedFeatureBuilder(columns, tuple(placeholders)).fit(rows.loc[fit_mask])
    order = [feature for mapped in columns for feature, _ in mapped.derived_features()]
    return builder.transform(rows)[order], builder


def labels_from_outcome(values: pd.Series, spec: ColumnSpec, column: str) -> tuple[pd.Series, dict[str, Any]]:
    """Single-table labels: 1 for the mapping's won values, 0 for its lost values, NaN (unresolved) otherwise.

    No censoring: an export with one outcome column says nothing about when a lead could still convert.
    """
    outcome = values.map(lambda value: spec.outcome_of(value), na_action="ignore")
    y = outcome.map({"won": 1.0, "lost": 0.0}).astype("float64").rename("label")
    unresolved = values[y.isna()].astype(object).map(lambda value: str(value).strip(), na_action="ignore")
    counts = unresolved.fillna("(missing)").value_counts()
    return y, {
        "source": "outcome column",
        "column": column,
        "unresolved_values": {str(k): int(v) for k, v in counts.head(_MAX_VALUES_REPORTED).items()},
    }


def validate_table(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """A dispositions or deals table parsed (dates, lower-case codes, blanks as missing) and checked by its schema.

    Raises:
        DataContractError: a column is missing or holds values the leadq contract does not allow.
    """
    parsed = frame.rename(columns=str).reset_index(drop=True).astype(object)
    parsed = parsed.mask(parsed.map(lambda value: isinstance(value, str) and not value.strip()))
    problems: list[str] = []
    for column in _TABLE_DATES[table]:
        if column in parsed:
            dates = pd.to_datetime(parsed[column], errors="coerce", format="mixed", utc=True)
            unreadable = parsed.loc[dates.isna() & parsed[column].notna(), column].astype(str).unique().tolist()
            if unreadable:
                problems.append(f"{table}.{column}: expected dates, got {unreadable[:3]}")
            parsed[column] = dates.dt.tz_localize(None).astype("datetime64[ns]")
    for column in _TABLE_CODES[table]:
        if column in parsed:
            parsed[column] = parsed[column].map(lambda value: str(value).strip().lower(), na_action="ignore")
    try:
        validated = _TABLE_SCHEMAS[table].validate(parsed, lazy=True)
    except SchemaErrors as errors:
        raise DataContractError(problems + _schema_problems(errors, table)) from errors
    if problems:
        raise DataContractError(problems)
    return validated


def _schema_problems(errors: SchemaErrors, table: str) -> list[str]:
    problems = []
    for (column, check), group in errors.failure_cases.groupby(["column", "check"], dropna=False, sort=False):
        examples = group["failure_case"].astype(str).unique()[:3].tolist()
        if str(check) == "column_in_dataframe":
            problems.append(f"{table}: missing required column(s) {examples}; expected {list(_TABLE_COLUMNS[table])}")
        else:
            problems.append(f"{table}.{column}: expected {check}, got {examples}")
    return problems


def _empty_table(table: str) -> pd.DataFrame:
    return validate_table(pd.DataFrame(columns=list(_TABLE_COLUMNS[table])), table)


def _require_known_leads(table: pd.DataFrame, name: str, lead_ids: pd.Index) -> None:
    unknown = table.loc[~table["lead_id"].isin(lead_ids), "lead_id"].unique().tolist()
    if unknown:
        raise DataContractError(
            [f"{name}.lead_id: points at {len(unknown)} lead(s) not in the export, e.g. {unknown[:_MAX_SHOWN]}"]
        )


def labels_from_tables(
    created_at: pd.Series,
    dispositions: pd.DataFrame,
    deals: pd.DataFrame,
    horizon_days: int,
    as_of: pd.Timestamp | None,
) -> tuple[pd.Series, dict[str, Any]]:
    """Three-table labels: leadq's label rule (``build_labels``) over the export's leads and the given tables.

    Leads created after ``as_of`` or without a creation date get NaN (reported as outside the label window).
    """
    leads = pd.DataFrame({"lead_id": created_at.index.astype(str), "created_at": created_at.to_numpy()})
    tables = CRMTables(leads=leads, dispositions=dispositions, deals=deals)
    cut = resolve_as_of(tables, as_of)
    labels = build_labels(tables, horizon_days, cut).set_index("lead_id")
    y = labels["label"].reindex(created_at.index).astype("float64").rename("label")
    reasons = labels["label_reason"].value_counts()
    return y, {
        "source": "dispositions and deals tables",
        "as_of": cut.isoformat(),
        "horizon_days": horizon_days,
        "by_reason": {str(k): int(v) for k, v in reasons.items()},
        "outside_label_window": int(len(created_at) - len(labels)),
    }


def _out_of_time_cut(y: pd.Series, created_at: pd.Series | None, test_share: float) -> tuple[pd.Timestamp | None, str]:
    """The creation date from which leads are evaluation rows, or None and why the split cannot be by time."""
    if created_at is None:
        return None, "no created_at column in the mapping"
    labelled = y.notna()
    dated = created_at[labelled].notna()
    if dated.mean() < MIN_DATED_SHARE:
        return None, (
            f"created_at missing for {1 - dated.mean():.0%} of labelled leads "
            f"(out of time needs it for at least {MIN_DATED_SHARE:.0%})"
        )
    dates = created_at[labelled & created_at.notna()]
    quarters = sorted(str(q) for q in dates.dt.to_period("Q").unique())
    if len(quarters) < MIN_QUARTERS:
        return None, f"labelled leads span {len(quarters)} quarter(s) ({', '.join(quarters)}); out of time needs 2"
    cut = dates.sort_values().iloc[-max(1, round(test_share * len(dates)))]
    evaluation = dates >= cut
    for part, rows in (("evaluation", evaluation), ("training", ~evaluation)):
        classes = y[dates.index][rows].unique()
        if len(classes) < 2:
            only = "all won" if classes.tolist() == [1.0] else "all lost" if len(classes) else "empty"
            return None, f"the {part} rows of a time-ordered cut at {cut:%Y-%m-%d} would be {only}"
    return cut, (
        f"the latest {evaluation.mean():.0%} of labelled leads by created_at ({int(evaluation.sum())} leads created "
        f"from {cut:%Y-%m-%d}) are the evaluation rows; labelled leads span {quarters[0]} to {quarters[-1]}"
    )


def split_leads(
    y: pd.Series, created_at: pd.Series | None, test_share: float, random_state: int
) -> tuple[np.ndarray, Split, str]:
    """Out of time when creation dates allow it, else random stratified; returns the mask, the kind and why.

    Raises:
        DataContractError: no labelled leads, one class only, or too few of a class to hold some out.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be between 0 and 1 (the share of labelled leads held out), got {test_share}")
    labelled = y.dropna()
    if labelled.empty:
        raise DataContractError(["labels: no lead has a won or lost outcome; expected both won and lost leads"])
    require_both_classes(labelled, "labelled leads")
    cut, reason = _out_of_time_cut(y, created_at, test_share)
    if cut is not None and created_at is not None:
        return (~(created_at >= cut)).to_numpy(), "out_of_time", reason
    positions = np.flatnonzero(y.notna().to_numpy())
    try:
        _, held_out = train_test_split(positions, test_size=test_share, stratify=labelled, random_state=random_state)
    except ValueError as error:
        counts = labelled.value_counts().to_dict()
        raise DataContractError(
            [f"labels: cannot hold out {test_share:.0%} of {len(labelled)} leads by class {counts}: {error}"]
        ) from error
    train_mask = np.ones(len(y), dtype=bool)
    train_mask[held_out] = False
    return train_mask, "random_stratified", f"random stratified: {reason}"


def group_rare_categories(
    features: pd.DataFrame, categorical: tuple[str, ...], train_mask: np.ndarray, min_share: float
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Categories rarer than ``min_share`` on the training rows, or absent from them, become ``"other"``."""
    grouped = features.copy()
    reports: dict[str, dict[str, Any]] = {}
    for name in categorical:
        train_values = features.loc[train_mask, name]
        rare = rare_categories(train_values, min_share) if min_share > 0 else []
        seen = set(train_values.dropna().astype(str)) | {OTHER_CATEGORY}
        unseen = sorted(set(features[name].dropna().astype(str)) - seen)
        grouped[name] = group_categories(features[name], [*rare, *unseen])
        reports[name] = {"rare_grouped": rare, "rare_fitted_on": "training rows", "unseen_in_training": len(unseen)}
    return grouped, reports


# A value that looks like a calendar date: 2026-03-01, 01.03.2026, 3/1/2026 (with or without a time).
_DATE_LIKE = re.compile(r"\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}([ T]\d{1,2}:\d{2}.*)?\s*")
MIN_DATE_SHARE = 0.9


def date_valued_columns(
    rows: pd.DataFrame, sources: Mapping[str, _Source], placeholders: list[str]
) -> dict[str, pd.Series]:
    """Feature columns whose values are dates (say "Last Activity" mapped as a category), parsed, by label.

    Such a column is checked against the outcome date: filled in after the deal closed, it leaks the outcome.
    """
    dated: dict[str, pd.Series] = {}
    for column in dict.fromkeys(source.column for source in sources.values()):
        values = mark_missing(rows[column], placeholders)[0]
        present = values.dropna().astype(str)
        if len(present) and float(present.str.fullmatch(_DATE_LIKE).mean()) >= MIN_DATE_SHARE:
            try:
                dated[column] = parse_dates(values, column)[0]
            except CleaningError:
                continue  # not dates after all: the AUC checks still cover the column
    return dated


def outcome_dates(
    cleaned: Mapping[str, pd.Series], mapping: ExportMapping, deals: pd.DataFrame | None, index: pd.Index
) -> pd.Series | None:
    """When each lead was won or lost: the mapped ``outcome_at`` column, else the first closed deal's date."""
    if mapping.outcome_at_column is not None:
        return cleaned[mapping.outcome_at_column].reindex(index)
    if deals is None or deals.empty:
        return None
    closed = deals[deals["outcome"].astype(str).str.lower().isin(("won", "lost"))]
    first = pd.to_datetime(closed["closed_at"], errors="coerce").groupby(closed["lead_id"].astype(str)).min()
    return first.reindex(index.astype(str)).set_axis(index)


def check_feature_leakage(
    features: pd.DataFrame,
    y: pd.Series,
    train_mask: np.ndarray,
    sources: Mapping[str, _Source],
    mapping: ExportMapping,
    dates: Mapping[str, pd.Series] | None = None,
    outcome_at: pd.Series | None = None,
) -> LeakageReport:
    """The leakage checks on the features, named by the export column the user maps (``Description (length)``).

    ``leakage.allowed`` names export columns: every feature derived from one is allowed. ``dates``: date-valued
    feature columns (by export column) checked against ``outcome_at``; all series aligned with ``features``.
    """
    allowed = set(mapping.leakage.allowed)
    allowed_labels = {source.label for source in sources.values() if source.column in allowed}
    # An allowed column that is not a feature keeps its name, so that check_leakage notes it is not checked.
    allowed_labels |= allowed - {source.column for source in sources.values()}
    policy = LeakagePolicy(
        max_single_feature_auc=mapping.leakage.max_single_feature_auc,
        max_missingness_auc=mapping.leakage.max_missingness_auc,
        allowed=frozenset(allowed_labels),
    )
    named = features.rename(columns={name: source.label for name, source in sources.items()})
    aligned = {column: dated.reindex(features.index).reset_index(drop=True) for column, dated in (dates or {}).items()}
    outcome = None if outcome_at is None else outcome_at.reindex(features.index).reset_index(drop=True)
    return check_leakage(named, y.to_numpy(dtype=float), train_mask, policy, aligned or None, outcome)


# --- the pipeline -------------------------------------------------------------------------------------------


def _label_source(mapping: ExportMapping, dispositions: pd.DataFrame | None, deals: pd.DataFrame | None) -> str:
    has_tables = dispositions is not None or deals is not None
    if mapping.outcome_column and has_tables:
        raise MappingError(
            f"ambiguous labels: the mapping has an outcome column ({mapping.outcome_column!r}) and dispositions/deals "
            "tables were given; expected one of them (remove the outcome role or the tables section)"
        )
    if mapping.outcome_column:
        return "outcome"
    if not has_tables:
        raise MappingError(
            "no labels: the mapping has no outcome column and no dispositions or deals table was given "
            "(prepare_export_files reads the tables the mapping names)"
        )
    if mapping.created_at_column is None:
        raise MappingError(
            "columns: labels from dispositions and deals need the lead's creation date; map a column as created_at"
        )
    return "tables"


def _labels(
    cleaned: Mapping[str, pd.Series],
    mapping: ExportMapping,
    source: str,
    tables: tuple[pd.DataFrame | None, pd.DataFrame | None],
    horizon_days: int,
    as_of: pd.Timestamp | None,
) -> tuple[pd.Series, dict[str, Any]]:
    if source == "outcome":
        column = mapping.outcome_column
        assert column is not None  # _label_source returns "outcome" only when there is one
        y, report = labels_from_outcome(cleaned[column], mapping.columns[column], column)
    else:
        created_column = mapping.created_at_column
        assert created_column is not None  # checked by _label_source
        created_at = cleaned[created_column]
        dispositions, deals = (
            validate_table(frame, name) if frame is not None else _empty_table(name)
            for frame, name in zip(tables, ("dispositions", "deals"), strict=True)
        )
        for table, name in ((dispositions, "dispositions"), (deals, "deals")):
            _require_known_leads(table, name, created_at.index)
        y, report = labels_from_tables(created_at, dispositions, deals, horizon_days, as_of)
    counts = {"won": int((y == 1).sum()), "lost": int((y == 0).sum()), "unlabelled": int(y.isna().sum())}
    return y, {**counts, **report}


def prepare_export(
    leads: pd.DataFrame,
    mapping: ExportMapping,
    *,
    dispositions: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    horizon_days: int = 180,
    as_of: pd.Timestamp | None = None,
    random_state: int = 42,
    test_share: float = 0.25,
) -> PreparedExport:
    """Clean, label, split and leak-check a raw export as its mapping says; the inputs are not modified.

    Labels come from the mapping's outcome column (single table) or from ``dispositions`` and ``deals`` in
    leadq's contract format (three tables, leadq's label rule with ``horizon_days`` and ``as_of``), never both.

    Raises:
        MappingError: a mapped column is missing, or the label source is missing or ambiguous.
        DataContractError: ids that disagree, tables that break the contract, labels of one class only.
        CleaningError: a column cannot be read as its role.
        LeakageError: a feature leaks the outcome and the mapping does not allow it.
    """
    selected, columns_report = select_mapped_columns(leads, mapping)
    label_source = _label_source(mapping, dispositions, deals)
    with_ids, id_report = index_by_id(selected, mapping.id_column, mapping.placeholders)
    unique, duplicates = drop_duplicate_leads(with_ids, mapping.id_column)
    cleaned, cleaning = clean_mapped_columns(unique, mapping)
    columns = mapped_columns(mapping, unique)
    sources = feature_sources(columns)
    y, labels = _labels(cleaned, mapping, label_source, (dispositions, deals), horizon_days, as_of)
    created_column = mapping.created_at_column
    created_at = cleaned[created_column].rename("created_at") if created_column else None
    train_mask, split, split_reason = split_leads(y, created_at, test_share, random_state)
    # Fitted on the leads a model is fitted on: the features here are the model's, convention and all.
    features, builder = build_feature_frame(unique, columns, train_mask & y.notna().to_numpy(), mapping.placeholders)
    for column, convention in builder.decimal_conventions_.items():
        cleaning[column]["decimal_convention"] = convention
    categorical = tuple(name for name, source in sources.items() if source.kind == "categorical")
    features, grouping = group_rare_categories(features, categorical, train_mask, mapping.rare_category_share)
    for name, report in grouping.items():
        cleaning[sources[name].column] |= report
    dates = date_valued_columns(unique, sources, mapping.placeholders)
    outcome_at = outcome_dates(cleaned, mapping, deals, features.index) if dates else None
    leakage = check_feature_leakage(features, y, train_mask, sources, mapping, dates, outcome_at)
    leakage.raise_if_leaks()
    report = {
        "rows": {
            "export": len(leads),
            **id_report,
            "exact_duplicates_dropped": len(with_ids) - len(unique),
            "leads": len(unique),
        },
        "columns": {**columns_report, **_roles_report(mapping, cleaned, sources)},
        "duplicates": duplicates,
        "cleaning": cleaning,
        "features": {name: {"column": s.column, "kind": s.kind} for name, s in sources.items()},
        "labels": labels,
        "split": _split_report(split, split_reason, y, train_mask),
        "leakage": _leakage_report(leakage, sources),
    }
    return PreparedExport(
        features=features,
        y=y,
        created_at=created_at,
        train_mask=train_mask,
        split=split,
        split_reason=split_reason,
        numeric_features=tuple(str(name) for name in features if name not in categorical),
        categorical_features=categorical,
        report=report,
        rows=unique,
        columns=columns,
    )


def _roles_report(
    mapping: ExportMapping, cleaned: Mapping[str, pd.Series], sources: Mapping[str, _Source]
) -> dict[str, Any]:
    derived = {source.column for source in sources.values()}
    return {
        "pii_dropped": {
            column: "e-mail flags derived" if column in derived else "no e-mail addresses: nothing derived"
            for column in mapping.columns_with("pii")
        },
        "after_contact_dropped": mapping.columns_with("after_contact"),
        "ignored": mapping.columns_with("ignore"),
        "label_only": mapping.columns_with(*_LABEL_ROLES),
        "created_at": mapping.created_at_column,
        "created_at_missing": int(cleaned[mapping.created_at_column].isna().sum())
        if mapping.created_at_column
        else None,
    }


def _split_report(split: Split, reason: str, y: pd.Series, train_mask: np.ndarray) -> dict[str, Any]:
    labelled = y.notna().to_numpy()
    return {
        "kind": split,
        "reason": reason,
        "train_labelled": int((labelled & train_mask).sum()),
        "evaluation_labelled": int((labelled & ~train_mask).sum()),
        "evaluation_won_share": float(y[~train_mask].mean()) if (labelled & ~train_mask).any() else None,
    }


def _leakage_report(leakage: LeakageReport, sources: Mapping[str, _Source]) -> dict[str, Any]:
    by_label = {source.label: name for name, source in sources.items()}
    report = leakage.as_dict()
    report["table"] = [{**row, "feature": by_label.get(row["column"])} for row in report["table"]]
    return report


# --- the file edge ------------------------------------------------------------------------------------------


def _table_path(path: Path | None, mapping_path: Path) -> Path | None:
    # Relative paths in a mapping file are relative to the mapping file, wherever the command runs.
    if path is None or path.is_absolute():
        return path
    return mapping_path.parent / path


def unique_leads(leads: pd.DataFrame, mapping: ExportMapping) -> pd.DataFrame:
    """The export's mapped columns, one row per lead, indexed like ``prepare_export``'s features."""
    selected, _ = select_mapped_columns(leads, mapping)
    with_ids, _ = index_by_id(selected, mapping.id_column, mapping.placeholders)
    unique, _ = drop_duplicate_leads(with_ids, mapping.id_column)
    return unique


def read_mapped_files(
    export_path: Path, mapping_path: Path
) -> tuple[ExportMapping, RawExport, dict[str, pd.DataFrame | None]]:
    """The mapping, the export and the dispositions and deals tables it names (relative to the mapping file)."""
    mapping = load_mapping(mapping_path)
    export = read_export(export_path)
    tables = {
        name: read_export(path).frame if path is not None else None
        for name, path in (
            ("dispositions", _table_path(mapping.tables.dispositions, mapping_path)),
            ("deals", _table_path(mapping.tables.deals, mapping_path)),
        )
    }
    return mapping, export, tables


def prepare_export_files(
    export_path: Path | str,
    mapping_path: Path | str,
    *,
    horizon_days: int = 180,
    as_of: pd.Timestamp | None = None,
    random_state: int = 42,
    test_share: float = 0.25,
) -> PreparedExport:
    """Read the export, the mapping and the tables it names (relative to the mapping file), then prepare.

    Raises:
        MappingError, DataContractError (unreadable files, named), CleaningError, LeakageError: as
        :func:`prepare_export`.
    """
    mapping, export, tables = read_mapped_files(Path(export_path), Path(mapping_path))
    prepared = prepare_export(
        export.frame,
        mapping,
        dispositions=tables["dispositions"],
        deals=tables["deals"],
        horizon_days=horizon_days,
        as_of=as_of,
        random_state=random_state,
        test_share=test_share,
    )
    source = {
        "export": str(export_path),
        "mapping": str(mapping_path),
        "separator": export.separator,
        "encoding": export.encoding,
    }
    return replace(prepared, report={"source": source, **prepared.report})

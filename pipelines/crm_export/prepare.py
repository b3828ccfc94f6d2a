"""How a CRM export becomes model-ready leads: read, map, clean, label, split and guard against leaks.

One road for every export, the synthetic demo included. :func:`read_export_files` is the file edge (the leads
file, its mapping and the further tables the mapping names); :func:`prepare_export` is a thin pipeline of
small pure steps, each taking frames and returning new ones::

    select mapped columns -> index by lead id -> drop duplicates -> clean each column by role (reported)
    -> labels (an outcome column, or dispositions and deals in the CRM's own words) -> split (out of time
    when dates allow) -> features (the model's own features step, fitted on the training leads)
    -> group rare categories (fitted on the training rows) -> leakage guard

The features are built by :class:`~models.features.LeadFeatures`, the step the trained model carries, so what
is checked here is what the model sees and what a scoring request becomes. Every choice lands in
``PreparedExport.report``, a JSON-serialisable dict that training logs so the data team can audit it. E-mail
and job-title columns only yield derived features; pii columns are dropped: no raw e-mail address or name
reaches the features or the report. A leaking feature stops preparation with
:class:`~pipelines.crm_export.leakage.LeakageError`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.cleaning import (
    FALSE_WORDS,
    MONTH_NAME_DATE,
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
from models.contract import CRMTables, DataContractError
from models.engagement import engagement_features, scoring_moments
from models.features import FeatureKind, InputColumn, LeadFeatures
from models.labels import TimeSplit, UndatedSplit, build_labels, resolve_as_of, split_leads
from pipelines.crm_export.leakage import OPTION_REMEDY, LeakagePolicy, LeakageReport, Untouched, check_leakage
from pipelines.crm_export.mapping import (
    UNREAD_ROLES,
    ColumnSpec,
    ExportMapping,
    MappingError,
    check_against_export,
    load_mapping,
    normalize_value,
    option_label,
    padding_matches,
)
from pipelines.crm_export.read import RawExport, read_export
from pipelines.crm_export.tables import (
    activities_table,
    deals_table,
    dispositions_table,
    empty_table,
    won_date_deals,
)

# How each role's column is cleaned for the report and the checks (the model's step reads the raw values).
_CLEANED_AS = {
    "created_at": "created_at",
    "numeric": "numeric",
    "count": "numeric",
    "categorical": "categorical",
    "boolean": "boolean",
    "consent": "boolean",
    "text": "text",
    "multi_select": "text",
    "job_title": "text",
    "email": "pii",
    "pii": "pii",
    "outcome_at": "date",
    "won_at": "date",
}
_LABEL_ROLES = ("outcome", "stage", "reason")
_MAX_VALUES_REPORTED = 10
_MAX_SHOWN = 5


@dataclass(frozen=True)
class LoadedExport:
    """An export as read: the leads file, its mapping, and the further tables the mapping names (raw)."""

    mapping: ExportMapping
    leads: RawExport
    tables: dict[str, pd.DataFrame]  # "dispositions", "deals", "activities": as the CRM wrote them
    path: Path | None = None
    mapping_path: Path | None = None


@dataclass(frozen=True)
class PreparedExport:
    """A mapped export ready for training: one row per lead, indexed by the lead id.

    ``rows`` are the export's mapped columns as read (the model's raw input; they may hold PII and are never
    logged); ``columns`` the input columns the model's features step reads; ``features`` what that step makes of
    them (rare categories grouped), as the leakage guard checked them. ``y`` is 1 won, 0 lost, NaN unlabelled.
    ``dispositions`` and ``deals`` are the further tables in leadq's words (empty for a single table); with an
    activities table, ``rows`` also hold each lead's engagement features at its scoring moment
    (``models.engagement``) and ``activities`` the table in leadq's words.
    """

    rows: pd.DataFrame
    columns: tuple[InputColumn, ...]
    features: pd.DataFrame
    y: pd.Series
    created_at: pd.Series | None
    split: TimeSplit
    as_of: pd.Timestamp
    dispositions: pd.DataFrame
    deals: pd.DataFrame
    report: dict[str, Any]
    activities: pd.DataFrame | None = None  # in leadq's words, where the mapping names an activities table

    @property
    def train_mask(self) -> np.ndarray:
        return self.rows.index.isin(self.split.train)


@dataclass(frozen=True)
class _Source:
    """Where a feature comes from, and how the leakage check names it (the export column the user maps)."""

    column: str
    kind: FeatureKind
    label: str


# --- steps --------------------------------------------------------------------------------------------------


def select_mapped_columns(leads: pd.DataFrame, mapping: ExportMapping) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The mapped columns of the export (a new frame) and the unmapped ones, which are reported and ignored; a
    column mapped after_contact, ignore or pii that the export lacks is an empty one (nothing is made from it).

    Raises:
        MappingError: a mapped column of another role is missing from the export (the message suggests close
            matches).
    """
    frame = leads.rename(columns=str)
    frame = frame.rename(columns=padding_matches(list(frame.columns), mapping.columns))
    check = check_against_export(mapping, list(frame.columns))
    rows = np.arange(1, len(frame) + 1)
    absent = {column: pd.Series(None, index=frame.index, dtype=object) for column in check.missing_unread}
    selected = with_row_ids(
        frame.assign(**absent).loc[:, list(mapping.columns)], mapping, rows, columns=list(frame.columns)
    )
    return selected.copy(), {"unmapped": list(check.unmapped), "absent_unread": list(check.missing_unread)}


def with_row_ids(frame: pd.DataFrame, mapping: ExportMapping, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """``frame`` with its ``rows`` (each row's number in the export, 1 = the first after the header) as the lead ids
    where the mapping says ``lead_ids: row_number``; unchanged otherwise.

    Raises:
        MappingError: the export (``columns``, its header) already has a column of the row ids' name.
    """
    if mapping.ids_in_export:
        return frame
    if mapping.id_column in columns:
        raise MappingError(
            f"lead_ids: row_number names the row ids {mapping.id_column!r}, and the export has a column of that "
            "name; map that column (role id, lead_ids: column) or rename it"
        )
    ids = np.asarray(rows).astype(str)
    return frame.assign(**{mapping.id_column: pd.Series(ids, index=frame.index, dtype=object)})


# A CRM fills its lead id in every row: a column filled in fewer rows than this is filled later (an opportunity's
# id, a contact's once converted), and keying leads by it would train on the few rows it fills. inspect proposes
# no such column as the id; check-export and training refuse one mapped so.
MIN_ID_FILLED_SHARE = 0.9


def index_by_id(frame: pd.DataFrame, id_column: str, placeholders: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The frame with cleaned ids ("1042.0" -> "1042", trimmed); rows without an id are dropped and counted.

    Raises:
        MappingError: the id column fills fewer than ``MIN_ID_FILLED_SHARE`` of the rows.
    """
    ids, _ = clean_column(frame[id_column], "id", id_column, placeholders)
    has_id = ids.notna()
    without = int((~has_id).sum())
    if without > (1 - MIN_ID_FILLED_SHARE) * len(frame):
        raise MappingError(
            f"{id_column!r} (role id) is empty in {without:,} of {len(frame):,} rows ({without / len(frame):.0%}); "
            "a lead id fills every row: map the column that does as the id, or use lead_ids: row_number"
        )
    return frame.assign(**{id_column: ids})[has_id], {"rows_without_id": without}


def unread_columns(mapping: ExportMapping) -> list[str]:
    """The mapped columns no feature and no label is made from (after_contact, ignore, pii)."""
    return [column for column, spec in mapping.columns.items() if spec.role in UNREAD_ROLES]


def drop_duplicate_leads(
    frame: pd.DataFrame, id_column: str, unread: Collection[str] = (), keep_first: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop rows that repeat another in every mapped column, or differ from it only in ``unread`` columns (a lead
    exported twice with another "Modified Time"); return the frame indexed by ``lead_id``, the first row of each.
    With ``keep_first`` (the mapping's ``repeated_ids: first``), an id's later rows that differ are dropped too,
    counted as ``later_rows_dropped``.

    Raises:
        DataContractError: an id occurs in rows that differ in a column leadq reads (and not ``keep_first``); the
            message names up to five such ids and the columns the first one's rows differ in.
    """
    report = duplicate_report(frame, id_column)
    unique_rows = drop_exact_duplicates(frame)
    read = [column for column in unique_rows.columns if column not in unread]
    unread_only = unique_rows.duplicated(subset=read, keep="first")
    report["repeats_dropped"] = int(unread_only.sum())
    unique_rows = unique_rows[~unread_only]
    ids = unique_rows[id_column]
    conflicting = ids[ids.duplicated(keep=False)].unique().tolist()
    report["conflicting_ids"] = len(conflicting)  # once rows differing only where leadq does not read are one
    if conflicting and keep_first:
        later = ids.duplicated(keep="first")
        report["later_rows_dropped"] = int(later.sum())
        unique_rows = unique_rows[~later]
    elif conflicting:
        rows = unique_rows.loc[ids == conflicting[0], read]
        differing = [column for column in read if rows[column].nunique(dropna=False) > 1]
        raise DataContractError(
            [
                f"{id_column}: {len(conflicting)} lead id(s) occur in rows that differ, e.g. "
                f"{conflicting[:_MAX_SHOWN]} (its rows differ in {differing}); expected one row per lead (merge or "
                "remove the conflicting rows, or set repeated_ids: first in the mapping to keep each id's first row, "
                "as leadq score does)"
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
        if spec.role in _CLEANED_AS:
            role = _CLEANED_AS[spec.role]
            cleaned[column], reports[column] = clean_column(frame[column], role, column, mapping.placeholders)
        elif spec.role in _LABEL_ROLES:
            cleaned[column], _ = mark_missing(frame[column], mapping.placeholders)
    return cleaned, reports


def feature_sources(columns: tuple[InputColumn, ...]) -> dict[str, _Source]:
    """Each feature's export column, kind and the name the leakage check gives it (``Description (length)``).

    Raises:
        MappingError: two features would get the same name (e.g. a text column's ``<name>_length``).
    """
    sources: dict[str, _Source] = {}
    for mapped in columns:
        option_of = {feature: option for option, feature in mapped.options}
        for feature, kind in mapped.derived_features():
            if feature in sources:
                raise MappingError(
                    f"columns: {mapped.column!r} gives the feature {feature!r}, which {sources[feature].column!r} "
                    "gives too; expected unique feature names (set name: on one of them)"
                )
            own_column = kind in ("numeric", "categorical", "boolean")
            label = mapped.column if own_column else f"{mapped.column} ({feature[len(mapped.name) + 1 :]})"
            if kind == "option_flag":  # "Interessen: ERP": the option as the mapping lists it
                label = option_label(mapped.column, option_of[feature])
            sources[feature] = _Source(mapped.column, kind, label)
    return sources


def build_feature_frame(
    rows: pd.DataFrame, columns: tuple[InputColumn, ...], fit_mask: np.ndarray, placeholders: list[str]
) -> tuple[pd.DataFrame, LeadFeatures]:
    """The feature frame (mapping order) of the export's rows, and the features step fitted on ``fit_mask`` rows.

    The model's own step builds it, so it holds exactly what the model will see; raw PII never enters it.

    Raises:
        CleaningError: the fitting rows of a column cannot be read as its role.
    """
    builder = LeadFeatures(columns, tuple(placeholders)).fit(rows.loc[fit_mask])
    order = [feature for mapped in columns for feature, _ in mapped.derived_features()]
    return builder.transform(rows)[order], builder


def labels_from_outcome(values: pd.Series, spec: ColumnSpec, column: str) -> tuple[pd.Series, dict[str, Any]]:
    """Single-table labels: 1 for the mapping's won values, 0 for its lost values, NaN (unresolved) otherwise.

    No censoring: an export with one outcome column says nothing about when a lead could still convert.
    """
    y = spec.labels(values).rename("label")
    unresolved = values[y.isna()].astype(object).map(lambda value: str(value).strip(), na_action="ignore")
    # counted as the mapping compares them ("Open" and "open " are one value), shown as first written
    compared = unresolved.map(normalize_value, na_action="ignore")
    counts = compared.map(unresolved.groupby(compared).first()).fillna("(missing)").value_counts()
    seen = {normalize_value(value) for value in values.dropna().unique()}
    never_seen = [value for value in (*(spec.won or ()), *(spec.lost or ())) if normalize_value(value) not in seen]
    return y, {
        "source": "outcome column",
        "column": column,
        "unresolved_values": {str(k): int(v) for k, v in counts.head(_MAX_VALUES_REPORTED).items()},
        # a won or lost value of the mapping that no row has: a typo leaves its leads unresolved
        "mapped_values_not_found": never_seen,
    }


def group_rare_categories(
    features: pd.DataFrame, categorical: tuple[str, ...], train_mask: np.ndarray, min_share: float
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Categories rarer than ``min_share`` on the training rows, or absent from them, become ``"other"``."""
    grouped = features.copy()
    reports: dict[str, dict[str, Any]] = {}
    for name in categorical:
        train_values = features.loc[train_mask, name]
        rare = rare_categories(train_values, min_share) if min_share > 0 else []
        seen = set(train_values.dropna().astype(str).unique()) | {OTHER_CATEGORY}
        unseen = sorted(set(features[name].dropna().astype(str).unique()) - seen)
        grouped[name] = group_categories(features[name], [*rare, *unseen])
        reports[name] = {"rare_grouped": rare, "rare_fitted_on": "training rows", "unseen_in_training": len(unseen)}
    return grouped, reports


# A value that looks like a calendar date: 2026-03-01, 01.03.2026, 3/1/2026 (with or without a time); month names
# ("5 Jan 2026") are read by the cleaning's MONTH_NAME_DATE.
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
        if rows[column].dtype.kind in "biufc":  # numbers and booleans never read as dates
            continue
        values = mark_missing(rows[column], placeholders)[0]
        present = values.dropna().astype(str)
        looks_dated = present.str.fullmatch(_DATE_LIKE) | present.str.casefold().str.fullmatch(MONTH_NAME_DATE)
        if len(present) and float(looks_dated.mean()) >= MIN_DATE_SHARE:
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
    created_at: pd.Series | None = None,
    untouched: pd.Series | None = None,
    untouched_created_at: pd.Series | None = None,
    closed: pd.Series | None = None,
) -> LeakageReport:
    """The leakage checks on the features, named by the export column the user maps (``Description (length)``).

    ``untouched``: the leads sales has not touched yet (``untouched_leads``, named by the column that says so),
    against which a column filled only after contact shows; ``untouched_created_at``: all leads' creation dates,
    to compare them with the worked leads of their time, and to find a number that is an open lead's age at the
    export; ``closed``: every lead's label in any quarter (NaN: open), the leads sales worked (default: ``y``'s).

    ``leakage.allowed`` names export columns: every feature derived from one is allowed. ``dates``: date-valued
    feature columns (by export column) checked against ``outcome_at``; numbers against the days from
    ``created_at`` to ``outcome_at``; all series aligned with ``features``.
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
    groups = mapping.feature_groups()
    aligned = {column: dated.reindex(features.index).reset_index(drop=True) for column, dated in (dates or {}).items()}
    outcome, created, arrived = (
        None if dated is None else dated.reindex(features.index).reset_index(drop=True)
        for dated in (outcome_at, created_at, untouched_created_at)
    )
    fresh = None
    if untouched is not None:
        leads = untouched.reindex(features.index).eq(True).to_numpy(dtype=bool)
        dated = None if untouched_created_at is None else untouched_created_at.reindex(features.index)
        ended = None if closed is None else closed.reindex(features.index).notna().to_numpy(dtype=bool)
        fresh = Untouched(str(untouched.name), leads, dated, ended)
    report = check_leakage(
        named,
        y.to_numpy(dtype=float),
        train_mask,
        policy,
        aligned or None,
        outcome,
        created_at=created,
        untouched=fresh,
        arrived_at=arrived,
        open_leads=None if closed is None else closed.reindex(features.index).isna().to_numpy(dtype=bool),
        named={source.label: source.column for source in sources.values() if source.kind == "option_flag"},
        feature_groups={source.label: groups[source.column] for source in sources.values() if source.column in groups},
    )
    options = {source.label for source in sources.values() if source.kind == "option_flag"}
    return replace(
        report,
        findings=tuple(
            replace(finding, remedy=OPTION_REMEDY) if finding.column in options else finding
            for finding in report.findings
        ),
    )


def _roles_report(
    mapping: ExportMapping, cleaned: Mapping[str, pd.Series], sources: Mapping[str, _Source]
) -> dict[str, Any]:
    derived = {source.column for source in sources.values()}
    return {
        "pii_dropped": {
            column: "features derived, then dropped" if column in derived else "dropped"
            for column in mapping.columns_with("pii", "email", "job_title")
        },
        "consent": {column: list(mapping.columns[column].gates or ()) for column in mapping.columns_with("consent")},
        "after_contact_dropped": mapping.columns_with("after_contact"),
        "ignored": mapping.columns_with("ignore"),
        "label_only": mapping.columns_with(*_LABEL_ROLES),
        "outcome_at": mapping.outcome_at_column,
        "created_at": mapping.created_at_column,
        "created_at_missing": int(cleaned[mapping.created_at_column].isna().sum())
        if mapping.created_at_column
        else None,
    }


def _split_report(split: TimeSplit, y: pd.Series) -> dict[str, Any]:
    held_out = split.held_out
    return {
        "kind": split.kind,
        "reason": split.reason,
        "train_labelled": len(split.train),
        "calibration_labelled": len(split.calibration),
        "test_labelled": len(split.test),
        "folds": len(split.folds),
        "evaluation_labelled": len(held_out),
        "evaluation_won_share": float(y.loc[held_out].mean()) if len(held_out) else None,
        "labelled_not_mature": split.immature_labelled,
        "warning": split.order_warning,
    }


def _leakage_report(leakage: LeakageReport, sources: Mapping[str, _Source]) -> dict[str, Any]:
    by_label = {source.label: name for name, source in sources.items()}
    report = leakage.as_dict()
    report["table"] = [{**row, "feature": by_label.get(row["column"])} for row in report["table"]]
    return report


def join_keys(rows: pd.DataFrame, mapping: ExportMapping, lead_column: str | None) -> pd.Series:
    """The leads' values a further table joins on (the id, or ``lead_column``), indexed by lead id."""
    if lead_column is None or lead_column == mapping.id_column:
        return pd.Series(rows.index.astype(str), index=rows.index)
    return rows[lead_column].astype(object).map(lambda v: None if pd.isna(v) else str(v).strip()).dropna()


def win_dates(mapping: ExportMapping, cleaned: Mapping[str, pd.Series]) -> pd.Series | None:
    """When each lead was won (NaT: not won) where the export says only who won, else None.

    A ``won_at`` column is that date. An outcome column with ``lost: []`` (a lifecycle stage: "Customer" won,
    the rest not yet) dates its wins at ``outcome_at`` where mapped and given, else at creation: won, when
    unknown.
    """
    if mapping.won_at_column is not None:
        return cleaned[mapping.won_at_column]
    column, created = mapping.outcome_column, mapping.created_at_column
    if not mapping.wins_only or column is None or created is None:
        return None
    spec = mapping.columns[column]
    read = spec.outcome_reader()
    won = cleaned[column].map(lambda value: read(value) == "won", na_action="ignore").fillna(False)
    closed = mapping.outcome_at_column
    when = cleaned[closed].fillna(cleaned[created]) if closed else cleaned[created]
    return when.where(won.astype(bool))


def label_tables(
    loaded: LoadedExport, rows: pd.DataFrame, cleaned: Mapping[str, pd.Series]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The further tables in leadq's words (empty where the mapping names none), joined to the export's leads;
    where the export says only who won (``won_at``, or an outcome with ``lost: []``), its wins are the deals
    (:func:`win_dates`)."""
    mapping = loaded.mapping
    tables = mapping.tables
    reports: dict[str, Any] = {}
    dispositions, deals = empty_table("dispositions"), empty_table("deals")
    won = win_dates(mapping, cleaned)
    if won is not None and mapping.created_at_column is not None:
        deals = won_date_deals(won, cleaned[mapping.created_at_column])
    if tables.dispositions is not None:
        keys = join_keys(rows, mapping, tables.dispositions.lead_column)
        dispositions, reports["dispositions"] = dispositions_table(
            loaded.tables["dispositions"], tables.dispositions, keys, mapping.placeholders
        )
    if tables.deals is not None:
        keys = join_keys(rows, mapping, tables.deals.lead_column)
        deals, reports["deals"] = deals_table(loaded.tables["deals"], tables.deals, keys, mapping.placeholders)
    return dispositions, deals, reports


def engagement_at_moments(
    loaded: LoadedExport,
    rows: pd.DataFrame,
    created_at: pd.Series | None,
    dispositions: pd.DataFrame,
    as_of: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The activities table's point-in-time engagement features per lead (``models.engagement``), the activities
    in leadq's words, and a report: the moment, the activities read and how many fell after their lead's moment
    (kept out of the features). Without an activities table: no columns, no rows.

    Raises:
        MappingError: the scoring moment cannot be placed (no creation dates and no dispositions).
    """
    spec = loaded.mapping.tables.activities
    if spec is None:
        return pd.DataFrame(index=rows.index), empty_table("activities"), {}
    keys = join_keys(rows, loaded.mapping, spec.lead_column)
    activities, report = activities_table(loaded.tables["activities"], spec, keys, loaded.mapping.placeholders)
    try:
        moments = scoring_moments(created_at, dispositions, spec.moment, spec.days_after_created, as_of, rows.index)
    except ValueError as error:
        raise MappingError(f"tables.activities: {error}") from error
    windows = spec.windows()
    features = engagement_features(activities, moments, windows)
    moment_of = moments.set_axis(moments.index.astype(str)).reindex(activities["lead_id"]).to_numpy()
    after = int((activities["timestamp"].to_numpy() >= moment_of).sum())
    report |= {
        "moment": spec.moment,
        "days_after_created": spec.days_after_created,
        "leads_without_a_moment": int(moments.isna().sum()),
        "activities_after_their_moment": after,
        "features": windows.feature_names(),
    }
    return features, activities, report


def labels_from_tables(
    created_at: pd.Series,
    dispositions: pd.DataFrame,
    deals: pd.DataFrame,
    horizon_days: int,
    as_of: pd.Timestamp | None,
) -> tuple[pd.Series, pd.Timestamp, dict[str, Any]]:
    """leadq's label rule (``build_labels``) over the export's leads and its dispositions and deals.

    Leads created after ``as_of`` or without a creation date get NaN (reported as outside the label window).
    """
    leads = pd.DataFrame({"lead_id": created_at.index.astype(str), "created_at": created_at.to_numpy()})
    tables = CRMTables(leads=leads.dropna(subset=["created_at"]), dispositions=dispositions, deals=deals)
    cut = resolve_as_of(tables, as_of)
    labels = build_labels(tables, horizon_days, cut).set_index("lead_id")
    y = labels["label"].reindex(created_at.index.astype(str)).set_axis(created_at.index).astype("float64")
    reasons = labels["label_reason"].value_counts()
    return (
        y.rename("label"),
        cut,
        {
            "source": "dispositions and deals tables",
            "as_of": cut.isoformat(),
            "horizon_days": horizon_days,
            "by_reason": {str(k): int(v) for k, v in reasons.items()},
            "outside_label_window": int(len(created_at) - len(labels)),
        },
    )


OPEN_STAGES = ("mql", "sal", "sql")  # sales has not closed the lead: no win yet is no loss yet
UNTOUCHED_STAGE = "mql"  # marketing handed the lead over; sales has not accepted or contacted it yet


def untouched_leads(specs: Mapping[str, ColumnSpec], values: Mapping[str, pd.Series]) -> pd.Series | None:
    """Which leads sales has not touched yet, named by the column that says so: the stage column's ``mql`` leads
    the outcome calls neither won nor closed (:func:`_closed_by_the_outcome`), or the outcome column's
    ``untouched`` values ("Open - Not Contacted"); None where the columns tell none.
    ``specs``: a mapping's columns, or inspect's proposal; ``values``: their values by column."""
    stage = next((column for column, spec in specs.items() if spec.role == "stage"), None)
    if stage is not None:
        untouched = stages_of(values[stage], specs[stage]).eq(UNTOUCHED_STAGE)
        closed = _closed_by_the_outcome(specs, values).reindex(untouched.index, fill_value=False)
        return (untouched & ~closed).rename(stage)
    outcome = next((column for column, spec in specs.items() if spec.role == "outcome" and spec.untouched), None)
    if outcome is None:
        return None
    words = {normalize_value(value) for value in specs[outcome].untouched or ()}
    given = values[outcome]
    said = {value: normalize_value(value) in words for value in given.dropna().unique()}  # once per distinct value
    return given.map(said, na_action="ignore").eq(True).rename(outcome)


def _closed_by_the_outcome(specs: Mapping[str, ColumnSpec], values: Mapping[str, pd.Series]) -> pd.Series:
    """The leads the outcome says sales worked to an end, whatever a stage left at "New" says: won (a won value, or
    a date in the win-date column; Zendesk Sell keeps a converted lead's status), or lost in a word that closes
    (:func:`closes_as_lost`: Pipedrive's "Lost", whose deal keeps the stage it was lost in)."""
    closed = pd.Series(False, index=next(iter(values.values())).index if values else None)
    for column, spec in specs.items():
        if column not in values:
            continue
        if spec.role == "outcome" and (spec.won or spec.lost):
            reader = spec.outcome_reader()
            read = {value: reader(value) for value in values[column].dropna().unique()}
            ended = {value: said == "won" or (said == "lost" and closes_as_lost(value)) for value, said in read.items()}
            closed |= values[column].map(ended, na_action="ignore").eq(True)
        elif spec.role == "won_at":
            given = values[column]
            closed |= given.notna() & given.astype(str).str.strip().ne("")
    return closed


# A yes/no flag's no, also in the languages whose flags leadq reads (Dutch, Nordic, Czech, Portuguese), and a win
# negated ("Not Converted", "Nicht gewonnen"): no win yet, which a lead sales has not touched holds too (Salesforce's
# IsConverted). Sales' verdicts close a lead, negated or not: "Lost", "Disqualified", "Not Qualified", "Not interested"
_FLAG_NO = FALSE_WORDS | {"ne", "0,0", "nope"}
_WIN_NEGATED = re.compile(
    r"^(not|nicht|noch nicht|no|non|niet|nao|não|nie|ej|ei|ikke|inte)[\s_-]+(yet[\s_-]+)?"
    r"(won|converted|gewonnen|umgewandelt|konvertiert|convertit[oa]|convertid[oa]|convertie?|gekonverteerd|omgezet|"
    r"gagn[ée]e?|ganad[oa]|vint[oa])\b"
)


def closes_as_lost(value: object) -> bool:
    """Whether a lost value of the outcome says sales closed the lead ("Lost", "Closed - Not Converted",
    "Disqualified", "Not Qualified"), not only that no win came yet ("false", "0", "No", "Nee", "Not converted")."""
    token = normalize_value(value)
    return token not in _FLAG_NO and not _WIN_NEGATED.match(token)


def stages_of(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """A stage column's leadq stage for each lead (NaN: a value the spec does not translate), named as the column."""
    stage_of = {value: spec.mapped_value(value) for value in values.dropna().unique()}  # once per distinct value
    return values.map(stage_of, na_action="ignore")


def lead_stages(cleaned: Mapping[str, pd.Series], mapping: ExportMapping) -> pd.Series | None:
    """Each lead's leadq stage from the mapped stage column, named by that column (None: no stage column)."""
    column = next(iter(mapping.columns_with("stage")), None)
    if column is None:
        return None
    return stages_of(cleaned[column], mapping.columns[column]).rename(column)


def lost_in_an_open_stage(
    y: pd.Series,
    cleaned: Mapping[str, pd.Series],
    mapping: ExportMapping,
    created: pd.Series | None,
    cut: pd.Timestamp,
    horizon_days: int,
) -> tuple[pd.Series, dict[str, Any]]:
    """Leads an outcome column calls lost ("IsConverted: false") while the mapped stage column says sales still
    works them ("Open - Not Contacted", "Working - Contacted"): unlabelled within ``horizon_days`` of their creation,
    as leadq's label rule leaves an open lead; older ones stay lost (the horizon passed without a win). Not a lead
    the outcome calls lost in a word that closes (:func:`closes_as_lost`: Pipedrive's "Lost"; a lost deal keeps the
    stage it was lost in).

    Without a creation date they stay lost (``lost_undated``; the whole export's leads when it has none, else
    the ones whose date is empty): no such lead's age is known, and leaving every open one unlabelled would teach
    the model only from the closed ones, every score too high (as ``blank: lost`` counts an undated lead without a
    win lost, however young).

    Returns:
        The labels and, where a stage column is mapped, a report: the column, the leads left unlabelled and those
        that stay lost.
    """
    stages = lead_stages(cleaned, mapping)
    if stages is None:
        return y, {}
    open_lost = (y == 0) & stages.isin(OPEN_STAGES) & ~_closed_by_the_outcome(mapping.columns, cleaned)
    dates = created if created is not None else pd.Series(pd.NaT, index=y.index)
    undated = open_lost & dates.isna()
    recent = open_lost & (dates > cut - pd.Timedelta(days=horizon_days))
    report = {
        "column": str(stages.name),
        "unlabelled": int(recent.sum()),
        "lost_after_horizon": int((open_lost & ~recent & ~undated).sum()),
    }
    if undated.any():
        report["lost_undated"] = int(undated.sum())
    return y.mask(recent), {"lost_in_open_stage": report}


def recycled_not_lost(
    y: pd.Series, cleaned: Mapping[str, pd.Series], mapping: ExportMapping
) -> tuple[pd.Series, dict[str, Any]]:
    """Leads an outcome column calls lost ("Converted: 0", "Unqualified") while the mapped stage column says
    recycled to nurture, or the mapped reason column says wrong timing: unlabelled, whatever their age, as leadq's
    label rule leaves them (rule 3: the need is there, not now; not a plain negative). One snapshot tells one state,
    and the stage or reason says more of it than a converted flag's no: a lead does not buy from nurture before the
    horizon, yet learning it as a loss teaches that its segment does not buy (fuzz18: SuiteCRM's Recycled, Freshsales'
    "Bad timing", both counted lost before)."""
    said, named = said_recycled(cleaned, mapping, among=y == 0)
    if not said.any():
        return y, {}
    return y.mask(said), {"recycled_not_lost": {"columns": named, "unlabelled": int(said.sum())}}


def count_recycled(report: dict[str, Any], columns: Sequence[str], unlabelled: int) -> None:
    """Add ``unlabelled`` leads left unlabelled as recycled (label rule 3) to the labels' ``report``, with the
    columns that said so (each once)."""
    if unlabelled <= 0:
        return
    said = report.setdefault("recycled_not_lost", {"columns": [], "unlabelled": 0})
    said["columns"] = list(dict.fromkeys([*said["columns"], *columns]))
    said["unlabelled"] += unlabelled


def _unlabel_recycled(
    y: pd.Series, report: dict[str, Any], cleaned: Mapping[str, pd.Series], mapping: ExportMapping
) -> pd.Series:
    """:func:`recycled_not_lost`, counted into the labels' ``report``."""
    y, nurtured = recycled_not_lost(y, cleaned, mapping)
    if nurtured:
        count_recycled(report, nurtured["recycled_not_lost"]["columns"], nurtured["recycled_not_lost"]["unlabelled"])
    return y


def said_recycled(
    cleaned: Mapping[str, pd.Series], mapping: ExportMapping, among: pd.Series
) -> tuple[pd.Series, list[str]]:
    """Of the leads ``among``, those the mapped stage column calls recycled or a mapped reason column wrong timing,
    and the columns that said so for any."""
    recycled = pd.Series(False, index=among.index)
    named: list[str] = []
    stages = lead_stages(cleaned, mapping)
    if stages is not None and (at := among & (stages == "recycled")).any():
        recycled |= at
        named.append(str(stages.name))
    for column in mapping.columns_with("reason"):
        reasons = stages_of(cleaned[column], mapping.columns[column])
        if (at := among & (reasons == "wrong_timing")).any():
            recycled |= at
            named.append(column)
    return recycled, named


# A creation date this far after nine leads in ten is a typo ("2062" for "2026"): read as missing, not as a quarter
FAR_FUTURE = pd.Timedelta(days=3 * 365)


def without_far_future_dates(created: pd.Series) -> tuple[pd.Series, int]:
    """Creation dates more than ``FAR_FUTURE`` after the 90th percentile made missing (a typo's year would make its
    own quarters: "test quarter 2062Q3, 16 leads"), and how many."""
    known = created.dropna()
    if len(known) < 10:
        return created, 0
    far = created > known.sort_values().iloc[int(0.9 * (len(known) - 1))] + FAR_FUTURE  # the 90th percentile
    return created.mask(far), int(far.sum())


def open_outcomes_lost_after_horizon(
    y: pd.Series,
    open_values: pd.Series,
    created: pd.Series | None,
    cut: pd.Timestamp,
    horizon_days: int,
) -> tuple[pd.Series, dict[str, Any]]:
    """Leads whose outcome column holds an open value ("Open - Not Contacted", "Working - Contacted", "Engaging")
    created more than ``horizon_days`` before ``cut``: lost, as leadq's label rule makes a lead without a win once
    the horizon has passed (a lead open for two years did not convert); younger ones stay unlabelled. An empty cell
    stays unknown. A lead without a creation date (every lead of an export without them) never ages: unlabelled,
    counted apart (``unlabelled_undated``): the model learns only from the closed ones of them. ``open_values``: the
    leads whose value the outcome column neither calls won nor lost (a lost value left unlabelled by
    ``lost_in_an_open_stage`` is none: counted there, not here)."""
    still_open = y.isna() & open_values
    if not still_open.any():
        return y, {}
    dates = created if created is not None else pd.Series(pd.NaT, index=y.index)
    undated = still_open & dates.isna()
    if undated.sum() == still_open.sum():  # no open lead has a date: nothing ages
        return y, {"open_values": {"unlabelled_undated": int(undated.sum())}}
    aged = still_open & (dates <= cut - pd.Timedelta(days=horizon_days))
    report = {"lost_after_horizon": int(aged.sum()), "unlabelled": int((still_open & ~aged & ~undated).sum())}
    if undated.any():
        report["unlabelled_undated"] = int(undated.sum())
    return y.mask(aged, 0.0), {"open_values": report}


def _unresolved_values_said(labels: Mapping[str, Any]) -> list[str]:
    """The outcome's values no won or lost value names, with their leads, for a refusal of the labels."""
    unresolved = {value: leads for value, leads in labels.get("unresolved_values", {}).items() if value != "(missing)"}
    if not unresolved:
        return []
    said = ", ".join(f"{value!r} ({leads:,} leads)" for value, leads in unresolved.items())
    return [f"the outcome's values that are neither won nor lost: {said}"]


def _labels(
    cleaned: Mapping[str, pd.Series],
    mapping: ExportMapping,
    tables: tuple[pd.DataFrame, pd.DataFrame],
    horizon_days: int,
    as_of: pd.Timestamp | None,
) -> tuple[pd.Series, pd.Timestamp, int, dict[str, Any]]:
    """Labels, their cut-off and the horizon the split must respect (0: labels final as exported)."""
    created = cleaned[mapping.created_at_column] if mapping.created_at_column else None
    if mapping.outcome_column is not None and not mapping.wins_only:
        column = mapping.outcome_column
        y, report = labels_from_outcome(cleaned[column], mapping.columns[column], column)
        # an open value that says recycled to nurture never ages into lost (label rule 3: not now is no negative),
        # nor does an open one beside a stage that says recycled or a reason that says wrong timing (ActiveCampaign's
        # deal "Open" in the stage "Nurture - Revisit in 90 days")
        recycled = _recycled_values(cleaned[column], mapping.columns[column])
        beside, beside_named = said_recycled(cleaned, mapping, among=y.isna() & cleaned[column].notna() & ~recycled)
        open_values = y.isna() & cleaned[column].notna() & ~recycled & ~beside
        latest = created.max() if created is not None and created.notna().any() else pd.Timestamp.now().normalize()
        cut, horizon = as_of or pd.Timestamp(latest), 0
        y, still_open = lost_in_an_open_stage(y, cleaned, mapping, created, cut, horizon_days)
        y, nurtured = recycled_not_lost(y, cleaned, mapping)
        y, aged = open_outcomes_lost_after_horizon(y, open_values, created, cut, horizon_days)
        for kept, named in ((recycled, [column]), (beside, beside_named)):
            count_recycled(nurtured, named, int((y.isna() & kept).sum()))
        report |= still_open | nurtured | aged
    elif (won_at := mapping.won_at_column) is not None and mapping.columns[won_at].blank == "lost":
        # no creation dates: no horizon can tell a young lead from a lost one, so the export's word is final
        y = cleaned[won_at].notna().astype("float64").rename("label")
        cut, horizon = as_of or pd.Timestamp.now().normalize(), 0
        report = {"source": f"won_at column {won_at!r} (a date: won; no date: lost, blank: lost)"}
        y = _unlabel_recycled(y, report, cleaned, mapping)
    else:
        if created is None:
            raise MappingError(
                "columns: labels from dispositions and deals need the lead's creation date; map a column as created_at"
            )
        y, cut, report = labels_from_tables(created, *tables, horizon_days, as_of)
        if mapping.won_at_column is not None:
            report["source"] = f"won_at column {mapping.won_at_column!r} (no date: lost after the horizon)"
        elif mapping.wins_only:
            report["source"] = (
                f"outcome column {mapping.outcome_column!r}, won values only (the rest: lost after the horizon)"
            )
            column = str(mapping.outcome_column)
            recycled = _recycled_values(cleaned[column], mapping.columns[column]) & (y != 1)
            y = y.mask(recycled)  # not now is no loss, however old (label rule 3)
            count_recycled(report, [column], int(recycled.sum()))
        # a stage or reason beside the win date or wins-only outcome that says recycled or wrong timing: not now is
        # no loss either (HubSpot's lead status "Bad timing" beside its "Became a Customer Date")
        y = _unlabel_recycled(y, report, cleaned, mapping)
        horizon = horizon_days
    y, report = unlabel_created_after_outcome(y, report, cleaned, mapping)
    counts = {"won": int((y == 1).sum()), "lost": int((y == 0).sum()), "unlabelled": int(y.isna().sum())}
    return y, cut, horizon, {**counts, **report}


def _recycled_values(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Per lead, whether its outcome value is one of the outcome's ``recycled`` values (compared as
    ``ColumnSpec.is_recycled`` compares them, on the whole column at once)."""
    recycled = {normalize_value(value) for value in spec.recycled or ()}
    return values.notna() & values.astype(str).str.strip().str.casefold().isin(recycled)


def unlabel_created_after_outcome(
    y: pd.Series, report: dict[str, Any], cleaned: Mapping[str, pd.Series], mapping: ExportMapping
) -> tuple[pd.Series, dict[str, Any]]:
    """Labelled leads created two calendar days or more after their outcome date (``outcome_at``, a ``won_at``) left
    unlabelled: contacts added to an account after its deal closed (an account-based export repeats the deal's
    outcome on every contact; onboarding contacts of a won customer), whose fields say nothing of how a lead comes to
    convert."""
    ended_column = mapping.outcome_at_column or mapping.won_at_column
    if mapping.created_at_column is None or ended_column is None:
        return y, report
    created, ended = cleaned[mapping.created_at_column], cleaned[ended_column]
    try:
        # by calendar day: an outcome is often a date alone (Salesforce's Converted Date) beside a creation time in
        # UTC, so a lead created in a US evening and converted that day is a day "later" by the clock
        days = created.dt.normalize() - ended.dt.normalize()
        after = (days > pd.Timedelta(days=1)).to_numpy(dtype=bool) & y.notna().to_numpy()
    except (TypeError, AttributeError):  # dates of another kind (time zones): nothing to compare
        return y, report
    if not after.any():
        return y, report
    return y.mask(after), report | {"created_after_outcome": {"column": ended_column, "leads": int(after.sum())}}


def prepare_export(
    loaded: LoadedExport,
    *,
    horizon_days: int = 180,
    as_of: pd.Timestamp | None = None,
    test_quarters: int = 1,
    calibration_quarters: int = 1,
    test_share: float = 0.25,
    random_state: int = 42,
    folds: int = 1,
    cross_validate_up_to: int = 50_000,
    undated: UndatedSplit = "random",
) -> PreparedExport:
    """Clean, label, split and leak-check an export as its mapping says; the inputs are not modified.

    Labels come from the mapping's outcome column (single table) or from the dispositions and deals tables it
    names (leadq's label rule with ``horizon_days`` and ``as_of``).

    Raises:
        MappingError: a mapped column is missing, or the label source is missing.
        DataContractError: ids that disagree, tables that break leadq's rules, labels of one class only.
        CleaningError: a column cannot be read as its role.
        LeakageError: a feature leaks the outcome and the mapping does not allow it.
    """
    mapping = loaded.mapping
    selected, columns_report = select_mapped_columns(loaded.leads.frame, mapping)
    excluded = mapping.excluded_rows(selected)  # no leads: a CRM's deleted records
    selected = selected[~excluded.to_numpy()]
    with_ids, id_report = index_by_id(selected, mapping.id_column, mapping.placeholders)
    keep_first = mapping.repeated_ids == "first"
    rows, duplicates = drop_duplicate_leads(with_ids, mapping.id_column, unread_columns(mapping), keep_first)
    repeats = duplicates.pop("repeats_dropped")
    later = duplicates.pop("later_rows_dropped", 0)
    cleaned, cleaning = clean_mapped_columns(rows, mapping)
    if mapping.created_at_column is not None:
        column = mapping.created_at_column
        cleaned[column], far = without_far_future_dates(cleaned[column])
        if far:
            cleaning[column]["far_future_dates"] = far
    columns = mapping.input_columns()
    sources = feature_sources(columns)
    dispositions, deals, tables_report = label_tables(loaded, rows, cleaned)
    y, cut, horizon, labels = _labels(cleaned, mapping, (dispositions, deals), horizon_days, as_of)
    created_at = cleaned[mapping.created_at_column].rename("created_at") if mapping.created_at_column else None
    engagement, activities, engagement_report = engagement_at_moments(loaded, rows, created_at, dispositions, cut)
    rows = rows.join(engagement)  # computed columns the model reads beside the exported ones (none without activities)
    try:
        split = split_leads(
            y,
            created_at,
            cut,
            horizon,
            test_quarters,
            calibration_quarters,
            test_share,
            random_state,
            folds,
            cross_validate_up_to,
            undated,
        )
    except DataContractError as error:
        raise DataContractError([*error.problems, *_unresolved_values_said(labels)]) from error
    train_mask = rows.index.isin(split.train)
    # Fitted on the leads a model is fitted on: the features here are the model's, convention and all.
    features, builder = build_feature_frame(rows, columns, train_mask, mapping.placeholders)
    for column, convention in builder.decimal_conventions_.items():
        if column in cleaning:  # not the engagement features: computed as numbers, never written with decimals
            cleaning[column]["decimal_convention"] = convention
    categorical = tuple(name for name, source in sources.items() if source.kind in ("categorical", "title_category"))
    features, grouping = group_rare_categories(features, categorical, train_mask, mapping.rare_category_share)
    for name, grouped in grouping.items():
        cleaning[sources[name].column] |= grouped
    dates = date_valued_columns(rows, sources, mapping.placeholders)
    outcome_at = outcome_dates(cleaned, mapping, deals, features.index)
    # a win dated at creation (an outcome with lost: [] and no outcome_at) is no date a number could count up to
    dated_outcomes = any(
        source is not None for source in (mapping.outcome_at_column, mapping.won_at_column, mapping.tables.deals)
    )
    counted_from = created_at if dated_outcomes else None
    y_split = y.where(rows.index.isin(split.train.append(split.held_out)))  # immature leads are not judged
    untouched = untouched_leads(mapping.columns, cleaned)
    leakage = check_feature_leakage(
        features,
        y_split,
        train_mask,
        sources,
        mapping,
        dates or None,
        outcome_at,
        counted_from,
        untouched,
        created_at,
        closed=y,  # the latest quarters' closed leads too: worked alongside the untouched ones, the newest
    )
    leakage.raise_if_leaks()
    open_leads = still_open(y, cleaned, mapping)
    report = {
        "rows": {
            "export": len(loaded.leads.frame),
            **({"excluded": int(excluded.sum())} if excluded.any() else {}),
            **id_report,
            "exact_duplicates_dropped": len(with_ids) - len(rows) - repeats - later,
            "repeats_dropped": repeats,
            **({"later_rows_dropped": later} if later else {}),
            "leads": len(rows),
        },
        "columns": {**columns_report, **_roles_report(mapping, cleaned, sources)},
        "duplicates": duplicates,
        "cleaning": cleaning,
        "tables": {**tables_report, **({"activities": engagement_report} if engagement_report else {})},
        "features": {name: {"column": s.column, "kind": s.kind} for name, s in sources.items()},
        "labels": labels,
        "split": _split_report(split, y),
        "leakage": _leakage_report(leakage, sources),
        "empty_while_open": empty_while_open(features, sources, open_leads, y.notna()),
        # the leads it will score are best seen in those sales has not touched yet, where the export says which
        "out_of_range_while_open": out_of_range_while_open(
            features, sources, untouched.eq(True) if untouched is not None else open_leads, y.notna()
        ),
    }
    return PreparedExport(
        rows,
        columns,
        features,
        y,
        created_at,
        split,
        cut,
        dispositions,
        deals,
        report,
        activities if mapping.tables.activities else None,
    )


MIN_OPEN_LEADS_JUDGED = 50
MIN_EMPTY_WHILE_OPEN = 0.5  # of the open leads: empty for most of them ...
MAX_EMPTY_WHEN_LABELLED = 0.05  # ... and for few of the labelled ones, a tenth of that share at most


def still_open(y: pd.Series, cleaned: Mapping[str, pd.Series], mapping: ExportMapping) -> pd.Series:
    """The unlabelled leads that are open (young, or holding an open value), not the rows whose outcome column is
    empty where the mapping lists lost values: nobody dispositioned those (imports; the empty-outcome warning's)."""
    column = mapping.outcome_column
    if column is None or not mapping.columns[column].lost or column not in cleaned:
        return y.isna()
    return y.isna() & cleaned[column].notna()


def empty_while_open(
    features: pd.DataFrame, sources: Mapping[str, _Source], open_leads: pd.Series, labelled: pd.Series
) -> dict[str, dict[str, Any]]:
    """Export columns empty for most of the leads still open (:func:`still_open`) and for few or none of the
    labelled ones, by column: the model learns what empty means from those few, or never saw it, and scores a new
    lead without the value on that (Maven's opportunities have an account once sales engaged them: new deals scored
    0.15 against 0.63 won, no MQL). Filled in once sales works the lead, no longer collected, or come later (an
    enrichment): a new lead is scored without it."""
    still, known = open_leads.to_numpy(dtype=bool), labelled.to_numpy(dtype=bool)
    if still.sum() < MIN_OPEN_LEADS_JUDGED or not known.any():
        return {}
    found: dict[str, dict[str, Any]] = {}
    for name, source in sources.items():
        if source.column in found or name not in features:
            continue
        empty = features[name].isna().to_numpy()
        open_share, labelled_share = float(empty[still].mean()), float(empty[known].mean())
        if open_share >= MIN_EMPTY_WHILE_OPEN and labelled_share <= min(MAX_EMPTY_WHEN_LABELLED, open_share / 10):
            found[source.column] = {
                "open_leads": int(still.sum()),
                "open_empty_share": round(open_share, 4),
                "labelled_empty": int(empty[known].sum()),
                "labelled_empty_share": round(labelled_share, 4),
            }
    return found


MIN_OUT_OF_RANGE_WHILE_OPEN = 0.5  # most of the open leads with a number: beyond nearly every labelled lead's ...
OUT_OF_RANGE_QUANTILE = 0.05  # ... that is, below its 5th percentile (or above its 95th)


def out_of_range_while_open(
    features: pd.DataFrame, sources: Mapping[str, _Source], open_leads: pd.Series, labelled: pd.Series
) -> dict[str, dict[str, Any]]:
    """Number columns whose values for most leads still open lie below (or above) nearly every labelled lead's, by
    column: counted up to the export's day, they grew with each labelled lead's age or with sales' work on it (a
    Brevo export's "EMAILS ENVOYES": 1-2 for new leads, 9 or more for every labelled one), so the model learnt them
    from leads further along than any lead it will score."""
    still, known = open_leads.to_numpy(dtype=bool), labelled.to_numpy(dtype=bool)
    if still.sum() < MIN_OPEN_LEADS_JUDGED or known.sum() < MIN_OPEN_LEADS_JUDGED:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for name, source in sources.items():
        if source.column in found or name not in features or source.kind != "numeric":
            continue
        values = pd.to_numeric(features[name], errors="coerce").to_numpy(dtype=float)
        opened, taught = values[still & ~np.isnan(values)], values[known & ~np.isnan(values)]
        if len(opened) < MIN_OPEN_LEADS_JUDGED or len(taught) < MIN_OPEN_LEADS_JUDGED:
            continue
        low, high = np.quantile(taught, [OUT_OF_RANGE_QUANTILE, 1 - OUT_OF_RANGE_QUANTILE])
        for side, share, bound in (("below", (opened < low).mean(), low), ("above", (opened > high).mean(), high)):
            if share >= MIN_OUT_OF_RANGE_WHILE_OPEN:
                found[source.column] = {
                    "open_leads": len(opened),
                    "side": side,
                    "share": round(float(share), 4),
                    "labelled_bound": float(bound),
                }
    return found


# --- the file edge ------------------------------------------------------------------------------------------


def table_path(path: Path, export_path: Path) -> Path:
    # The files of one CRM export come together: relative paths are relative to the leads file's folder.
    return path if path.is_absolute() else export_path.parent / path


def read_export_files(export_path: Path | str, mapping_path: Path | str) -> LoadedExport:
    """Read the mapping, the leads file and the further tables the mapping names: the one reader of an export.

    Raises:
        MappingError: the mapping is missing or invalid (named with the key); DataContractError: a file is
            missing, empty or unreadable (named).
    """
    export_path, mapping_path = Path(export_path), Path(mapping_path)
    if not export_path.is_file():  # named with where it is set: a command run without --data reads data.export
        raise DataContractError(
            [f"{export_path}: file not found; expected the CRM export (--data, or data.export in mlflow.yml)"]
        )
    mapping = load_mapping(mapping_path)
    leads = read_export(export_path)
    tables = {
        name: read_export(table_path(spec.file, export_path)).frame
        for name, spec in (
            ("dispositions", mapping.tables.dispositions),
            ("deals", mapping.tables.deals),
            ("activities", mapping.tables.activities),
        )
        if spec is not None
    }
    return LoadedExport(mapping, leads, tables, export_path, mapping_path)


def source_report(loaded: LoadedExport) -> dict[str, Any]:
    """Where the export came from and how it was decoded, for the preparation report."""
    return {
        "export": str(loaded.path),
        "mapping": str(loaded.mapping_path),
        "separator": loaded.leads.separator,
        "encoding": loaded.leads.encoding,
        "read_notes": list(loaded.leads.warnings),
    }


def prepare_export_files(export_path: Path | str, mapping_path: Path | str, **options: Any) -> PreparedExport:
    """Read the export and the tables its mapping names, then :func:`prepare_export` (``options`` as there)."""
    loaded = read_export_files(export_path, mapping_path)
    prepared = prepare_export(loaded, **options)
    return replace(prepared, report={"source": source_report(loaded), **prepared.report})

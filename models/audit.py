"""The figures of the quarterly scoring audit: does the served score still rank, is it calibrated, does the funnel work?

Inputs are the scoring log (one row per served score: lead_id, clock_start, probability, score, is_mql, grade,
respond_within_hours, lead_source, campaign, model_version) and the CRM's dispositions and deals as of the audit
date ``as_of``. Every function is pure: frames and parameters in, new frames or dicts out.

Choices made once, here, so every figure agrees:

- **Latest score per lead.** A lead scored several times is judged on its latest score: the highest
  ``clock_start``, ties broken by the row order of the log (later rows were served later).
- **The audit window of a lead** runs from its ``clock_start`` to ``as_of``: dispositions outside it are ignored
  (earlier ones belong to a previous life of the lead, later ones were not known at the audit), as are deals
  closed after ``as_of``, and scores whose clock starts after ``as_of``.
- **Outcome = the training label rule** (``models.labels.build_labels``, horizon counted from ``clock_start``):
  won within the horizon, lost (deal lost, rejected for a reason other than timing, or the horizon elapsed),
  otherwise open. Recycled leads stay open unless a deal resolves them; unresolved leads are never lost.
  An export without dates has no horizon to check (``horizon_days`` None): won or lost as exported, whenever
  that happened, and a lead without an outcome stays open however old it is.
- **First contact** is the first disposition in the window with a stage other than "mql": the first time sales
  did something with the lead (accepted, qualified, rejected or recycled it).
- **A deal implies the stages before it.** CRMs often skip stage updates on fast deals, so a lead with a deal
  counts as reviewed, accepted and SQL even without those dispositions; otherwise SQL-to-won could exceed 100%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from models.contract import CRMTables
from models.evaluation import bootstrap_ranking, evaluate_probabilities
from models.labels import CENSORED, NEGATIVE, POSITIVE, build_labels

SALES_STAGES = ("sal", "sql", "rejected", "recycled")  # any of these: sales gave a verdict
UNKNOWN = "(unknown)"
OVERALL = "all"
TOO_FEW = "too few"
MISSING_BIN = "(missing)"
NEW_CATEGORY_BIN = "(new category)"
# PSI takes ln(actual / expected): an empty bin would give infinity. 1e-4 (0.01% of leads) keeps a bin that
# appears from nothing visible (a 5% new category adds ~0.2) without letting tiny empty bins dominate.
PSI_EPSILON = 1e-4
DEFAULT_MIN_MQLS = 30  # below this a group's rates swing by more than 15 points on chance alone

_STATUS = {POSITIVE: "won", NEGATIVE: "lost", CENSORED: "open"}
_AS_EXPORTED = {"won_within_horizon": "won_as_exported"}  # the label reason when no horizon could be checked


@dataclass(frozen=True)
class AuditPolicy:
    """The thresholds the audit judges against (rates are shares, 0-1)."""

    sal_low: float = 0.60  # sales accepts fewer than this share of the MQLs it reviewed: MQLs are too loose
    sql_low: float = 0.20  # fewer MQLs than this become SQL: marketing passes leads sales cannot use
    sql_good: float = 0.40
    psi_drift: float = 0.20
    psi_watch: float = 0.10
    max_auc_drop: float = 0.03  # below the AUC measured on the model's test quarter
    max_ece: float = 0.03
    max_calibration_gap: float = 0.25  # |mean predicted / actual conversion - 1| above this: the level is off
    min_resolved_leads: int = 100
    min_won_leads: int = 10
    # More open leads than this share: outcomes so far are the fast ones (quick wins, quick rejections), a
    # biased sample, so ranking and calibration are not judged yet. Drift needs no outcomes and still counts.
    max_open_share: float = 0.5


@dataclass(frozen=True)
class Verdict:
    """What to do with the model, and why in plain language."""

    action: Literal["keep", "recalibrate", "retrain"]
    reasons: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- outcomes per lead


def latest_scores(scores: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per lead: its latest score with ``clock_start`` up to ``as_of`` (ties: the later log row)."""
    known = scores[scores["clock_start"] <= as_of]
    latest = known.sort_values("clock_start", kind="stable").drop_duplicates("lead_id", keep="last")
    return latest.sort_index().reset_index(drop=True)


def _window_dispositions(dispositions: pd.DataFrame, clock_start: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    joined = dispositions.merge(clock_start, on="lead_id")
    inside = (joined["timestamp"] >= joined["clock_start"]) & (joined["timestamp"] <= as_of)
    return joined[inside].sort_values(["lead_id", "timestamp"], kind="stable")


def _first_contacts(window: pd.DataFrame) -> pd.DataFrame:
    touched = window[window["stage"].isin(SALES_STAGES)].drop_duplicates("lead_id", keep="first")
    team = touched["sales_team"] if "sales_team" in touched else pd.Series(np.nan, index=touched.index)
    return pd.DataFrame(
        {"first_contact_at": touched["timestamp"].to_numpy(), "sales_team": team.to_numpy()},
        index=pd.Index(touched["lead_id"], name="lead_id"),
    )


def _labels(tables: CRMTables, horizon_days: int | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """``build_labels``; without a horizon, outcomes as exported: no lead is lost for want of a win."""
    if horizon_days is not None:
        return build_labels(tables, horizon_days, as_of)
    # A horizon longer than any lead's age: rule 5 (horizon elapsed) never fires, and a won deal closed by
    # ``as_of`` is always within it. The rest of the rule (lost deal, rejection, recycling) is unchanged.
    oldest = tables.leads["created_at"].min()
    longer_than_any_age = (as_of - oldest).days + 1 if pd.notna(oldest) else 1
    labels = build_labels(tables, max(longer_than_any_age, 1), as_of)
    return labels.assign(label_reason=labels["label_reason"].replace(_AS_EXPORTED))


def lead_outcomes(
    scores: pd.DataFrame,
    dispositions: pd.DataFrame,
    deals: pd.DataFrame,
    as_of: pd.Timestamp,
    horizon_days: int | None,
    deals_imply_stages: bool = True,
) -> pd.DataFrame:
    """One row per scored lead: its latest score columns plus what sales and deals made of it by ``as_of``.

    Added columns: first_contact_at, sales_team (of the first contact), reviewed, accepted (sal or sql),
    reached_sql, rejected (latest verdict is a rejection, any reason), rejection_reason, recycled (latest
    verdict recycled or rejected for wrong_timing), won, lost, status ("won"/"lost"/"open"),
    status_reason (as in ``build_labels``) and label (1/0, NaN while open).

    A lead with a deal counts as reviewed, accepted and SQL even without those dispositions (CRMs skip stage
    updates). With ``deals_imply_stages`` False (deals derived from an outcome column, not opportunities) only
    won deals do: a customer went through sales, a lost outcome says nothing about how far the lead got.

    ``horizon_days`` None (an export without dates): a won or lost deal counts whenever it closed by ``as_of``
    (status_reason "won_as_exported" for a win), and a lead with no outcome stays open, never lost for age.
    """
    as_of = pd.Timestamp(as_of)
    leads = latest_scores(scores, as_of)
    clock_start = leads[["lead_id", "clock_start"]]
    window = _window_dispositions(dispositions, clock_start, as_of)
    known_deals = deals[deals["created_at"] <= as_of]
    labels = _labels(
        CRMTables(leads=clock_start.rename(columns={"clock_start": "created_at"}), dispositions=window, deals=deals),
        horizon_days,
        as_of,
    ).set_index("lead_id")

    latest = window.drop_duplicates("lead_id", keep="last").set_index("lead_id").reindex(leads["lead_id"])
    # a won deal always went through sales; a lost one only if it was an opportunity, not just an outcome
    opportunities = known_deals if deals_imply_stages else known_deals[known_deals["outcome"] == "won"]
    has_deal = leads["lead_id"].isin(opportunities["lead_id"]).to_numpy()

    # eq per stage then any per lead: Series.isin on Arrow-backed strings loops in Python (seconds at 200k leads)
    stage_seen = (
        pd.DataFrame({stage: window["stage"].eq(stage).to_numpy() for stage in SALES_STAGES}, index=window["lead_id"])
        .groupby(level=0)
        .any()
        .reindex(leads["lead_id"], fill_value=False)
    )

    def seen(*stages: str) -> np.ndarray:
        return stage_seen[list(stages)].any(axis=1).to_numpy(dtype=bool)

    latest_stage = latest["stage"].to_numpy(dtype=object)
    latest_reason = latest["reason"].to_numpy(dtype=object)
    rejected = latest_stage == "rejected"
    status = labels["label_status"].reindex(leads["lead_id"]).map(_STATUS).to_numpy()
    contacts = _first_contacts(window).reindex(leads["lead_id"])
    return leads.assign(
        first_contact_at=contacts["first_contact_at"].to_numpy(),
        sales_team=contacts["sales_team"].to_numpy(),
        reviewed=seen(*SALES_STAGES) | has_deal,
        accepted=seen("sal", "sql") | has_deal,
        reached_sql=seen("sql") | has_deal,
        rejected=rejected,
        rejection_reason=pd.Series(latest_reason, dtype=object).where(rejected).to_numpy(),
        recycled=(latest_stage == "recycled") | (rejected & (latest_reason == "wrong_timing")),
        won=status == "won",
        lost=status == "lost",
        status=status,
        status_reason=labels["label_reason"].reindex(leads["lead_id"]).to_numpy(),
        label=labels["label"].reindex(leads["lead_id"]).to_numpy(),
    )


def _resolved(outcomes: pd.DataFrame) -> pd.DataFrame:
    return outcomes[outcomes["label"].notna()]


# ----------------------------------------------------------------------------------- ranking and calibration


def calibration_by_decile(outcomes: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Resolved leads in equal-count bins of probability: decile, leads, won, mean_predicted, conversion_rate,
    min_probability, max_probability.

    Bins are cut on the rank of the probability (ties split in row order), so heavy ties still give equal
    counts; with fewer resolved leads than ``bins`` each lead is its own bin.
    """
    resolved = _resolved(outcomes)
    columns = ["decile", "leads", "won", "mean_predicted", "conversion_rate", "min_probability", "max_probability"]
    if resolved.empty:
        return pd.DataFrame(columns=columns)
    ranks = resolved["probability"].rank(method="first")
    decile = pd.qcut(ranks, q=min(bins, len(resolved)), labels=False) + 1
    grouped = resolved.groupby(decile.to_numpy())
    table = grouped.agg(
        leads=("label", "size"),
        won=("label", "sum"),
        mean_predicted=("probability", "mean"),
        conversion_rate=("label", "mean"),
        min_probability=("probability", "min"),
        max_probability=("probability", "max"),
    )
    table["won"] = table["won"].astype(int)
    return table.rename_axis("decile").reset_index()[columns]


def discrimination(outcomes: pd.DataFrame) -> dict[str, float]:
    """How well the served probabilities separated won from lost leads, on the resolved leads.

    Keys: resolved_leads, open_leads, won_leads, both_classes (1.0/0.0), base_rate, mean_predicted, roc_auc,
    roc_auc_ci_low, roc_auc_ci_high (its bootstrap interval), pr_auc, brier, log_loss, ece. The last seven are NaN
    unless both won and lost leads are present.
    """
    resolved = _resolved(outcomes)
    y = resolved["label"].to_numpy(dtype=int)
    p = resolved["probability"].to_numpy(dtype=float)
    both_classes = len(np.unique(y)) == 2
    metrics = evaluate_probabilities(y, p) | bootstrap_ranking(y, {"served": p})["served"] if both_classes else {}
    return {
        "resolved_leads": float(len(resolved)),
        "open_leads": float(len(outcomes) - len(resolved)),
        "won_leads": float(y.sum()),
        "both_classes": float(both_classes),
        "base_rate": float(y.mean()) if len(y) else math.nan,
        "mean_predicted": float(p.mean()) if len(p) else math.nan,
        **{
            key: metrics.get(key, math.nan)
            for key in ("roc_auc", "roc_auc_ci_low", "roc_auc_ci_high", "pr_auc", "brier", "log_loss", "ece")
        },
    }


# ----------------------------------------------------------------------------------------------------- funnel


def _segments(outcomes: pd.DataFrame, by: str | None) -> np.ndarray:
    if by is None:
        return np.full(len(outcomes), OVERALL, dtype=object)
    return outcomes[by].astype(object).where(outcomes[by].notna(), UNKNOWN).to_numpy()


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).astype(float)


def _rate_flag(rate: float, enough: bool, low: float, good: float | None = None) -> str:
    if not enough or pd.isna(rate):
        return TOO_FEW
    if rate < low:
        return "low"
    return "good" if good is not None and rate > good else "ok"


def funnel_kpis(
    outcomes: pd.DataFrame,
    by: str | None = None,
    min_mqls: int = DEFAULT_MIN_MQLS,
    policy: AuditPolicy = AuditPolicy(),  # frozen, so one shared default is safe
) -> pd.DataFrame:
    """The marketing-to-sales funnel per ``by`` (e.g. lead_source, campaign; None: one row "all").

    Columns: segment, leads, mqls, mql_rate, reviewed, accepted, sqls, resolved, won, recycled (counts of MQLs),
    sal_rate = accepted / reviewed MQLs (MQLs sales has not looked at yet say nothing about their quality),
    mql_to_sql = SQLs / MQLs, mql_to_won = won / resolved MQLs (deals take months: open MQLs are left out as
    in the label), recycled_rate = recycled / MQLs, sal_flag ("low"/"ok"), sql_flag ("low"/"ok"/"good"); both
    flags read "too few" for groups with fewer than ``min_mqls`` MQLs (or nothing reviewed). Most MQLs first.
    """
    mql = outcomes["is_mql"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "segment": _segments(outcomes, by),
            "lead": 1,
            "mql": mql,
            **{
                column: mql & outcomes[source].to_numpy(dtype=bool)
                for column, source in [
                    ("reviewed", "reviewed"),
                    ("accepted", "accepted"),
                    ("sqls", "reached_sql"),
                    ("won", "won"),
                    ("recycled", "recycled"),
                ]
            },
            "resolved": mql & outcomes["label"].notna().to_numpy(),
        }
    )
    table = frame.groupby("segment").sum().astype(int).rename(columns={"lead": "leads", "mql": "mqls"})
    table = table.assign(
        mql_rate=_ratio(table["mqls"], table["leads"]),
        sal_rate=_ratio(table["accepted"], table["reviewed"]),
        mql_to_sql=_ratio(table["sqls"], table["mqls"]),
        mql_to_won=_ratio(table["won"], table["resolved"]),
        recycled_rate=_ratio(table["recycled"], table["mqls"]),
    )
    enough = table["mqls"] >= min_mqls
    table["sal_flag"] = [_rate_flag(r, e, policy.sal_low) for r, e in zip(table["sal_rate"], enough, strict=True)]
    table["sql_flag"] = [
        _rate_flag(r, e, policy.sql_low, policy.sql_good) for r, e in zip(table["mql_to_sql"], enough, strict=True)
    ]
    order = ["leads", "mqls", "mql_rate", "reviewed", "accepted", "sal_rate", "sqls", "mql_to_sql", "resolved"]
    order += ["won", "mql_to_won", "recycled", "recycled_rate", "sal_flag", "sql_flag"]
    return table[order].sort_values(["mqls", "leads"], ascending=False, kind="stable").reset_index()


def rejection_reasons(outcomes: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Why sales rejected leads (latest verdict a rejection, MQL or not): segment, reason, rejections, share.

    ``share`` is within the segment; a rejection without a reason reads "(unknown)". Largest first per segment.
    """
    rejected = outcomes[outcomes["rejected"].to_numpy(dtype=bool)]
    frame = pd.DataFrame(
        {
            "segment": _segments(rejected, by),
            "reason": rejected["rejection_reason"].astype(object).where(rejected["rejection_reason"].notna(), UNKNOWN),
        }
    )
    table = frame.groupby(["segment", "reason"]).size().rename("rejections").reset_index()
    table["share"] = table["rejections"] / table.groupby("segment")["rejections"].transform("sum")
    return table.sort_values(["segment", "rejections", "reason"], ascending=[True, False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------- SLA


def sla_status(outcomes: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Leads promised a response time, with hours_to_first_contact and sla_status "within"/"breach"/"pending".

    Breach: contacted later than promised, or not contacted and the deadline passed by ``as_of``.
    Pending: not contacted and the deadline is still ahead (not judged yet).
    """
    promised = outcomes[outcomes["respond_within_hours"].notna()]
    hours = (promised["first_contact_at"] - promised["clock_start"]).dt.total_seconds() / 3600
    limit = promised["respond_within_hours"].astype(float)
    deadline = promised["clock_start"] + pd.to_timedelta(limit, unit="h")
    contacted = promised["first_contact_at"].notna()
    status = np.select(
        [contacted & (hours <= limit), contacted, deadline <= pd.Timestamp(as_of)],
        ["within", "breach", "breach"],
        default="pending",
    )
    return promised.assign(hours_to_first_contact=hours.astype(float), sla_status=status)


def sla_compliance(outcomes: pd.DataFrame, as_of: pd.Timestamp, by: str | None = "grade") -> pd.DataFrame:
    """Response-time compliance per ``by`` (grade, sales_team, ...; None: one row "all").

    Columns: segment, leads (with a promised response time), within, breached, pending,
    share_within_sla = within / (within + breached) (pending leads are not judged yet), and
    median_hours_to_contact over contacted leads. By sales_team, leads never contacted have no team: "(unknown)".
    """
    judged = sla_status(outcomes, as_of)
    frame = pd.DataFrame(
        {
            "segment": _segments(judged, by),
            "within": judged["sla_status"].to_numpy() == "within",
            "breached": judged["sla_status"].to_numpy() == "breach",
            "pending": judged["sla_status"].to_numpy() == "pending",
            "hours": judged["hours_to_first_contact"].to_numpy(),
        }
    )
    grouped = frame.groupby("segment")
    table = grouped[["within", "breached", "pending"]].sum().astype(int)
    table.insert(0, "leads", grouped.size())
    table["share_within_sla"] = _ratio(table["within"], table["within"] + table["breached"])
    table["median_hours_to_contact"] = grouped["hours"].median()
    return table.reset_index()


# ----------------------------------------------------------------------------------------------- stability


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _bin_counts(known: np.ndarray, edges: list[float]) -> np.ndarray:
    """How many of the ``known`` values fall in each right-closed bin (-inf, e1], (e1, e2], ..., (ek, inf): values
    beyond the reference range land at the ends."""
    return np.bincount(np.searchsorted(edges, known, side="left"), minlength=len(edges) + 1)


def _numeric_shares(values: pd.Series, edges: list[float]) -> list[float]:
    counts = _bin_counts(values.dropna().to_numpy(dtype=float), edges)
    return [float(c) / len(values) for c in counts] if len(values) else [0.0] * (len(edges) + 1)


def _category_labels(values: pd.Series) -> pd.Series:
    return values.dropna().map(str)  # str: True and "True" are the same category, and JSON keys are strings


def _profile_column(values: pd.Series, bins: int) -> dict[str, Any]:
    missing_share = float(values.isna().mean()) if len(values) else 0.0
    if _is_numeric(values):
        known = values.dropna().to_numpy(dtype=float)
        quantiles = np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1]) if len(known) else np.array([])
        edges = [float(edge) for edge in np.unique(quantiles)]  # heavy ties collapse edges: keep each once
        return {"kind": "numeric", "edges": edges, "shares": _numeric_shares(values, edges), "missing": missing_share}
    counts = _category_labels(values).value_counts()
    shares = {str(category): float(count) / len(values) for category, count in counts.items()}
    return {"kind": "categorical", "shares": shares, "missing": missing_share}


def reference_profile(features: pd.DataFrame, scores: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """The reference distributions PSI compares against, as plain JSON-serialisable data.

    Numeric features: interior quantile edges (unique, so heavy ties give fewer bins) and the share of rows in
    each right-closed bin; categorical and boolean features: the share of each category. Both keep the share
    of missing values apart. The score's profile is stored under "score". Shares are of all rows.
    """
    return {
        "bins": bins,
        "features": {str(column): _profile_column(features[column], bins) for column in features.columns},
        "score": _profile_column(pd.Series(np.asarray(scores, dtype=float)), bins),
    }


def _bin_shares(reference: Mapping[str, Any], values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    missing = float(values.isna().mean()) if len(values) else 0.0
    if reference["kind"] == "numeric":
        expected = [*reference["shares"], reference["missing"]]
        actual = [*_numeric_shares(values.astype(float), reference["edges"]), missing]
        return np.array(expected), np.array(actual)
    known = reference["shares"]
    labels = _category_labels(values)
    counts = labels.value_counts()
    share_of = {str(category): float(count) / len(values) for category, count in counts.items()}
    new = sum(share for category, share in share_of.items() if category not in known)
    expected = [*known.values(), reference["missing"], 0.0]  # the reference had no new categories by definition
    actual = [*(share_of.get(category, 0.0) for category in known), missing, new]
    return np.array(expected), np.array(actual)


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index: sum over bins of (actual - expected) * ln(actual / expected).

    Shares below ``epsilon`` are raised to it (an empty bin would make the log infinite).
    """
    e = np.maximum(np.asarray(expected, dtype=float), epsilon)
    a = np.maximum(np.asarray(actual, dtype=float), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def _psi_flag(value: float, policy: AuditPolicy) -> str:
    if value > policy.psi_drift:
        return "drift"
    return "watch" if value > policy.psi_watch else "stable"


def population_stability(
    profile: Mapping[str, Any],
    features: pd.DataFrame,
    scores: np.ndarray,
    policy: AuditPolicy = AuditPolicy(),  # frozen, so one shared default is safe
) -> pd.DataFrame:
    """PSI of each profiled feature and of the score (row "score"), most shifted first.

    Columns: feature, kind, psi, flag ("drift" above ``policy.psi_drift``, "watch" above ``policy.psi_watch``,
    else "stable"). Missing values are a bin of their own; categories unseen in the reference share one
    "(new category)" bin, so a new lead source or campaign raises the PSI instead of vanishing.
    """
    absent = sorted(set(profile["features"]) - set(map(str, features.columns)))
    if absent:
        raise ValueError(f"features missing from the audited leads but in the reference profile: {absent}")
    current = {str(column): features[column] for column in features.columns}
    rows = [
        (name, reference["kind"], psi(*_bin_shares(reference, current[name])))
        for name, reference in profile["features"].items()
    ]
    score_shares = _bin_shares(profile["score"], pd.Series(np.asarray(scores, dtype=float)))
    rows.append(("score", "score", psi(*score_shares)))
    table = pd.DataFrame(rows, columns=["feature", "kind", "psi"])
    table["flag"] = [_psi_flag(value, policy) for value in table["psi"]]
    return table.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


MIN_LEADS_BEYOND = 50  # scored leads with a value a number feature needs before its range is judged
MIN_SHARE_BEYOND = 0.5  # most of the scored leads with a value at or beyond the training leads' outer decile edge ...
MAX_TRAINING_SHARE_BEYOND = 0.25  # ... where few training leads are (ties may put more than a tenth there)


@dataclass(frozen=True)
class OutOfRange:
    """A number feature most scored leads hold beyond nearly every training lead's value."""

    feature: str
    side: Literal["below", "above"]
    bound: float  # the training leads' first decile edge ("below": at or below it) or last ("above": above it)
    share: float  # of the scored leads with a value
    training_share: float  # of the training leads with a value
    leads: int  # scored leads with a value


@dataclass
class RangeTally:
    """The scored leads' counts in the reference profile's bins of each number feature, added chunk by chunk
    (constant memory: a run over millions of leads keeps one small array per feature)."""

    profile: Mapping[str, Any]
    counts: dict[str, np.ndarray] = field(default_factory=dict)  # per feature: its right-closed bins' counts

    def add(self, features: Mapping[str, np.ndarray]) -> None:
        """Count a chunk's model features (one array per feature, as the scorer's array path gives them)."""
        for name, reference in self.profile["features"].items():
            if reference["kind"] != "numeric" or name not in features:
                continue
            values = np.asarray(features[name], dtype=float)
            bins = _bin_counts(values[~np.isnan(values)], reference["edges"])
            self.counts[name] = self.counts[name] + bins if name in self.counts else bins

    def beyond_training(self) -> list[OutOfRange]:
        """The number features most scored leads hold at or below the training leads' first decile edge (or above
        the last) where few training leads are (:data:`MIN_SHARE_BEYOND`, :data:`MAX_TRAINING_SHARE_BEYOND`), most
        scored leads beyond first: counted up to the export's day, such a number grew with each training lead's age
        or with sales' work on it, and new leads are scored with values the model saw on few leads."""
        found = []
        for name, counts in self.counts.items():
            reference, leads = self.profile["features"][name], int(counts.sum())
            taught = np.asarray(reference["shares"], dtype=float)
            if leads < MIN_LEADS_BEYOND or len(reference["edges"]) < 2 or taught.sum() <= 0:
                continue  # a yes/no or a near-constant number has no range to be beyond
            taught = taught / taught.sum()  # of the training leads with a value
            ends: tuple[tuple[Literal["below", "above"], int, float], ...] = (
                ("below", 0, reference["edges"][0]),
                ("above", -1, reference["edges"][-1]),
            )
            for side, bin_, bound in ends:
                share = float(counts[bin_]) / leads
                if share >= MIN_SHARE_BEYOND and taught[bin_] <= MAX_TRAINING_SHARE_BEYOND:
                    found.append(OutOfRange(name, side, float(bound), share, float(taught[bin_]), leads))
        return sorted(found, key=lambda beyond: -beyond.share)


# ------------------------------------------------------------------------------------------------ over time


def mql_rate_over_time(outcomes: pd.DataFrame, freq: str = "W") -> pd.DataFrame:
    """Leads per period of ``clock_start``: period_start, leads, mqls, mql_rate, mean_score, mean_probability.

    Every period between the first and the last lead is listed, empty ones with 0 leads: a gap is news
    (a form or the scoring log stopped).
    """
    columns = ["period_start", "leads", "mqls", "mql_rate", "mean_score", "mean_probability"]
    if outcomes.empty:
        return pd.DataFrame(columns=columns)
    periods = outcomes["clock_start"].dt.to_period(freq)
    grouped = outcomes.assign(is_mql=outcomes["is_mql"].astype(bool)).groupby(periods)
    table = grouped.agg(
        leads=("lead_id", "size"),
        mqls=("is_mql", "sum"),
        mean_score=("score", "mean"),
        mean_probability=("probability", "mean"),
    )
    table = table.reindex(pd.period_range(periods.min(), periods.max(), freq=periods.dt.freq))
    table[["leads", "mqls"]] = table[["leads", "mqls"]].fillna(0).astype(int)
    table["mql_rate"] = _ratio(table["mqls"], table["leads"])
    table["period_start"] = pd.PeriodIndex(table.index).to_timestamp(how="start")
    return table[columns].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- funnel math


def funnel_math(outcomes: pd.DataFrame, target_customers_per_month: float, months: float) -> dict[str, Any]:
    """How many SQLs and MQLs a month a customer target needs at today's rates, and the threshold that gives them.

    Rates come from the resolved MQLs (won or lost): mql_to_sql = SQLs / resolved MQLs, sql_to_won = won / SQLs.
    The threshold is the probability at which the quarter's leads (``months`` long) would have given the
    needed MQLs a month; if even all leads are too few it is capped at the lowest probability (``capped``).
    The extra MQLs of a lower threshold score lower and convert worse than today's: the need is a lower bound.

    Keys: target_customers_per_month, months, leads_per_month, mqls_per_month (today), resolved_mqls,
    mql_to_sql, sql_to_won, mql_to_won, sqls_needed_per_month, mqls_needed_per_month, threshold_probability,
    capped (bool), note (plain-language caveat or "").
    """
    if target_customers_per_month <= 0 or months <= 0:
        raise ValueError(f"target and months must be positive, got {target_customers_per_month} and {months}")
    resolved_mqls = outcomes[outcomes["is_mql"].astype(bool) & outcomes["label"].notna()]
    sqls = int(resolved_mqls["reached_sql"].sum())
    won = int(resolved_mqls["won"].sum())
    mql_to_sql = sqls / len(resolved_mqls) if len(resolved_mqls) else math.nan
    sql_to_won = won / sqls if sqls else math.nan
    plan: dict[str, Any] = {
        "target_customers_per_month": float(target_customers_per_month),
        "months": float(months),
        "leads_per_month": len(outcomes) / months,
        "mqls_per_month": float(outcomes["is_mql"].astype(bool).sum()) / months,
        "resolved_mqls": float(len(resolved_mqls)),
        "mql_to_sql": mql_to_sql,
        "sql_to_won": sql_to_won,
        "mql_to_won": mql_to_sql * sql_to_won if won else math.nan,
        "sqls_needed_per_month": math.nan,
        "mqls_needed_per_month": math.nan,
        "threshold_probability": math.nan,
        "capped": False,
        "note": "",
    }
    if not won:
        return {**plan, "note": "no won MQL yet among the resolved ones: the rates needed for the plan are unknown"}
    sqls_needed = target_customers_per_month / sql_to_won
    mqls_needed = sqls_needed / mql_to_sql
    needed_in_period = math.ceil(mqls_needed * months - 1e-9)  # 1e-9: 12.000000001 MQLs are still 12
    probabilities = np.sort(outcomes["probability"].to_numpy(dtype=float))[::-1]
    capped = needed_in_period > len(probabilities)
    note = (
        f"even all {len(probabilities)} leads of the period ({len(probabilities) / months:.0f} a month) are fewer "
        f"than the {mqls_needed:.0f} MQLs a month needed: more leads are needed, not a lower threshold"
        if capped
        else ""
    )
    threshold = probabilities[min(needed_in_period, len(probabilities)) - 1] if len(probabilities) else math.nan
    return {
        **plan,
        "sqls_needed_per_month": sqls_needed,
        "mqls_needed_per_month": mqls_needed,
        "threshold_probability": float(threshold),
        "capped": capped,
        "note": note,
    }


# ------------------------------------------------------------------------------------------------------ verdict


def _funnel_reasons(funnel_overall: pd.DataFrame | None, policy: AuditPolicy) -> list[str]:
    if funnel_overall is None or funnel_overall.empty:
        return []
    row = funnel_overall.iloc[0]
    reasons = []
    if row["sal_flag"] == "low":
        reasons.append(
            f"Sales accepted only {row['sal_rate']:.0%} of the MQLs it reviewed "
            f"(target at least {policy.sal_low:.0%}): agree with sales on what an MQL is, or raise the threshold."
        )
    if row["sql_flag"] == "low":
        reasons.append(
            f"Only {row['mql_to_sql']:.0%} of MQLs became sales-qualified (target at least {policy.sql_low:.0%})."
        )
    return reasons


def _drift_reasons(psi_table: pd.DataFrame, policy: AuditPolicy) -> tuple[list[str], list[str]]:
    features = psi_table[psi_table["feature"] != "score"]
    drifted = features.loc[features["psi"] > policy.psi_drift, "feature"].tolist()
    watched = features.loc[(features["psi"] > policy.psi_watch) & (features["psi"] <= policy.psi_drift), "feature"]
    notes = [f"Worth watching: the mix of {', '.join(watched)} has shifted somewhat."] if len(watched) else []
    score = psi_table.loc[psi_table["feature"] == "score", "psi"]
    if len(score) and score.iloc[0] > policy.psi_drift:
        notes.append(
            f"The scores themselves are distributed very differently than at training (PSI {score.iloc[0]:.2f})."
        )
    return drifted, notes


def verdict(
    discrimination: Mapping[str, float],
    psi_table: pd.DataFrame,
    funnel_overall: pd.DataFrame | None = None,
    reference_auc: float | None = None,
    policy: AuditPolicy = AuditPolicy(),  # frozen, so one shared default is safe
    mature_after: pd.Timestamp | None = None,
) -> Verdict:
    """Keep, recalibrate or retrain the model, with reasons a sales or marketing lead can act on.

    Retrain when the ranking got worse (AUC more than ``policy.max_auc_drop`` below ``reference_auc``, the
    test AUC at training) or a feature drifted (PSI above ``policy.psi_drift``); recalibrate when the ranking
    holds but the probabilities are off (ECE above ``policy.max_ece`` or mean predicted vs actual conversion off
    by more than ``policy.max_calibration_gap``); else keep. Too few resolved leads: keep, and say so.
    Funnel and milder drift findings are added as reasons; they do not change the action. While too many leads
    are open (``policy.max_open_share``; ``mature_after``: when all will be resolved) only drift can decide.
    """
    d = discrimination
    drifted, drift_notes = _drift_reasons(psi_table, policy)
    context = drift_notes + _funnel_reasons(funnel_overall, policy)
    resolved, won = int(d["resolved_leads"]), int(d["won_leads"])
    if resolved < policy.min_resolved_leads or won < policy.min_won_leads or not d["both_classes"]:
        judged = [
            f"Too few resolved leads to judge: {resolved} resolved ({won} won), at least "
            f"{policy.min_resolved_leads} resolved and {policy.min_won_leads} won are needed. Keep the model for now."
        ]
        if drifted:
            judged.append(f"But the incoming leads changed in {', '.join(drifted)}: check these sources soon.")
        return Verdict("keep", judged + context)
    open_share = d["open_leads"] / max(d["open_leads"] + resolved, 1)
    if open_share > policy.max_open_share:
        when = f" after {mature_after.date()}" if mature_after is not None else " when most leads are resolved"
        early = [
            f"{open_share:.0%} of the leads are still open: the outcomes so far are the fast ones, so ranking and "
            f"calibration are not judged yet (AUC so far {d['roc_auc']:.2f}). Audit this quarter again{when}."
        ]
        if drifted:
            changed = f"The incoming leads changed markedly in: {', '.join(drifted)}."
            return Verdict("retrain", [f"{changed} The model learned from another mix.", *early, *context])
        return Verdict("keep", early + context)

    retrain = []
    high = d.get("roc_auc_ci_high", math.nan)
    interval = f" ({d['roc_auc_ci_low']:.2f}-{high:.2f})" if not math.isnan(high) else ""
    if reference_auc is not None and d["roc_auc"] < reference_auc - policy.max_auc_drop:
        if math.isnan(high) or high < reference_auc:  # the quarter's interval leaves the training AUC out
            retrain.append(
                f"The score ranks leads worse than at training (AUC {d['roc_auc']:.2f}{interval}, was "
                f"{reference_auc:.2f}): good and poor leads are mixed up more often."
            )
        else:
            context.append(
                f"The AUC {d['roc_auc']:.2f}{interval} is below training's {reference_auc:.2f}, but within this "
                "quarter's noise (too few resolved leads to tell): audit the next quarter too."
            )
    if drifted:
        retrain.append(
            f"The incoming leads changed markedly in: {', '.join(drifted)}. The model learned from another mix."
        )
    if retrain:
        return Verdict("retrain", retrain + context)

    gap = d["mean_predicted"] / d["base_rate"] - 1 if d["base_rate"] > 0 else math.inf
    level = (
        f"the score promised {d['mean_predicted']:.1%} conversion on average, "
        f"{d['base_rate']:.1%} of these leads actually converted"
    )
    if d["ece"] > policy.max_ece or abs(gap) > policy.max_calibration_gap:
        return Verdict(
            "recalibrate",
            [
                f"The order of the leads is still right, but the probabilities are off: {level} "
                f"(calibration error {d['ece']:.3f}, limit {policy.max_ece:.3f}). Re-fit the calibration, "
                "not the model.",
                *context,
            ],
        )
    ranking = f"AUC {d['roc_auc']:.2f}" + (f", {reference_auc:.2f} at training" if reference_auc is not None else "")
    return Verdict(
        "keep",
        [f"The score still ranks leads well ({ranking}) and its probabilities match reality: {level}.", *context],
    )

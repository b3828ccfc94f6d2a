"""Point-in-time engagement against export-time counts, on the synthetic CRM's out-of-time test quarter.

The synthetic CRM is generated with its activities (``generate_crm(activities=True)``): each lead's engagement as
dated events, the lead row's counts before the hand-over to sales, then the activity sales work brings (most for
leads on their way to a deal). Three models are trained on the one road (``train_scorer``), on the same leads:

- **lead row**: the shipped mapping, engagement counted before the hand-over (what the synthetic export holds);
- **export-time counts**: those columns counted as a real export counts them, every activity until the export.
  Its test AUC is reported twice: as its own evaluation computes it (test leads counted at the export too), and
  as it scores live leads, whose counts hold only what they did before their scoring moment;
- **point in time**: the activities table mapped (``tables.activities``), those columns ignored: windows, recency
  and decayed sums of activities strictly before each lead's moment (its first disposition).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.metrics import roc_auc_score

from models.engagement import EngagementWindows, engagement_features, scoring_moments
from pipelines.crm_export.mapping import ExportMapping, load_mapping
from pipelines.crm_export.prepare import LoadedExport
from pipelines.crm_export.read import RawExport
from pipelines.demo.synthetic import COUNTED_BY_ACTIVITIES as COUNTED
from pipelines.demo.synthetic import SyntheticCRM, activities_mapping, generate_crm
from pipelines.settings import DEMO_MAPPING, Settings

_FLAGS = ("webinar_attended", "demo_requested", "newsletter_unsubscribed")
_ALL_TIME = 1_000_000  # days: a window that holds every activity before the moment


def counted_leads(crm: SyntheticCRM, moments: pd.Series) -> pd.DataFrame:
    """The lead rows with the counted columns recounted from the activities strictly before each lead's moment
    (a lead whose column is missing, e.g. not tracked, stays missing)."""
    assert crm.activities is not None
    windows = EngagementWindows(tuple(COUNTED.values()), (_ALL_TIME,))
    counts = engagement_features(crm.activities, moments, windows)
    leads = crm.leads.set_index("lead_id")
    recounted = leads.copy()
    for column, kind in COUNTED.items():
        values = counts[windows.window_name(kind, _ALL_TIME)].reindex(leads.index).to_numpy()
        values = values > 0 if column in _FLAGS else values.astype(float)
        recounted[column] = pd.Series(values, index=leads.index).where(leads[column].notna())
    return recounted.reset_index()


def _export(crm: SyntheticCRM, leads: pd.DataFrame, mapping: ExportMapping, activities: bool = False) -> LoadedExport:
    tables = {"dispositions": crm.dispositions, "deals": crm.deals}
    if activities:
        assert crm.activities is not None
        tables["activities"] = crm.activities
    return LoadedExport(mapping, RawExport(leads, None, None), tables)


def benchmark_engagement(settings: Settings, n_leads: int, seed: int = 11) -> dict[str, Any]:
    """Test AUC of the three models on the out-of-time quarter, with the oracle's; how much activity came after."""
    from pipelines.training import train_scorer

    crm = generate_crm(
        n_leads,
        seed=seed,
        end=settings.synthetic.end,
        months=settings.synthetic.months,
        horizon_days=settings.labels.horizon_days,
        activities=True,
    )
    assert crm.activities is not None
    mapping = load_mapping(DEMO_MAPPING)
    leads = crm.leads.set_index("lead_id")
    export_at = pd.Timestamp(settings.synthetic.end)
    moments = scoring_moments(leads["created_at"], crm.dispositions, "first_disposition", 7.0, export_at, leads.index)
    at_export = counted_leads(crm, pd.Series(export_at, index=leads.index))
    at_moment = counted_leads(crm, moments)

    lead_row = train_scorer(_export(crm, crm.leads, mapping), settings)
    export_time = train_scorer(_export(crm, at_export, mapping), settings)
    point_in_time = train_scorer(_export(crm, crm.leads, activities_mapping(mapping), activities=True), settings)

    test = export_time.test_scores.set_index("lead_id")
    evaluated = export_time.evaluated or export_time.scorer
    live_rows = at_moment.set_index("lead_id").loc[test.index, list(export_time.test_leads.columns)]
    live_auc = float(roc_auc_score(test["converted"], evaluated.predict_proba(live_rows)))
    oracle = test.join(crm.true_conversion.set_index("lead_id"))["true_conversion_probability"]
    after = point_in_time.preparation["tables"]["activities"]["activities_after_their_moment"]
    return {
        "leads": n_leads,
        "activities": len(crm.activities),
        "activities_after_their_moment": int(after),
        "auc_oracle": float(roc_auc_score(test["converted"], oracle)),
        "auc_lead_row": lead_row.metrics["test_roc_auc"],
        "auc_export_time_as_evaluated": export_time.metrics["test_roc_auc"],
        "auc_export_time_on_live_leads": live_auc,
        "auc_point_in_time": point_in_time.metrics["test_roc_auc"],
        "ece_point_in_time": point_in_time.metrics["test_ece"],
        "n_test": int(point_in_time.metrics["n_test"]),
        "engagement_features": len(point_in_time.preparation["tables"]["activities"]["features"]),
    }


def engagement_rows(result: dict[str, Any]) -> list[tuple[str, ...]]:
    """The benchmark table's rows: each model's test AUC next to the point-in-time model's, and the oracle's."""
    pit = result["auc_point_in_time"]
    rows = [
        (
            f"engagement: point in time ({result['engagement_features']} features), test AUC",
            f"{pit:.4f}",
            "oracle",
            f"{result['auc_oracle']:.4f}",
            f"gap {result['auc_oracle'] - pit:+.4f}",
            "no target: honest",
        )
    ]
    for key, name in (
        ("auc_lead_row", "counts before the hand-over (lead row)"),
        ("auc_export_time_as_evaluated", "export-time counts, as evaluated"),
        ("auc_export_time_on_live_leads", "export-time counts, on live leads"),
    ):
        rows.append(
            ("engagement: point in time vs", f"{pit:.4f}", name, f"{result[key]:.4f}", f"{pit - result[key]:+.4f}", "")
        )
    return rows

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from models.explanations import Contributions, global_importance
from models.features import MODEL_FEATURES, build_features
from models.insights import (
    beeswarm_figure,
    dependence_figure,
    emphasis_by_group,
    grade_table,
    importance_figure,
    rule_vs_model,
    segment_table,
)
from models.rule_score import RuleScoreConfig
from tests.conftest import make_lead


def _contributions(features: pd.DataFrame, impacts: dict[str, np.ndarray]) -> Contributions:
    values = np.zeros((len(features), len(MODEL_FEATURES)))
    for feature, impact in impacts.items():
        values[:, MODEL_FEATURES.index(feature)] = impact
    return Contributions(
        values=values,
        base_value=-3.0,
        arrays={name: features[name].to_numpy() for name in features},
        index=features.index,
    )


@pytest.fixture
def leads() -> pd.DataFrame:
    rows = [
        make_lead(f"L{i}", demo_requested=i % 2 == 0, website_visits=float(i), lead_source=["web", "fair"][i % 2])
        for i in range(60)
    ]
    return pd.DataFrame(rows).set_index("lead_id")


def test_grade_table_counts_all_grades_and_skips_open_outcomes() -> None:
    grades = np.array(["A1", "A1", "A1", "D4"], dtype=object)
    converted = np.array([1.0, 0.0, np.nan, 0.0])

    table = grade_table(grades, converted).set_index("grade")

    assert len(table) == 16
    assert table.loc["A1", "leads"] == 3
    assert table.loc["A1", "conversion_rate"] == 0.5
    assert table.loc["B2", "leads"] == 0
    assert np.isnan(table.loc["B2", "conversion_rate"])


def test_segment_table_ranks_segments_and_drops_small_ones(leads: pd.DataFrame) -> None:
    features = build_features(leads)
    source_impact = np.where(leads["lead_source"] == "web", 0.5, -0.5)
    explained = _contributions(features.assign(lead_source=leads["lead_source"]), {"lead_source": source_impact})
    converted = (leads["lead_source"] == "web").to_numpy(dtype=float)

    table = segment_table(explained, "lead_source", converted, min_leads=30)
    small = segment_table(explained, "lead_source", converted, min_leads=31)

    assert table["segment"].tolist() == ["web", "fair"]
    assert table["avg_own_impact"].tolist() == [0.5, -0.5]
    assert table["conversion_rate"].tolist() == [1.0, 0.0]
    assert small.empty


def test_rule_vs_model_reports_agreement_and_missing_effect(leads: pd.DataFrame) -> None:
    features = build_features(leads)
    demo = features["demo_requested"].to_numpy() == 1
    explained = _contributions(features, {"demo_requested": np.where(demo, 1.2, -0.1)})

    table = rule_vs_model(explained, features, RuleScoreConfig(), demo.astype(float)).set_index("signal")

    assert table.loc["Demo requested", "model_view"] == "agrees"
    assert table.loc["Demo requested", "leads_with_signal"] == demo.sum()
    assert table.loc["Demo requested", "conversion_with"] == 1.0
    assert table.loc["Demo requested", "conversion_without"] == 0.0
    assert table.loc["Website visits", "model_view"] == "no effect"


def test_rule_vs_model_flags_disagreement(leads: pd.DataFrame) -> None:
    features = build_features(leads)
    demo = features["demo_requested"].to_numpy() == 1
    explained = _contributions(features, {"demo_requested": np.where(demo, -0.5, 0.1)})

    table = rule_vs_model(explained, features, RuleScoreConfig()).set_index("signal")

    assert table.loc["Demo requested", "model_view"] == "disagrees"
    assert np.isnan(table.loc["Demo requested", "conversion_with"])


def test_emphasis_shares_add_up_to_one(leads: pd.DataFrame) -> None:
    features = build_features(leads)
    explained = _contributions(features, {"company_size": np.full(len(features), 0.3), "demo_requested": 0.1})

    emphasis = emphasis_by_group(explained, features, RuleScoreConfig()).set_index("group")

    assert emphasis["rule_share_of_points"].sum() == pytest.approx(1.0)
    assert emphasis["model_share_of_influence"].sum() == pytest.approx(1.0)
    assert emphasis.loc["fit", "model_share_of_influence"] == pytest.approx(0.75)


def test_figures_are_drawn(trained) -> None:  # type: ignore[no-untyped-def]
    explained = trained.scorer.contributions(trained.test_leads.head(300))

    figures = [
        importance_figure(global_importance(explained)),
        beeswarm_figure(explained, "de"),
        dependence_figure(explained, "company_size"),
        dependence_figure(explained, "industry", "de"),
    ]

    assert all(isinstance(figure, Figure) and figure.axes for figure in figures)

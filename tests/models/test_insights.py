from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from models.explanations import Contributions, global_importance
from models.feature_text import feature_name
from models.features import FeatureSpec
from models.insights import (
    beeswarm_figure,
    channel_features,
    dependence_figure,
    emphasis_by_group,
    feature_groups,
    grade_table,
    importance_figure,
    rule_vs_model,
    segment_table,
)
from models.rule_score import PointsLine, PointsRule

SEGMENT_SPEC = FeatureSpec(numeric=("website_visits",), categorical=("source", "sector"), fit=("sector",))


@pytest.fixture
def sourced() -> Contributions:
    """60 leads from two sources (as the CRM spells them), the model crediting the web source."""
    source = np.array(["Web", "Fair"] * 30, dtype=object)
    values = np.zeros((60, len(SEGMENT_SPEC.names)))
    values[:, SEGMENT_SPEC.names.index("source")] = np.where(source == "Web", 0.5, -0.5)
    arrays = {
        "website_visits": np.arange(60, dtype=float),
        "source": np.char.lower(source.astype(str)).astype(object),
        "sector": np.full(60, "it", dtype=object),
    }
    index = pd.Index([f"L{i}" for i in range(60)], name="lead_id")
    return Contributions(values, -3.0, arrays, index, SEGMENT_SPEC, verbatim={"source": source})


def test_channel_features_are_found_by_name() -> None:
    spec = FeatureSpec(numeric=("visits",), categorical=("lead_quelle", "kampagne_2025", "sector"), fit=())

    assert channel_features(spec) == {"lead_source": "lead_quelle", "campaign": "kampagne_2025"}
    assert channel_features(SEGMENT_SPEC) == {"lead_source": "source"}


def test_grade_table_counts_all_grades_and_skips_open_outcomes() -> None:
    grades = np.array(["A1", "A1", "A1", "D4"], dtype=object)
    converted = np.array([1.0, 0.0, np.nan, 0.0])

    table = grade_table(grades, converted).set_index("grade")

    assert len(table) == 16
    assert table.loc["A1", "leads"] == 3
    assert table.loc["A1", "conversion_rate"] == 0.5
    assert table.loc["B2", "leads"] == 0
    assert np.isnan(table.loc["B2", "conversion_rate"])


def test_segment_table_ranks_segments_in_the_crms_spelling_and_drops_small_ones(sourced: Contributions) -> None:
    converted = (sourced.verbatim["source"] == "Web").astype(float)

    table = segment_table(sourced, "source", converted, min_leads=30)
    small = segment_table(sourced, "source", converted, min_leads=31)

    assert table["segment"].tolist() == ["Web", "Fair"]
    assert table["avg_own_impact"].tolist() == [0.5, -0.5]
    assert table["conversion_rate"].tolist() == [1.0, 0.0]
    assert small.empty


def _rule_features(n: int) -> pd.DataFrame:
    """Features of ``n`` leads as a mapped export's model sees them: demo every 2nd, software every 3rd..."""
    i = np.arange(n)
    return pd.DataFrame(
        {
            "company_size": 100.0 * i,
            "website_visits": i.astype(float),
            "demo_requested": (i % 2 == 0).astype(float),
            "email_is_freemail": (i % 4 == 0).astype(float),
            "industry": np.where(i % 3 == 0, "software", "retail"),
        },
        index=pd.Index([f"L{k}" for k in i], name="lead_id"),
    )


RULE_SPEC = FeatureSpec(
    numeric=("company_size", "website_visits", "demo_requested", "email_is_freemail"),
    categorical=("industry",),
    fit=("company_size", "email_is_freemail", "industry"),
)
RULE_GROUPS = feature_groups(RULE_SPEC)
RULE = PointsRule(
    mql_points=30,
    lines=(
        PointsLine(name="Demo requested", feature="demo_requested", equals=1, points=30),
        PointsLine(name="Website visits", feature="website_visits", per_unit=True, points=1, max_points=10),
        PointsLine(name="Target industry", feature="industry", one_of=("Software",), points=15),
        PointsLine(name="Freemail address", feature="email_is_freemail", equals=1, points=-15),
    ),
)


def _rule_contributions(features: pd.DataFrame, impacts: dict[str, np.ndarray | float]) -> Contributions:
    values = np.zeros((len(features), len(RULE_SPEC.names)))
    for feature, impact in impacts.items():
        values[:, RULE_SPEC.names.index(feature)] = impact
    arrays = {name: features[name].to_numpy() for name in features}
    return Contributions(values=values, base_value=-3.0, arrays=arrays, index=features.index, spec=RULE_SPEC)


def test_feature_groups_follow_the_spec() -> None:
    assert RULE_GROUPS == {
        "company_size": "fit",
        "website_visits": "engagement",
        "demo_requested": "engagement",
        "email_is_freemail": "fit",
        "industry": "fit",
    }


def test_rule_vs_model_reports_agreement_and_missing_effect() -> None:
    features = _rule_features(60)
    demo = features["demo_requested"].to_numpy() == 1
    explained = _rule_contributions(features, {"demo_requested": np.where(demo, 1.2, -0.1)})

    table = rule_vs_model(explained, features, RULE, RULE_GROUPS, demo.astype(float)).set_index("signal")

    assert table.index.tolist() == ["Demo requested", "Website visits", "Target industry", "Freemail address"]
    assert table.loc["Demo requested", "model_view"] == "agrees"
    assert table.loc["Demo requested", "leads_with_signal"] == demo.sum()
    assert table.loc["Demo requested", "conversion_with"] == 1.0
    assert table.loc["Demo requested", "conversion_without"] == 0.0
    assert table.loc["Website visits", "model_view"] == "no effect"
    assert table.loc["Website visits", "leads_with_signal"] == 59  # the lead with no visit earns nothing
    assert table.loc["Website visits", "rule_points"] == "+1 per unit, at most +10"
    assert table["group"].tolist() == ["engagement", "engagement", "fit", "negative"]


def test_rule_vs_model_flags_disagreement() -> None:
    features = _rule_features(60)
    freemail = features["email_is_freemail"].to_numpy() == 1
    explained = _rule_contributions(features, {"email_is_freemail": np.where(freemail, 0.4, 0.0)})

    table = rule_vs_model(explained, features, RULE, RULE_GROUPS).set_index("signal")

    assert table.loc["Freemail address", "model_view"] == "disagrees"  # the rule takes points, the model adds
    assert np.isnan(table.loc["Freemail address", "conversion_with"])


def test_rule_vs_model_refuses_a_line_on_a_feature_the_model_lacks() -> None:
    features = _rule_features(4)
    rule = PointsRule(mql_points=1, lines=(PointsLine(feature="website_visit", at_least=1, points=5),))

    with pytest.raises(ValueError, match="'website_visit' is not a model feature; did you mean 'website_visits'"):
        rule_vs_model(_rule_contributions(features, {}), features, rule, RULE_GROUPS)


def test_emphasis_shares_by_group_counting_warning_signs_as_negative() -> None:
    features = _rule_features(4)  # demo 30+30, visits 0+1+2+3, software 15+15, freemail 15: 111 points
    impacts = {"company_size": 0.3, "demo_requested": 0.1, "email_is_freemail": 0.2}

    emphasis = emphasis_by_group(_rule_contributions(features, impacts), features, RULE, RULE_GROUPS)

    shares = emphasis.set_index("group")
    assert emphasis["group"].tolist() == ["fit", "engagement", "negative"]
    assert shares["rule_share_of_points"].tolist() == pytest.approx([30 / 111, 66 / 111, 15 / 111])
    assert shares["model_share_of_influence"].tolist() == pytest.approx([0.5, 1 / 6, 1 / 3])


def test_emphasis_refuses_a_model_feature_without_group() -> None:
    features = _rule_features(4)
    groups = {feature: group for feature, group in RULE_GROUPS.items() if feature != "company_size"}

    with pytest.raises(ValueError, match=r"no group for model feature\(s\) \['company_size'\]"):
        emphasis_by_group(_rule_contributions(features, {}), features, RULE, groups)


def test_beeswarm_ranks_the_features_colours_numbers_by_value_and_stacks_alike_impacts(sourced: Contributions) -> None:
    visits = sourced.arrays["website_visits"]
    sourced.values[:, SEGMENT_SPEC.names.index("website_visits")] = visits / 10 - 3  # the strongest feature

    axes = beeswarm_figure(sourced, max_display=2).axes[0]

    # bottom to top: the other features summed, then the strongest
    labels = [label.get_text() for label in axes.get_yticklabels()]
    assert labels == ["Sum of 2 other features", feature_name("website_visits")]
    coloured = next(dots for dots in axes.collections if dots.get_array() is not None and len(dots.get_offsets()))
    grey = next(dots for dots in axes.collections if dots.get_array() is None and len(dots.get_offsets()))
    x, y = np.asarray(coloured.get_offsets()).T
    assert np.allclose(np.sort(x), np.sort(visits / 10 - 3))
    assert np.all(np.abs(y - 1) < 0.4)
    levels = np.asarray(coloured.get_array())
    assert levels[np.argmax(x)] == 1.0
    assert levels[np.argmin(x)] == 0.0
    # the summed row is grey: +-0.5 (source) for 30 leads each, stacked around its line instead of on one dot
    x_sum, y_sum = np.asarray(grey.get_offsets()).T
    assert sorted(set(np.round(x_sum, 6))) == [-0.5, 0.5]
    assert np.all(np.abs(y_sum) < 0.4)
    for impact in (-0.5, 0.5):
        assert len(set(np.round(y_sum[np.isclose(x_sum, impact)], 6))) > 10


def test_figures_are_drawn(trained) -> None:  # type: ignore[no-untyped-def]
    explained = trained.scorer.contributions(trained.test_leads.head(300))

    figures = [
        importance_figure(global_importance(explained)),
        beeswarm_figure(explained, "de"),
        dependence_figure(explained, "company_size"),
        dependence_figure(explained, "industry", "de"),
    ]

    assert all(isinstance(figure, Figure) and figure.axes for figure in figures)

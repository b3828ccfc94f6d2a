"""Global views of what drives conversion, for marketing: tables and figures from SHAP contributions.

Shared by the HTML report (``pipelines/report.py``) and the marketing notebook. Impacts are log-odds of
the uncalibrated model (see ``models.explanations``); the report says so in plain words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from models.explanations import ENGAGEMENT_DIGITS, FIT_LETTERS, Contributions
from models.feature_text import Language, feature_name, format_value
from models.features import FeatureSpec
from models.rule_score import RULE_GROUPS, PointsRule, check_features, components_of, rule_components

MAX_CATEGORIES_SHOWN = 12
# SHAP's beeswarm colours (shap.plots.colors.red_blue, sampled): low values blue, high values red; no value grey
LOW_HIGH = LinearSegmentedColormap.from_list(
    "low_high",
    [
        "#008bfb",
        "#007df5",
        "#236cea",
        "#625adb",
        "#8443c6",
        "#9c23ad",
        "#bb00a0",
        "#d5008f",
        "#e9007c",
        "#f90067",
        "#ff0051",
    ],
)
NO_VALUE_GREY = "#777777"
BEESWARM_ROW_HEIGHT = 0.4  # inches per feature row


def importance_figure(importance: pd.DataFrame, top_n: int = 15) -> Figure:
    """Horizontal bars of mean |impact|, most important on top, coloured by fit / engagement."""
    top = importance.head(top_n).iloc[::-1]
    figure = Figure(figsize=(7, 0.35 * len(top) + 1.2))
    axes = figure.subplots()
    colours = np.where(top["group"] == "fit", "#1f77b4", "#ff7f0e")
    axes.barh(top["label"], top["mean_abs_impact"], color=colours)
    axes.set(xlabel="Average influence on the score (mean |SHAP|, log-odds)", title="What moves the score most")
    axes.legend(
        handles=[Rectangle((0, 0), 1, 1, color=c) for c in ("#1f77b4", "#ff7f0e")],
        labels=["fit (who the lead is)", "engagement (what the lead did)"],
        loc="lower right",
    )
    figure.tight_layout()
    return figure


def beeswarm_figure(
    explained: Contributions, language: Language = "en", max_display: int = 15, seed: int = 0
) -> Figure:
    """The beeswarm of SHAP's plots (``shap.plots.beeswarm``), drawn here without importing shap: one row per
    feature, the most influential (mean |impact|) on top and the rest summed in a last row; one dot per lead at its
    impact, stacked where impacts are alike; coloured by the feature's value (blue low, red high, clipped to the
    5th-95th percentile), grey for categories (no high or low), unknown values and the summed row.
    """
    spec = explained.spec
    order = np.argsort(-np.abs(explained.values).mean(axis=0), kind="stable")
    rows = [
        (
            feature_name(spec.names[i], language, spec.texts),
            explained.values[:, i],
            _colour_levels(explained, spec.names[i]),
        )
        for i in order[:max_display]
    ]
    if len(order) > max_display:
        rest = order[max_display - 1 :]
        rows[-1] = (f"Sum of {len(rest)} other features", explained.values[:, rest].sum(axis=1), None)
    figure = Figure(figsize=(8, BEESWARM_ROW_HEIGHT * len(rows) + 1.5))
    axes = figure.subplots()
    axes.axvline(0, color="#999999", zorder=-1)
    rng = np.random.default_rng(seed)
    x, y, level = [], [], []
    for position, (_, impacts, levels) in enumerate(reversed(rows)):
        axes.axhline(position, color="#cccccc", lw=0.5, dashes=(1, 5), zorder=-1)
        x.append(impacts)
        y.append(position + _swarm_offsets(impacts, rng))
        level.append(np.full(len(impacts), np.nan) if levels is None else levels)
    drawn = rng.permutation(sum(len(part) for part in x))  # no lead systematically on top of another
    x_all, y_all, level_all = (np.concatenate(parts)[drawn] for parts in (x, y, level))
    grey = np.isnan(level_all)
    axes.scatter(x_all[grey], y_all[grey], color=NO_VALUE_GREY, s=16, linewidth=0, zorder=3)
    axes.scatter(
        x_all[~grey], y_all[~grey], c=level_all[~grey], cmap=LOW_HIGH, vmin=0, vmax=1, s=16, linewidth=0, zorder=3
    )
    colour_bar = figure.colorbar(ScalarMappable(cmap=LOW_HIGH), ax=axes, ticks=[0, 1], aspect=80)
    colour_bar.set_ticklabels(["Low", "High"])
    colour_bar.set_label("Feature value", size=12, labelpad=0)
    colour_bar.ax.tick_params(labelsize=11, length=0)
    colour_bar.outline.set_visible(False)
    axes.yaxis.set_ticks_position("none")
    for side in ("right", "top", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(color="#333333", labelcolor="#333333")
    axes.tick_params("x", labelsize=11)
    axes.set_yticks(range(len(rows)), [label for label, _, _ in reversed(rows)], fontsize=13)
    axes.set_ylim(-1, len(rows))
    axes.set_xlabel("Impact on the score (SHAP, log-odds): right raises it, left lowers it", fontsize=13)
    figure.tight_layout()
    return figure


def _colour_levels(explained: Contributions, feature: str) -> np.ndarray | None:
    """A numeric feature's values as colour levels from 0 (low) to 1 (high), between its 5th and 95th percentile
    (1st and 99th, or its range, where those are equal); NaN where unknown. None for a category."""
    if feature in explained.spec.categorical:
        return None
    values = np.asarray(explained.arrays[feature], dtype=float)
    known = values[~np.isnan(values)]
    if not len(known):
        return values
    for low_q, high_q in ((5, 95), (1, 99), (0, 100)):
        low, high = np.percentile(known, [low_q, high_q])
        if low < high:
            return (np.clip(values, low, high) - low) / (high - low)
    return np.where(np.isnan(values), np.nan, 0.0)


def _swarm_offsets(impacts: np.ndarray, rng: np.random.Generator, bins: int = 100) -> np.ndarray:
    """Vertical offsets of the dots of one row: leads whose impacts fall in the same of ``bins`` bins are stacked
    alternately above and below the row's line (in random order), scaled to 90% of the row's half height."""
    if not len(impacts):
        return np.zeros(0)
    low, span = impacts.min(), impacts.max() - impacts.min()
    bin_of = np.round(bins * (impacts - low) / (span + 1e-8))
    order = np.lexsort((rng.random(len(impacts)), bin_of))  # by bin, at random within a bin
    sorted_bins = bin_of[order]
    starts = np.flatnonzero(np.r_[True, sorted_bins[1:] != sorted_bins[:-1]])
    layer = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    offsets = np.empty(len(impacts))
    offsets[order] = np.ceil(layer / 2) * ((layer % 2) * 2 - 1)
    return offsets * 0.9 * (BEESWARM_ROW_HEIGHT / np.max(offsets + 1))


def dependence_figure(explained: Contributions, feature: str, language: Language = "en") -> Figure:
    """How one feature's value maps to its impact: a scatter for numbers, mean impact per category otherwise."""
    impact = explained.column(feature)
    values = explained.shown(feature)
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    texts = explained.spec.texts
    name = feature_name(feature, language, texts)
    if feature in explained.spec.categorical:
        shown = values.astype(object).where(values.notna(), format_value(feature, None, language, texts))
        shown = shown.map(lambda value: format_value(feature, value, language, texts))
        means = pd.Series(impact, index=shown.index).groupby(shown.to_numpy()).agg(["mean", "size"])
        means = means.sort_values("size", ascending=False).head(MAX_CATEGORIES_SHOWN).sort_values("mean")
        axes.barh(means.index.astype(str), means["mean"], color=np.where(means["mean"] >= 0, "#2ca02c", "#d62728"))
        axes.set(xlabel="Average impact on the score (log-odds)", title=name)
    else:
        numbers = values.to_numpy(dtype=float)
        known = ~np.isnan(numbers)
        axes.scatter(numbers[known], impact[known], s=6, alpha=0.3)
        axes.axhline(0, color="grey", linewidth=0.8)
        if known.any() and numbers[known].min() >= 0 and numbers[known].max() > 50 * max(np.median(numbers[known]), 1):
            axes.set_xscale("symlog", linthresh=1)  # counts and sizes are skewed: equal room per order of size
            axes.set_xlim(left=0)
        axes.set(xlabel=name, ylabel="Impact on the score (log-odds)", title=name)
        if (~known).any():
            axes.set_title(f"{name} (unknown for {(~known).mean():.0%} of leads, not shown)")
    figure.tight_layout()
    return figure


# The marketing channels, found among the categorical features by name (English and German, snake_case);
# earlier patterns win ("Lead Source" before "Lead Origin").
CHANNEL_NAMES = {
    "lead_source": tuple(
        re.compile(pattern) for pattern in (r"lead_?source", r"source|quelle|herkunft", r"channel|kanal", r"origin")
    ),
    "campaign": (re.compile(r"campaign|kampagne"),),
}


def channel_features(spec: FeatureSpec) -> dict[str, str]:
    """Channel (lead_source, campaign) -> the categorical feature that holds it, by name; absent ones left out."""
    found: dict[str, str] = {}
    for channel, patterns in CHANNEL_NAMES.items():
        for pattern in patterns:
            match = next((f for f in spec.categorical if f not in found.values() and pattern.search(f)), None)
            if match is not None:
                found[channel] = match
                break
    return found


def segment_table(
    explained: Contributions, feature: str, converted: np.ndarray | None = None, min_leads: int = 30
) -> pd.DataFrame:
    """Per lead source or campaign: leads, actual conversion, and the model's average view of them.

    ``avg_total_impact`` is how much the model raises (>0) or lowers the score of the segment's leads overall;
    ``avg_own_impact`` is the part it attributes to the segment itself (the source or campaign feature).
    """
    segments = explained.shown(feature).astype(object).fillna("(unknown)")
    frame = pd.DataFrame(
        {
            "segment": segments.to_numpy(),
            "total": explained.values.sum(axis=1),
            "own": explained.column(feature),
            "converted": np.nan if converted is None else np.asarray(converted, dtype=float),
        }
    )
    table = frame.groupby("segment").agg(
        leads=("total", "size"),
        conversion_rate=("converted", "mean"),
        avg_total_impact=("total", "mean"),
        avg_own_impact=("own", "mean"),
    )
    table = table[table["leads"] >= min_leads].sort_values("avg_total_impact", ascending=False)
    return table.reset_index()


def segment_figure(table: pd.DataFrame, title: str, top_n: int = 15) -> Figure:
    """Bars of the segments' average total impact, best on top."""
    shown = table.head(top_n).iloc[::-1]
    figure = Figure(figsize=(7, 0.35 * len(shown) + 1.2))
    axes = figure.subplots()
    colours = np.where(shown["avg_total_impact"] >= 0, "#2ca02c", "#d62728")
    axes.barh(shown["segment"].astype(str), shown["avg_total_impact"], color=colours)
    axes.axvline(0, color="grey", linewidth=0.8)
    axes.set(xlabel="Average impact on the score of its leads (log-odds)", title=title)
    figure.tight_layout()
    return figure


def grade_table(grades: np.ndarray, converted: np.ndarray | None = None) -> pd.DataFrame:
    """Letter x digit: lead count and, with outcomes, the actual conversion rate of each grade.

    ``converted`` holds 1/0 per lead, NaN where the outcome is still open (left out of the rate).
    """
    frame = pd.DataFrame(
        {
            "letter": pd.Categorical(np.asarray(grades, dtype=str).astype("<U1"), categories=list(FIT_LETTERS)),
            "digit": pd.Categorical([g[1] for g in np.asarray(grades, dtype=str)], categories=list(ENGAGEMENT_DIGITS)),
            "converted": np.nan if converted is None else np.asarray(converted, dtype=float),
        }
    )
    grouped = frame.groupby(["letter", "digit"], observed=False)["converted"]
    table = pd.DataFrame({"leads": grouped.size(), "conversion_rate": grouped.mean()}).reset_index()
    table["grade"] = table["letter"].astype(str) + table["digit"].astype(str)
    return table[["grade", "letter", "digit", "leads", "conversion_rate"]]


def feature_groups(spec: FeatureSpec) -> dict[str, str]:
    """Each model feature's group for the points rule: ``fit`` (who the lead is) or ``engagement`` (what it did)."""
    return {feature: "fit" if feature in spec.fit else "engagement" for feature in spec.names}


def rule_vs_model(
    explained: Contributions,
    model_features: pd.DataFrame,
    rule: PointsRule,
    groups: Mapping[str, str],
    converted: np.ndarray | None = None,
    min_effect: float = 0.02,
) -> pd.DataFrame:
    """Each line of the points rule beside what the model learned about the same signal.

    For the leads that earn (or lose) the line's points: how many there are, how they actually convert
    compared with the others, and the model's average impact of the line's feature for them and for the
    others. ``model_view`` says whether the model moves such leads in the direction the rule does ("agrees"),
    the other way ("disagrees"), or hardly at all ("no effect": less than ``min_effect`` log-odds).

    Args:
        groups: each model feature's group, ``fit`` or ``engagement`` (see :func:`feature_groups`).

    Raises:
        ValueError: a line names a feature the model does not have.
    """
    check_features(rule, explained.spec.names)
    points = rule_components(model_features, rule)
    y = None if converted is None else np.asarray(converted, dtype=float)
    rows = []
    for component in components_of(rule, groups):
        earned = points[component.name].to_numpy() != 0
        impact = explained.column(component.feature)
        with_signal = float(impact[earned].mean()) if earned.any() else np.nan
        without = float(impact[~earned].mean()) if (~earned).any() else np.nan
        rule_direction = np.sign(points[component.name].to_numpy()[earned].mean()) if earned.any() else 0.0
        difference = with_signal - without
        rows.append(
            {
                "signal": component.name,
                "group": component.group,
                "rule_points": component.points,
                "leads_with_signal": int(earned.sum()),
                "conversion_with": _rate(y, earned),
                "conversion_without": _rate(y, ~earned),
                "model_impact_with": with_signal,
                "model_impact_without": without,
                "model_view": _model_view(difference, rule_direction, min_effect),
            }
        )
    return pd.DataFrame(rows)


def _rate(converted: np.ndarray | None, mask: np.ndarray) -> float:
    """Conversion among the leads in ``mask`` whose outcome is known (NaN: still open)."""
    if converted is None:
        return np.nan
    known = converted[mask]
    known = known[~np.isnan(known)]
    return float(known.mean()) if len(known) else np.nan


def _model_view(difference: float, rule_direction: float, min_effect: float) -> str:
    if np.isnan(difference) or abs(difference) < min_effect:
        return "no effect"
    return "agrees" if np.sign(difference) == rule_direction else "disagrees"


def emphasis_by_group(
    explained: Contributions, model_features: pd.DataFrame, rule: PointsRule, groups: Mapping[str, str]
) -> pd.DataFrame:
    """Share of the rule's points (absolute) vs share of the model's influence (mean |SHAP|) by group.

    A feature that a negative line looks at counts as ``negative`` on the model's side too, so a warning sign
    is compared with the influence of the same feature.

    Args:
        groups: each model feature's group, ``fit`` or ``engagement`` (see :func:`feature_groups`).
    """
    ungrouped = [feature for feature in explained.spec.names if feature not in groups]
    if ungrouped:
        raise ValueError(f"groups: no group for model feature(s) {ungrouped}; expected fit or engagement for each")
    components = components_of(rule, groups)
    points = rule_components(model_features, rule).abs().sum()
    total_points = max(points.sum(), 1e-12)
    rule_share = {group: sum(points[c.name] for c in components if c.group == group) for group in RULE_GROUPS}
    negative_features = {c.feature for c in components if c.group == "negative"}

    def model_group(feature: str) -> str:
        return "negative" if feature in negative_features else groups[feature]

    influence = np.abs(explained.values).mean(axis=0)
    by_group = pd.Series(influence, index=list(explained.spec.names)).groupby(model_group).sum()
    model_share = (by_group / by_group.sum()).to_dict()
    return pd.DataFrame(
        {
            "group": list(RULE_GROUPS),
            "rule_share_of_points": [rule_share[group] / total_points for group in RULE_GROUPS],
            "model_share_of_influence": [model_share.get(group, 0.0) for group in RULE_GROUPS],
        }
    )

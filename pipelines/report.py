"""The explanation report for marketing: one self-contained HTML file (images embedded, opens offline)."""

from __future__ import annotations

import base64
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.explanations import global_importance
from models.feature_text import feature_name
from models.insights import (
    beeswarm_figure,
    channel_features,
    dependence_figure,
    emphasis_by_group,
    feature_groups,
    grade_table,
    importance_figure,
    rule_vs_model,
    segment_figure,
    segment_table,
)
from models.rule_score import PointsRule
from models.scorer import LeadScorer

TOP_DEPENDENCE_FEATURES = 4


@dataclass(frozen=True)
class ReportContext:
    """What the report is about, shown in its header."""

    model_name: str
    model_label: str  # e.g. "version 3"
    period: str  # e.g. "test quarter(s) 2026Q1"
    # the served model's MQL threshold where the report's model is another (training's report: the model as
    # evaluated, whose threshold was chosen on its own calibration leads; the shipped refit chose its own)
    served_threshold: float | None = None


def png_data_uri(figure: Figure, *, laid_out: bool = False) -> str:
    """The figure as an embeddable PNG, cropped to what it draws (``bbox_inches="tight"``) unless it was laid out
    when it was drawn up (``laid_out``: ``tight_layout``, as the figures of ``models.insights``): cropping lays out
    its text a second time, a third of the figure's cost."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches=None if laid_out else "tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def format_percent(value: Any) -> str:
    return "-" if pd.isna(value) else f"{value:.1%}"


SIGNALS_NAMED = 8  # per group, in the grades' explanation: the model's most influential fit or engagement features


def _signals(importance: pd.DataFrame, group: str) -> str:
    """The group's features by their labels, most influential first: what the grade's letter or digit reads."""
    labels = importance.loc[importance["group"] == group, "label"].tolist()
    more = f" and {len(labels) - SIGNALS_NAMED} more" if len(labels) > SIGNALS_NAMED else ""
    return (", ".join(labels[:SIGNALS_NAMED]) + more) or "none in this export"


def _signed(value: Any) -> str:
    return "-" if pd.isna(value) else f"{value:+.2f}"


def _grade_matrix(grades: pd.DataFrame, column: str, fmt: str) -> dict[str, dict[str, str]]:
    pivot = grades.pivot(index="letter", columns="digit", values=column)
    return {
        str(letter): {str(digit): (fmt.format(value) if pd.notna(value) else "-") for digit, value in row.items()}
        for letter, row in pivot.iterrows()
    }


def build_report(
    scorer: LeadScorer,
    leads: pd.DataFrame,
    converted: np.ndarray | None,
    context: ReportContext,
    points_rule: PointsRule | None,
    sample_size: int = 5_000,
    max_leads: int = 20_000,
    seed: int = 0,
) -> str:
    """The report as an HTML string, on all ``leads`` or a random sample of ``max_leads`` of them.

    ``converted`` (optional: 1/0 per lead, NaN while the outcome is open) adds actual conversion rates.
    ``points_rule`` None (the mapping has none): no points-rule section.
    """
    language = scorer.language
    rng = np.random.default_rng(seed)
    n_total = len(leads)
    if n_total > max_leads:  # SHAP costs ~0.5-1 ms per lead; a random sample keeps the rates honest
        kept = np.sort(rng.choice(n_total, size=max_leads, replace=False))
        leads = leads.iloc[kept]
        converted = None if converted is None else np.asarray(converted)[kept]
    explained = scorer.contributions(leads)
    sample = explained.take(np.sort(rng.choice(len(leads), size=min(sample_size, len(leads)), replace=False)))
    model_features = scorer.pipeline.named_steps["features"].transform(leads)
    grades = scorer.grade_cuts.grade(explained)
    importance = global_importance(explained, language)
    y = None if converted is None else np.asarray(converted, dtype=float)
    if y is not None and np.isnan(y).all():
        y = None

    grade_rows = grade_table(grades, y)
    groups = feature_groups(explained.spec)
    segments = {feature: segment_table(explained, feature, y) for feature in channel_features(explained.spec).values()}
    top_features = importance["feature"].head(TOP_DEPENDENCE_FEATURES).tolist()
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(_TEMPLATE)
    return template.render(
        base_style=BASE_STYLE,
        context=context,
        n_leads=n_total,
        n_analysed=len(leads),
        conversion_rate=format_percent(float(np.nanmean(y))) if y is not None else None,
        outcomes_partial=y is not None and bool(np.isnan(y).any()),
        threshold=scorer.threshold,
        importance_png=png_data_uri(importance_figure(importance), laid_out=True),
        importance=[
            {"label": row.label, "group": row.group, "influence": f"{row.mean_abs_impact:.3f}"}
            for row in importance.head(15).itertuples()
        ],
        beeswarm_png=png_data_uri(beeswarm_figure(sample, language), laid_out=True),
        dependence=[
            {
                "name": feature_name(feature, language, explained.spec.texts),
                "png": png_data_uri(dependence_figure(sample, feature, language), laid_out=True),
                "categorical": feature in sample.spec.categorical,
            }
            for feature in top_features
        ],
        segments=[
            {
                "name": feature_name(feature, language, explained.spec.texts),
                "png": png_data_uri(
                    segment_figure(
                        table, f"{feature_name(feature, language, explained.spec.texts)}: average impact of its leads"
                    ),
                    laid_out=True,
                ),
                "rows": [
                    {
                        "segment": row.segment,
                        "leads": f"{row.leads:,}",
                        "conversion": format_percent(row.conversion_rate),
                        "total": _signed(row.avg_total_impact),
                        "own": _signed(row.avg_own_impact),
                    }
                    for row in table.head(20).itertuples()
                ],
            }
            for feature, table in segments.items()
        ],
        has_outcomes=y is not None,
        grade_counts=_grade_matrix(grade_rows, "leads", "{:,.0f}"),
        grade_conversion=_grade_matrix(grade_rows, "conversion_rate", "{:.1%}"),
        sla=scorer.sla,
        fit_signals=_signals(importance, "fit"),
        engagement_signals=_signals(importance, "engagement"),
        emphasis=[
            {
                "group": row.group,
                "rule": format_percent(row.rule_share_of_points),
                "model": format_percent(row.model_share_of_influence),
            }
            for row in emphasis_by_group(explained, model_features, points_rule, groups).itertuples()
        ]
        if points_rule
        else [],
        rules=[
            {
                "signal": row.signal,
                "points": row.rule_points,
                "leads": f"{row.leads_with_signal:,}",
                "conversion_with": format_percent(row.conversion_with),
                "conversion_without": format_percent(row.conversion_without),
                "impact_with": _signed(row.model_impact_with),
                "impact_without": _signed(row.model_impact_without),
                "view": row.model_view,
            }
            for row in rule_vs_model(explained, model_features, points_rule, groups, y).itertuples()
        ]
        if points_rule
        else [],
    )


def write_report(html: str, path: Path) -> Path:
    """Write atomically: a reader never sees a half-written report, a failure leaves no file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(html)
        os.chmod(scratch, 0o644)  # mkstemp creates 0600; a report is meant to be shared
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return path


# The look shared by leadq's HTML reports (plain CSS: the files open offline, in any mail client's browser).
BASE_STYLE = """\
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1000px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; }
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>leadq: what drives conversion ({{ context.model_name }}, {{ context.model_label }})</title>
<style>
{{ base_style | safe }}.note { background: #f7f9fc; border-left: 4px solid #1f77b4; padding: .6em 1em; }
img { max-width: 100%; }
</style>
</head>
<body>
<h1>What drives lead conversion</h1>
<p>Model <b>{{ context.model_name }}</b>, {{ context.model_label }}; {{ "{:,}".format(n_leads) }} leads
from the {{ context.period }}{% if conversion_rate %}; {{ conversion_rate }} of the leads
{% if outcomes_partial %}whose outcome is final {% endif %}converted{% endif %}.
{% if n_analysed < n_leads %}The views below analyse a random sample of {{ "{:,}".format(n_analysed) }} of them.
{% endif %}A lead is an MQL when its conversion probability is at least
{{ "%.1f%%" | format(threshold.threshold * 100) }} ({{ threshold.rationale }}).
{% if context.served_threshold is not none and (context.served_threshold - threshold.threshold) | abs >= 0.0005 %}The
served model, refit on all labelled leads, chose its own threshold the same way:
{{ "%.1f%%" | format(context.served_threshold * 100) }}; the service and <code>leadq score</code> use that
one.{% endif %}</p>

<div class="note">
<p><b>How to read the numbers.</b> Every lead starts from the same average score. Each piece of information
about the lead then pushes its score up or down; that push is its <i>impact</i>. Impacts are measured in
log-odds of the model before calibration: <b>+0.7 roughly doubles</b> a lead's odds of converting,
<b>-0.7 roughly halves</b> them, and impacts near 0 hardly matter. They show what the model has learned from
past leads, which is association, not proof of cause: a campaign may look good because it reaches good
companies, not because of its content.</p>
</div>

<h2>1. What moves the score most</h2>
<p>The average size of each signal's push, over all leads. Blue signals describe who the lead is (fit), orange
ones what the lead did (engagement).</p>
<img src="{{ importance_png }}" alt="Average influence of each signal">
<table>
<tr><th>signal</th><th>kind</th><th>average influence</th></tr>
{% for row in importance %}<tr><td>{{ row.label }}</td><td>{{ row.group }}</td><td>{{ row.influence }}</td></tr>
{% endfor %}</table>

<h2>2. How each signal pushes individual leads</h2>
<p>One dot per lead (a sample of them). Dots to the right raised that lead's score, dots to the left lowered it.
Red dots are leads with a high value of the signal (for example many website visits, or "yes" for a demo
request), blue dots a low value; grey dots are categories such as industry, which have no high or low.</p>
<img src="{{ beeswarm_png }}" alt="Impact of each signal on individual leads">

<h2>3. How the strongest signals work</h2>
<p>For the strongest signals: how the value of the signal translates into a push on the score.</p>
{% for item in dependence %}<h3>{{ item.name }}</h3>
<img src="{{ item.png }}" alt="{{ item.name }}">
{% endfor %}

<h2>4. Lead sources and campaigns</h2>
<p><i>Total push</i> is how much the model raises (positive) or lowers (negative) the score of a source's or
campaign's leads on average, for all reasons together: it tells you whether a channel brings leads that look
like buyers. <i>Own push</i> is the part the model attributes to the channel itself, beyond company fit and
engagement. Channels with fewer than 30 leads are left out.</p>
{% for segment in segments %}<h3>{{ segment.name }}</h3>
<img src="{{ segment.png }}" alt="{{ segment.name }}">
<table>
<tr><th>{{ segment.name }}</th><th>leads</th>{% if has_outcomes %}<th>actual conversion</th>{% endif %}
<th>total push</th><th>own push</th></tr>
{% for row in segment.rows %}<tr><td>{{ row.segment }}</td><td>{{ row.leads }}</td>
{% if has_outcomes %}<td>{{ row.conversion }}</td>{% endif %}<td>{{ row.total }}</td><td>{{ row.own }}</td></tr>
{% endfor %}</table>
{% endfor %}

<h2>5. Grades: fit letter and engagement digit</h2>
<p>The letter (A best to D) says how well the lead fits the customers who buy, from the model's view of who
it is ({{ fit_signals }}). The digit (1 most to 4 least) says how strongly it engaged ({{ engagement_signals }}).
The cut points are the quarters of the training leads, so about a quarter of those leads got each letter and each
digit.</p>
<table>
<tr><th>leads</th>{% for digit in ["1", "2", "3", "4"] %}<th>{{ digit }}</th>{% endfor %}</tr>
{% for letter, row in grade_counts.items() %}<tr><td>{{ letter }}</td>
{% for digit in ["1", "2", "3", "4"] %}<td>{{ row[digit] }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% if has_outcomes %}<table>
<tr><th>actual conversion</th>{% for digit in ["1", "2", "3", "4"] %}<th>{{ digit }}</th>{% endfor %}</tr>
{% for letter, row in grade_conversion.items() %}<tr><td>{{ letter }}</td>
{% for digit in ["1", "2", "3", "4"] %}<td>{{ row[digit] }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
<p>What sales does with each grade (the agreed SLA; the first matching line applies):</p>
<table>
<tr><th>rule</th><th>applies to</th><th>priority</th><th>respond within</th></tr>
{% for rule in sla.rules %}<tr><td>{{ rule.name }}</td>
<td>{% if rule.grades %}grades {{ rule.grades | join(", ") }}{% endif %}
{% if rule.demo_requested is not none %}{{ "demo requested" if rule.demo_requested else "no demo request" }}{% endif %}
{% if rule.is_mql is not none %}{{ "MQLs" if rule.is_mql else "non-MQLs" }}{% endif %}</td>
<td>{{ rule.priority }}</td><td>{{ "%g hours" | format(rule.response_hours) if rule.response_hours else "-" }}</td></tr>
{% endfor %}<tr><td>{{ sla.default.name }}</td><td>everyone else</td><td>{{ sla.default.priority }}</td>
<td>{{ "%g hours" | format(sla.default.response_hours) if sla.default.response_hours else "-" }}</td></tr>
</table>

{% if rules %}<h2>6. The points rule next to the model</h2>
<p>Before leadq, leads were scored with a points rule: points for fit, points for engagement, points taken away
for warning signs. Here is where each puts its weight:</p>
<table>
<tr><th>kind of signal</th><th>share of the rule's points</th><th>share of the model's influence</th></tr>
{% for row in emphasis %}<tr><td>{{ row.group }}</td><td>{{ row.rule }}</td><td>{{ row.model }}</td></tr>
{% endfor %}</table>
<p>And line by line: for the leads that earn (or lose) each rule's points, how they actually convert and how the
model pushes them compared with the other leads. "agrees": the model moves those leads in the same direction as
the rule; "disagrees": the other way; "no effect": the model hardly reacts to the signal, so the rule's points
for it are not supported by past conversions (or the signal is too rare to learn from).</p>
<table>
<tr><th>rule line</th><th>points</th><th>leads with it</th>
{% if has_outcomes %}<th>conversion with</th><th>conversion without</th>{% endif %}
<th>model push with</th><th>model push without</th><th>model's view</th></tr>
{% for row in rules %}<tr><td>{{ row.signal }}</td><td>{{ row.points }}</td><td>{{ row.leads }}</td>
{% if has_outcomes %}<td>{{ row.conversion_with }}</td><td>{{ row.conversion_without }}</td>{% endif %}
<td>{{ row.impact_with }}</td><td>{{ row.impact_without }}</td><td>{{ row.view }}</td></tr>
{% endfor %}</table>{% endif %}

<p style="color:#777; margin-top:3em">Generated by leadq. Impacts are SHAP values of the LightGBM model on the
log-odds scale before calibration; the probability shown to sales is calibrated and keeps the same order.</p>
</body>
</html>
"""

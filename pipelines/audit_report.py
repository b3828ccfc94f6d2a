"""The quarterly audit as one self-contained HTML page (images embedded, opens offline), verdict first."""

from __future__ import annotations

from typing import Any

import jinja2
from matplotlib.figure import Figure

from models.feature_text import feature_name
from pipelines.report import BASE_STYLE, format_percent, png_data_uri

TOP_DRIFT_ROWS = 12
_VERDICT_TEXT = {
    "keep": "Keep the model: it still does its job.",
    "recalibrate": "Recalibrate: the ranking holds, but the probabilities no longer match reality.",
    "retrain": "Retrain: the model no longer fits the leads it sees.",
}


def _label(feature: str) -> str:
    if feature == "score":
        return "The score itself"
    return feature_name(feature, "en")


def _drift_label(row: dict[str, Any]) -> str:
    """A drift row's feature in words: as the audit named it from the model (the export's column names)."""
    return _label(row["feature"]) if row["feature"] == "score" or not row.get("label") else str(row["label"])


def _calibration_png(deciles: list[dict[str, Any]]) -> str:
    figure = Figure(figsize=(6.5, 3.6))
    axes = figure.subplots()
    x = [row["decile"] for row in deciles]
    axes.bar(x, [row["conversion_rate"] for row in deciles], color="#1f77b4", alpha=0.75, label="actual conversion")
    axes.plot(x, [row["mean_predicted"] for row in deciles], "o-", color="#d62728", label="the score said")
    axes.set_xlabel("score decile (1 = lowest scores)")
    axes.set_ylabel("conversion")
    axes.set_xticks(x)
    axes.legend(frameon=False)
    return png_data_uri(figure)


def _drift_png(drift: list[dict[str, Any]], watch: float, alarm: float) -> str:
    rows = drift[:TOP_DRIFT_ROWS][::-1]
    figure = Figure(figsize=(6.5, 0.3 * len(rows) + 1.0))
    axes = figure.subplots()
    colours = ["#d62728" if r["psi"] > alarm else "#ff7f0e" if r["psi"] > watch else "#2ca02c" for r in rows]
    axes.barh([_drift_label(r) for r in rows], [r["psi"] for r in rows], color=colours)
    for line in (watch, alarm):
        axes.axvline(line, color="#555", linestyle=":", linewidth=1)
    axes.set_xlabel("population stability index (vs. training leads)")
    return png_data_uri(figure)


def _mql_rate_png(periods: list[dict[str, Any]]) -> str:
    figure = Figure(figsize=(6.5, 3.0))
    axes = figure.subplots()
    axes.plot([row["period_start"][:10] for row in periods], [row["mql_rate"] for row in periods], "o-")
    axes.set_ylabel("share of leads that are MQLs")
    axes.tick_params(axis="x", rotation=60, labelsize=7)
    return png_data_uri(figure)


def _number(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def build_audit_report(figures: dict[str, Any]) -> str:
    """The HTML page of an audit from its figures (``pipelines.audit.audit_figures``)."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters.update(percent=format_percent, number=_number, drift_label=_drift_label)
    template = environment.from_string(_TEMPLATE)
    drift = figures["drift"]
    return template.render(
        base_style=BASE_STYLE,
        f=figures,
        headline=_VERDICT_TEXT[figures["verdict"]["action"]],
        calibration_png=_calibration_png(figures["calibration_by_decile"])
        if figures["calibration_by_decile"]
        else None,
        drift_png=_drift_png(drift, figures["policy"]["psi_watch"], figures["policy"]["psi_drift"]) if drift else None,
        mql_rate_png=_mql_rate_png(figures["mql_rate_over_time"]) if figures["mql_rate_over_time"] else None,
        top_drift=drift[:TOP_DRIFT_ROWS],
        unsupported={part["part"]: part for part in figures["not_supported"]},
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>leadq audit {{ f.quarter }}: {{ f.verdict.action }}</title>
<style>
{{ base_style | safe }}.verdict { border-left: 6px solid #1f77b4; background: #f7f9fc; padding: .8em 1.2em; }
.keep { border-color: #2ca02c; } .recalibrate { border-color: #ff7f0e; } .retrain { border-color: #d62728; }
.low, .drift, .breach { color: #d62728; font-weight: bold; } .good { color: #2ca02c; font-weight: bold; }
.watch { color: #ff7f0e; } .dim { color: #777; }
img { max-width: 100%; }
</style>
</head>
<body>
<h1>Lead scoring audit {{ f.quarter }}</h1>
<div class="verdict {{ f.verdict.action }}">
<p><b>Verdict: {{ headline }}</b></p>
<ul>{% for reason in f.verdict.reasons %}<li>{{ reason }}</li>{% endfor %}</ul>
</div>
<p>Model <b>{{ f.model.name }}</b> version {{ f.model.version }}
{% if f.model.versions_in_log | length > 1 %}(versions in the log: {% for v, n in f.model.versions_in_log.items() %}
{{ v }}: {{ "{:,}".format(n) }} scores{% if not loop.last %}, {% endif %}{% endfor %}){% endif %};
MQL threshold {{ f.model.threshold | percent }}. {{ "{:,}".format(f.leads.scored) }} leads of {{ f.quarter }} were
scored;
{% if f.has_dates %}by {{ f.as_of[:10] }} {{ "{:,}".format(f.leads.won) }} were won, {{ "{:,}".format(f.leads.lost) }}
lost and {{ "{:,}".format(f.leads.open) }} are still <b>open</b>. Open leads are never counted as lost: they are left
out of the conversion figures until their outcome is known (a deal won within {{ f.model.horizon_days }} days of the
lead counts as a conversion; all of the quarter's leads are resolved after {{ f.mature_after[:10] }}).</p>
{% else %}the export says {{ "{:,}".format(f.leads.won) }} were won, {{ "{:,}".format(f.leads.lost) }} lost and
{{ "{:,}".format(f.leads.open) }} are <b>open</b> ({{ "{:,}".format(f.leads.not_in_export) }} of them not in the
export). The export has no dates: a lead belongs to {{ f.quarter }} by the scoring log's clock (the creation time the
CRM sent with the score, else the time of scoring), and its outcome is taken as exported, read on
{{ f.as_of[:10] }}. Open leads are never counted as lost: they are left out of the conversion figures.</p>
{% endif %}
{% if f.not_supported %}<h3>Not supported by this export</h3>
<ul>{% for part in f.not_supported %}<li><b>{{ part.what }}</b>: {{ part.why }}.</li>{% endfor %}</ul>{% endif %}
{% macro not_supported(part) %}<p class="dim">Not supported by this export: {{ unsupported[part].why }}.</p>
{% endmacro %}

<h2>1. Does the score still rank and predict?</h2>
<table>
<tr><th>measure</th><th>this quarter</th><th>what it means</th></tr>
<tr><td>AUC</td><td>{{ f.discrimination.roc_auc | number }}</td><td style="text-align:left">chance that a
converting lead scored higher than a non-converting one (0.5 = coin flip); at training:
{{ f.model.reference_auc | number }}</td></tr>
<tr><td>Brier score</td><td>{{ f.discrimination.brier | number(4) }}</td><td style="text-align:left">mean squared
error of the probabilities (lower is better)</td></tr>
<tr><td>ECE</td><td>{{ f.discrimination.ece | number(4) }}</td><td style="text-align:left">average gap between the
predicted and the actual conversion rate</td></tr>
<tr><td>conversion: predicted / actual</td><td>{{ f.discrimination.mean_predicted | percent }} /
{{ f.discrimination.base_rate | percent }}</td><td style="text-align:left">on the {{ "{:,}".format(f.leads.won +
f.leads.lost) }} resolved leads</td></tr>
</table>
<p>Score deciles: does "the score says 30%" mean that 30% convert?</p>
{% if calibration_png %}<img src="{{ calibration_png }}" alt="Predicted and actual conversion by score decile">
{% endif %}
<table><tr><th>decile</th><th>leads</th><th>won</th><th>score said</th><th>actual</th><th>probabilities</th></tr>
{% for r in f.calibration_by_decile %}<tr><td>{{ r.decile }}</td><td>{{ r.leads }}</td><td>{{ r.won }}</td>
<td>{{ r.mean_predicted | percent }}</td><td>{{ r.conversion_rate | percent }}</td>
<td>{{ r.min_probability | percent }} - {{ r.max_probability | percent }}</td></tr>{% endfor %}</table>

<h2>2. The funnel at the MQL threshold</h2>
<p>SAL rate: accepted by sales among the MQLs sales reviewed (flag below {{ f.policy.sal_low | percent }}).
MQL to SQL: share of MQLs that sales qualified (low below {{ f.policy.sql_low | percent }}, good above
{{ f.policy.sql_good | percent }}). MQL to won: among MQLs whose outcome is known. Recycled: MQLs sent back to
nurture (need, but not now). Groups with few MQLs are listed but not flagged.</p>
{% macro funnel(rows, title) %}<table><tr><th>{{ title }}</th><th>leads</th><th>MQLs</th><th>MQL rate</th>
<th>SAL rate</th><th>MQL to SQL</th><th>MQL to won</th><th>recycled</th></tr>
{% for r in rows %}<tr><td>{{ r.segment }}</td><td>{{ "{:,}".format(r.leads) }}</td><td>{{ "{:,}".format(r.mqls) }}</td>
<td>{{ r.mql_rate | percent }}</td><td class="{{ r.sal_flag }}">{{ r.sal_rate | percent }}
{% if r.sal_flag not in ("ok", "too few", "n/a") %}({{ r.sal_flag }}){% endif %}</td>
<td class="{{ r.sql_flag }}">{{ r.mql_to_sql | percent }}{% if r.sql_flag not in ("ok", "too few", "n/a") %}
({{ r.sql_flag }}){% endif %}</td><td>{{ r.mql_to_won | percent }}</td>
<td>{{ "-" if r.recycled is none else r.recycled }}</td></tr>
{% endfor %}</table>{% endmacro %}
{{ funnel(f.funnel_overall, "all leads") }}
{% if "stages" in unsupported %}{{ not_supported("stages") }}{% endif %}
<h3>By lead source</h3>{{ funnel(f.funnel_by_source, "lead source") }}
<h3>By campaign</h3>{{ funnel(f.funnel_by_campaign, "campaign") }}

<h2>3. What sales rejected, and why</h2>
{% if "stages" in unsupported %}{{ not_supported("stages") }}{% else %}
{% macro rejections(rows, title) %}<table><tr><th>{{ title }}</th><th>reason</th><th>rejections</th><th>share</th></tr>
{% for r in rows %}<tr><td>{{ r.segment }}</td><td>{{ r.reason }}</td><td>{{ r.rejections }}</td>
<td>{{ r.share | percent }}</td></tr>{% endfor %}</table>{% endmacro %}
<h3>By lead source</h3>{{ rejections(f.rejections_by_source, "lead source") }}
<h3>By campaign</h3>{{ rejections(f.rejections_by_campaign, "campaign") }}{% endif %}

<h2>4. Response times against the SLA</h2>
<p>Time from the lead coming in to the first sales contact, against the response time promised with its grade.
Pending: not contacted yet, deadline still ahead (not judged).</p>
{% macro sla(rows, title) %}<table><tr><th>{{ title }}</th><th>leads</th><th>within SLA</th><th>breached</th>
<th>pending</th><th>share within</th><th>median hours to contact</th></tr>
{% for r in rows %}<tr><td>{{ r.segment }}</td><td>{{ r.leads }}</td><td>{{ r.within }}</td><td>{{ r.breached }}</td>
<td>{{ r.pending }}</td><td>{{ r.share_within_sla | percent }}</td><td>{{ r.median_hours_to_contact | number(1) }}</td>
</tr>{% endfor %}</table>{% endmacro %}
{% if "sla" in unsupported %}{{ not_supported("sla") }}{% else %}{{ sla(f.sla_overall, "all") }}
<h3>By grade</h3>{{ sla(f.sla_by_grade, "grade") }}
<h3>By sales team</h3>{{ sla(f.sla_by_team, "sales team") }}{% endif %}

<h2>5. Drift: do this quarter's leads look like the training leads?</h2>
<p>Population stability index (PSI) of each signal and of the score against the leads the model was trained on:
below {{ f.policy.psi_watch }} stable, up to {{ f.policy.psi_drift }} watch, above it drift (the model sees leads
unlike those it learned from).</p>
{% if drift_png %}<img src="{{ drift_png }}" alt="Population stability index per signal">
<table><tr><th>signal</th><th>PSI</th><th>status</th></tr>
{% for r in top_drift %}<tr><td>{{ r | drift_label }}</td><td>{{ r.psi | number }}</td>
<td class="{{ r.flag }}">{{ r.flag }}</td></tr>{% endfor %}</table>
{% else %}<p class="dim">No drift check: the model has no stored training profile.</p>{% endif %}
{% if f.time_bound_features %}<p>Signals with new values every quarter by nature (not counted as drift):
{% for r in f.time_bound_features %}{{ r | drift_label }} (PSI {{ r.psi | number(2) }}){% if not loop.last %},
{% endif %}{% endfor %}. The model scores values it never saw as "unknown".</p>{% endif %}
<h3>MQL rate over the quarter</h3>
{% if mql_rate_png %}<img src="{{ mql_rate_png }}" alt="MQL rate per week">{% endif %}

<h2>6. Funnel math: what the target needs</h2>
{% set m = f.funnel_math %}
<p>For <b>{{ m.target_customers_per_month | number(0) }} new customers a month</b>
{% if "stages" in unsupported %}at this quarter's MQL to won rate ({{ m.mql_to_won | percent }}; the SQL step is
unknown without sales stages), marketing needs about{% else %}at this quarter's rates (MQL to SQL
{{ m.mql_to_sql | percent }}, SQL to won {{ m.sql_to_won | percent }}), sales needs about
<b>{{ m.sqls_needed_per_month | number(0) }} SQLs</b> and marketing about{% endif %}
<b>{{ m.mqls_needed_per_month | number(0) }} MQLs a month</b> (today: {{ m.mqls_per_month | number(0) }}).
The threshold that would have given that many MQLs this quarter: {{ m.threshold_probability | percent }}
(today {{ f.model.threshold | percent }}).
{{ m.note }}</p>

<p class="dim" style="margin-top:3em">Generated by leadq from the scoring log and the CRM export
{% if f.has_dates %}as of{% else %}(no dates; read on){% endif %} {{ f.as_of[:10] }}. The figures are also in the
audit's JSON file and on its MLflow run.</p>
</body>
</html>
"""

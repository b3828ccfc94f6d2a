"""``leadq retrain`` and ``leadq rollback``: champion/challenger, so only a better model replaces the served one.

retrain: train a challenger on the whole export (the usual training run, logged and registered), score the
challenger's out-of-time test quarter with the champion *as it is served* (its registered scorer: features,
calibration, threshold), and promote the challenger only if its AUC is higher by ``retrain.min_auc_gain`` and
its calibration error is not worse by more than ``retrain.max_ece_increase``. Promotion moves the champion
alias to the challenger and the ``previous`` alias to the old champion; otherwise the new version gets the
``challenger`` alias. A challenger that fails the publish gate (``pipelines.publish_gate``) is never promoted,
however it compares. The comparison and the decision go to the challenger's run and to both versions' tags; a
challenger that reads other input fields than the champion cannot be scored on the champion's leads: the decision
records why, with each model's figures on its own test leads, and promotion is left to a person.

rollback: the champion alias goes back to ``previous``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from models.evaluation import evaluate_decision, evaluate_probabilities
from models.labels import UNDATED_SPLITS
from models.pipeline import input_fields
from models.scorer import LeadScorer
from pipelines.crm_export.prepare import read_export_files
from pipelines.explain import load_registered_scorer
from pipelines.publish_gate import GateDecision
from pipelines.settings import RetrainSettings, Settings
from pipelines.tracking import RegisteredModel, configure_mlflow
from pipelines.training import (
    StepReporter,
    TrainingOutcome,
    explanation_report,
    log_outcome,
    set_months,
    silent_steps,
    stale_champion_warning,
    train_scorer,
)

COMPARED_METRICS = ("roc_auc", "pr_auc", "lift_top10", "ece", "brier", "log_loss", "mql_precision", "mql_recall")
COMPARISON_ARTIFACT = "retrain/comparison.json"
Comparison = dict[str, dict[str, float]]  # metric -> champion, challenger, difference
# a run's figures on its own held-out leads, under the run's metric names (the AUC with its interval)
OWN_TEST_METRICS = (
    "test_roc_auc",
    "test_roc_auc_ci_low",
    "test_roc_auc_ci_high",
    "test_pr_auc",
    "test_ece",
    "test_brier",
    "test_lift_top10",
    "test_mql_precision",
    "test_mql_recall",
    "n_test",
    "test_conversions",
)


@dataclass(frozen=True)
class Decision:
    promote: bool
    reasons: list[str]


@dataclass(frozen=True)
class RetrainResult:
    decision: Decision
    comparison: Comparison
    challenger_version: str
    champion_version: str | None  # the champion before the decision (None: there was none)
    served_version: str | None  # the champion after the decision (None: none passed the publish gate yet)
    run_id: str
    quarters: list[str]
    # without a comparison on the same leads: each model's figures on its own test leads (role -> metric -> value)
    own_figures: dict[str, dict[str, float]] = field(default_factory=dict)


def evaluate_on(scorer: LeadScorer, X: pd.DataFrame, y: np.ndarray, months: float) -> dict[str, float]:
    """A scorer's metrics on labelled leads: ranking, calibration and its own MQL decision."""
    probabilities = scorer.predict_proba(X)
    return evaluate_scores(y, probabilities, probabilities >= scorer.threshold.threshold, months)


def evaluate_scores(y: np.ndarray, probabilities: np.ndarray, is_mql: np.ndarray, months: float) -> dict[str, float]:
    """Ranking, calibration and the MQL decision of scores already given to labelled leads."""
    decision = evaluate_decision(y, is_mql, months)
    return {
        **evaluate_probabilities(y, probabilities),
        "mql_precision": decision["precision"],
        "mql_recall": decision["recall"],
        "mql_per_month": decision["mql_per_month"],
    }


def compare(champion: dict[str, float], challenger: dict[str, float]) -> Comparison:
    """The comparison table: each metric for both models and the challenger's difference."""
    return {
        m: {"champion": champion[m], "challenger": challenger[m], "difference": challenger[m] - champion[m]}
        for m in COMPARED_METRICS
    }


def decide(comparison: Comparison, policy: RetrainSettings) -> Decision:
    """Promote only a challenger that ranks better by the margin and is calibrated no worse (within tolerance)."""
    auc, ece = comparison["roc_auc"], comparison["ece"]
    auc_gain, ece_increase = auc["difference"], ece["difference"]
    ranks_better = auc_gain >= policy.min_auc_gain
    calibrated = ece_increase <= policy.max_ece_increase
    reasons = [
        f"AUC {auc['challenger']:.4f} vs {auc['champion']:.4f} "
        f"({auc_gain:+.4f}; needed at least {policy.min_auc_gain:+.4f})",
        f"calibration error (ECE) {ece['challenger']:.4f} vs {ece['champion']:.4f} "
        f"({ece_increase:+.4f}; allowed at most {policy.max_ece_increase:+.4f})",
    ]
    if ranks_better and calibrated:
        return Decision(True, ["the challenger is better: " + "; ".join(reasons)])
    why = []
    if not ranks_better:
        why.append("does not rank leads better by the required margin")
    if not calibrated:
        why.append("is calibrated worse")
    return Decision(False, [f"the champion stays: the challenger {' and '.join(why)}", *reasons])


def judge_with_gate(decision: Decision, gate: GateDecision | None) -> Decision:
    """The decision with the challenger's publish gate: one that fails it is never promoted, and the failed
    checks are said whatever the comparison decided."""
    if gate is None or gate.passed:
        return decision
    if decision.promote:  # better than the champion is not enough
        return Decision(False, ["the champion stays: the challenger fails the publish gate", *_gate_reasons(gate)])
    failed = "the challenger also fails the publish gate: " + "; ".join(gate.reasons)
    return Decision(False, [*decision.reasons, failed, *(f"what would help: {advice}" for advice in gate.advice)])


def own_test_figures(run_metrics: Mapping[str, float]) -> dict[str, float]:
    """A run's figures on its own held-out leads, as the run logged them."""
    return {metric: run_metrics[metric] for metric in OWN_TEST_METRICS if metric in run_metrics}


def kept_without_comparison(why: list[str], stale: str, challenger_version: str, gate: GateDecision | None) -> Decision:
    """The champion stays when the two models share no test leads, and how to serve the challenger: by hand, after
    a review (retrain promotes only a challenger that beats the champion on the same leads).

    ``stale``: the warning that the champion reads columns the challenger's mapping marks after_contact (it says
    what to do itself), or empty; nothing is advised for a challenger that fails its publish gate."""
    by_hand = (
        "review both models' figures, each on its own test leads; to serve the challenger, move the champion alias "
        f"to version {challenger_version} in the MLflow UI, or train again with --force, then restart the scoring "
        "service (a reload refuses a version that reads other input fields)"
    )
    advice = stale or (by_hand if gate is None or gate.passed else "")
    return Decision(False, ["the champion stays: " + " ".join(why), *([advice] if advice else [])])


def _quarter_overlap(champion: LeadScorer, quarters: list[str]) -> list[str]:
    return sorted(set(quarters) & champion.fitted_quarters())


def _version_tags(decision: Decision, comparison: Comparison | None, other: str | None, role: str) -> dict[str, str]:
    tags = {
        f"retrain_{role}_decision": "promoted" if decision.promote else "kept champion",
        f"retrain_{role}_reasons": " | ".join(decision.reasons)[:5000],
    }
    if other:
        tags[f"retrain_{role}_compared_with"] = other
    if comparison:  # without one, each model's figures are of other leads: they are in the artifact only
        for metric in ("roc_auc", "ece"):
            tags[f"retrain_{role}_{metric}"] = f"{comparison[metric][role]:.4f}"
    return tags


def _record(
    client: mlflow.MlflowClient,
    settings: Settings,
    run_id: str,
    challenger_version: str,
    champion_version: str,
    decision: Decision,
    comparison: Comparison | None,
    warnings: list[str],
    own_figures: dict[str, dict[str, float]],
) -> None:
    """The decision on the challenger's run and both versions; ``comparison`` None: the models share no test
    leads (the decision says why), each model's ``own_figures`` are recorded instead."""
    name = settings.mlflow.registered_model
    for metric, row in (comparison or {}).items():
        client.log_metric(run_id, f"champion_test_{metric}", row["champion"])
        client.log_metric(run_id, f"challenger_minus_champion_{metric}", row["difference"])
    mlflow.log_dict(
        {
            "champion_version": champion_version,
            "challenger_version": challenger_version,
            "promoted": decision.promote,
            "reasons": decision.reasons,
            "warnings": warnings,
            "compared_on_the_same_leads": comparison is not None,
            "comparison": comparison,
            **({"own_test_figures": own_figures} if own_figures else {}),
        },
        COMPARISON_ARTIFACT,
        run_id=run_id,
    )
    client.set_tag(run_id, "retrain_decision", "promoted" if decision.promote else "kept champion")
    client.set_tag(run_id, "retrain_champion_version", champion_version)
    if warnings:
        client.set_tag(run_id, "retrain_warnings", " | ".join(warnings))
    for key, value in _version_tags(decision, comparison, champion_version, "challenger").items():
        client.set_model_version_tag(name, challenger_version, key, value)
    for key, value in _version_tags(decision, comparison, challenger_version, "champion").items():
        client.set_model_version_tag(name, champion_version, key, value)


def _move_aliases(
    client: mlflow.MlflowClient, settings: Settings, challenger: str, champion: str, promote: bool
) -> str:
    name, aliases = settings.mlflow.registered_model, settings.retrain
    if promote:
        client.set_registered_model_alias(name, aliases.previous_alias, champion)
        client.set_registered_model_alias(name, settings.mlflow.champion_alias, challenger)
        return challenger
    client.set_registered_model_alias(name, aliases.challenger_alias, challenger)
    return champion


def run_retrain(settings: Settings, report: StepReporter = silent_steps) -> RetrainResult:
    """Train a challenger on the configured export, compare it with the champion and promote it or not."""
    with report("load the champion from the registry"):
        try:
            champion, champion_version, champion_run = load_registered_scorer(settings)
            champion_recorded = mlflow.MlflowClient().get_run(champion_run).data.metrics
        except LookupError:
            champion, champion_version, champion_recorded = None, None, {}
    outcome, log_challenger = _train_challenger(settings, report)
    with report("score the test quarter(s) with the champion as served"):
        comparison, warnings = _comparison(outcome, champion, champion_recorded)
    with report("log the challenger's run and register it"):
        registered = log_challenger()
    client = mlflow.MlflowClient()
    gate = registered.gate
    if champion_version is None:
        if registered.aliases:
            decision = Decision(True, ["there was no champion: the first model that passes the publish gate is served"])
        else:
            decision = Decision(
                False, ["there is no champion, and this model fails the publish gate", *_gate_reasons(gate)]
            )
        served = registered.champion_version
        return RetrainResult(decision, {}, registered.version, None, served, registered.run_id, [])
    own_figures: dict[str, dict[str, float]] = {}
    if comparison is None:  # the models read different input fields: no test leads in common
        name = settings.mlflow.registered_model
        stale = stale_champion_warning(
            registered.tracking_uri, name, champion_version, registered.version, outcome.mapping_yaml
        )
        decision = kept_without_comparison(warnings, stale, registered.version, gate)
        warnings = []  # why the two are not compared is the decision's own first reason
        own_figures = {"champion": own_test_figures(champion_recorded), "challenger": own_test_figures(outcome.metrics)}
    else:
        decision = decide(comparison, settings.retrain)
    decision = judge_with_gate(decision, gate)
    with report("record the decision and move the aliases"):
        _record(
            client,
            settings,
            registered.run_id,
            registered.version,
            champion_version,
            decision,
            comparison,
            warnings,
            own_figures,
        )
        served = _move_aliases(client, settings, registered.version, champion_version, decision.promote)
    return RetrainResult(
        decision=Decision(decision.promote, [*decision.reasons, *warnings]),
        comparison=comparison or {},
        challenger_version=registered.version,
        champion_version=champion_version,
        served_version=served,
        run_id=registered.run_id,
        quarters=outcome.split.test_quarters if comparison is not None else [],
        own_figures=own_figures,
    )


def _gate_reasons(gate: GateDecision | None) -> list[str]:
    return [*gate.reasons, *(f"what would help: {advice}" for advice in gate.advice)] if gate else []


def _train_challenger(
    settings: Settings, report: StepReporter
) -> tuple[TrainingOutcome, Callable[[], RegisteredModel]]:
    """The challenger trained on the configured export through its mapping, and how to log and register it once
    it has been compared."""
    with report("read the export, its mapping and the tables it names"):
        loaded = read_export_files(settings.data.export, settings.data.mapping)
    outcome = train_scorer(loaded, settings, report)
    with report("write the explanation report"):
        html = explanation_report(outcome, settings)
    return outcome, lambda: log_outcome(outcome, settings, html)


def recorded_test_metrics(run_metrics: Mapping[str, float]) -> dict[str, float] | None:
    """A run's held-out metrics under the comparison's names (None: the run recorded no test AUC)."""
    if "test_roc_auc" not in run_metrics:
        return None
    named = {metric: run_metrics.get(f"test_{metric}", float("nan")) for metric in COMPARED_METRICS}
    named["mql_precision"] = run_metrics.get("test_mql_precision", float("nan"))
    named["mql_recall"] = run_metrics.get("test_mql_recall", float("nan"))
    return named


# the champion's AUC on the comparison's leads this far below what its training run measured: look at the labels
MAX_CHAMPION_AUC_FALL = 0.15


def fall_warning(auc_now: float, recorded: Mapping[str, float] | None) -> str | None:
    """A warning where the champion ranks the new export's leads far worse than at its training: outcomes read
    otherwise (a changed outcome column or its won/lost values) more often than a world that changed."""
    then = (recorded or {}).get("roc_auc", float("nan"))
    if not (math.isfinite(auc_now) and math.isfinite(then)) or then - auc_now <= MAX_CHAMPION_AUC_FALL:
        return None
    return (
        f"the champion ranks this export's test leads at AUC {auc_now:.3f}, where its training run measured "
        f"{then:.3f}: check the export's outcome column and the mapping's won and lost values before trusting either "
        "model (a challenger that merely beats a champion on broken labels is no better model)"
    )


def _comparison(
    outcome: TrainingOutcome, champion: LeadScorer | None, champion_recorded: Mapping[str, float] | None = None
) -> tuple[Comparison | None, list[str]]:
    if champion is None:
        return None, []
    if input_fields(champion.pipeline) != input_fields(outcome.scorer.pipeline):
        return None, [
            "the challenger reads other input fields than the champion (another export or mapping), so the two "
            "cannot be scored on the same leads: no head-to-head comparison"
        ]
    split = outcome.split
    # MQLs per month are reported, not compared: without whole quarters or dates they stay unknown (NaN)
    test_months = set_months(split, None, split.test)
    months = np.nan if test_months is None else test_months
    scores = outcome.test_scores
    y = scores["converted"].to_numpy()
    # the challenger as evaluated, each test lead by a model that did not learn from it (its shipped refit did)
    challenger = evaluate_scores(y, scores["model"].to_numpy(), scores["is_mql"].to_numpy(), months)
    recorded = recorded_test_metrics(champion_recorded or {})
    # recorded figures compare only between splits of one kind: a random split's are higher than a row order's
    if split.kind in UNDATED_SPLITS and champion.metadata.get("split") == split.kind and recorded:
        # Without creation dates no lead can be kept from the champion by time: it learnt from (nearly) all of
        # these leads, and scoring them again would favour it. Each model's own held-out scores compare fairly.
        note = (
            "without creation dates no test lead can be kept from the champion (it learnt from the export's leads), "
            "so both are compared on their own held-out scores, the champion's as its training run recorded them"
        )
        return compare(recorded, challenger), [note]
    comparison = compare(evaluate_on(champion, outcome.test_leads, y, months), challenger)
    overlap = _quarter_overlap(champion, split.test_quarters)
    warnings = (
        [
            f"the champion was fitted on quarter(s) {', '.join(overlap)} of the comparison: it is favoured, not the "
            "challenger"
        ]
        if overlap
        else []
    )
    fell = fall_warning(comparison["roc_auc"]["champion"], recorded)
    warnings += [fell] if fell else []
    if split.kind in UNDATED_SPLITS:  # no dates: nothing tells which of these leads the champion learnt from
        warnings.append(
            "without creation dates the champion may have learnt from the comparison's leads, and it has no recorded "
            "cross-validated figures to compare instead: it is favoured, not the challenger"
        )
    return comparison, warnings


@dataclass(frozen=True)
class RollbackResult:
    name: str
    from_version: str
    to_version: str


def run_rollback(settings: Settings) -> RollbackResult:
    """Move the champion alias back to the ``previous`` version; the demoted version is tagged and kept."""
    configure_mlflow(settings.mlflow)
    client = mlflow.MlflowClient()
    name, champion_alias, previous_alias = (
        settings.mlflow.registered_model,
        settings.mlflow.champion_alias,
        settings.retrain.previous_alias,
    )
    try:
        previous = str(client.get_model_version_by_alias(name, previous_alias).version)
        current = str(client.get_model_version_by_alias(name, champion_alias).version)
    except MlflowException as error:
        raise LookupError(
            f"cannot roll back {name!r}: it needs both a '{champion_alias}' and a '{previous_alias}' version "
            f"(a '{previous_alias}' is set when `leadq retrain` promotes a challenger)"
        ) from error
    client.set_registered_model_alias(name, champion_alias, previous)
    client.delete_registered_model_alias(name, previous_alias)
    client.set_model_version_tag(name, current, "rolled_back_to", previous)
    client.set_model_version_tag(name, previous, "restored_from", current)
    return RollbackResult(name=name, from_version=current, to_version=previous)

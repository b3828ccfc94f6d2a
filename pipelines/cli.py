"""The ``leadq`` command line: inspect and check an export, train on it, serve, audit and retrain.

Only typer, rich and the standard library are imported here: settings, pandas, MLflow, LightGBM and the rest
are imported inside the commands, so that ``leadq --help`` and ``leadq <command> --help`` answer at once.
"""

from __future__ import annotations

import gc
import logging
import os
import shlex
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from models.audit import OutOfRange, Verdict
    from models.labels import TimeSplit
    from pipelines.demo.quarter_demo import QuarterDemoResult
    from pipelines.settings import Settings
    from pipelines.tracking import RegisteredModel
    from pipelines.training import TrainingResult

# models.feature_text.Language, repeated here so that the command line does not import the models to parse
# its arguments (a test keeps the two equal).
Language = Literal["en", "de"]

app = typer.Typer(help="leadq: measurable, explainable B2B lead scoring.", no_args_is_help=True)
console = Console(soft_wrap=True)  # paths and commands stay copy-pasteable


class TableFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


class ScoreEngine(StrEnum):
    local = "local"  # leadq score's own chunks, in this process
    spark = "spark"  # a Spark job (pipelines/score_spark.py)


EXPORT_HELP = "The CRM export: CSV (separator and encoding detected), .xlsx or Parquet."
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Settings file (default: $LEADQ_CONFIG or ./mlflow.yml).", show_default=False),
]
DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="The CRM export's leads file (CSV, .xlsx or Parquet; default: data.export)."),
]
MappingOption = Annotated[
    Path | None, typer.Option(help="The export's mapping (default: data.mapping; propose one: `leadq inspect`).")
]


def _quiet_libraries() -> None:
    # MLflow reads these when it is first imported (lazily, inside the commands).
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("mlflow", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="mlflow")


def mlflow_ui_command(tracking_uri: str) -> str:
    """The command that opens the MLflow UI on ``tracking_uri``: the ``mlflow`` installed beside this Python (relative
    to the working folder when inside it, so ``.venv/bin/mlflow`` in the repository; a user's own folder gets the
    full path), or plain ``mlflow``."""
    executable = Path(sys.executable).parent / "mlflow"
    if not executable.exists():
        return f"mlflow ui --backend-store-uri {shell_word(tracking_uri)}"
    absolute = executable.absolute()
    shown = absolute.relative_to(Path.cwd()) if absolute.is_relative_to(Path.cwd()) else absolute
    return f"{shell_word(shown)} ui --backend-store-uri {shell_word(tracking_uri)}"


def shell_word(path: Path | str) -> str:
    """A path as one word of a command leadq suggests, quoted where the shell would split or expand it ("My
    Leads.csv"), so the command runs as copied."""
    return shlex.quote(str(path))


@contextmanager
def _lasting_imports() -> Iterator[None]:
    """Import heavy libraries with the cyclic garbage collector paused, then freeze every object there is.

    An import makes objects (modules, classes, functions) that live until the process ends, hundreds of thousands
    for pandas, scikit-learn and MLflow; each full collection would scan them all again (about a second of
    ``leadq train``). What is garbage already is collected first, so freezing keeps nothing that is not in use.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _settings(config: Path | None, defaults_without_file: bool = False) -> Settings:
    """The settings of ``config`` ($LEADQ_CONFIG or ./mlflow.yml when None); with ``defaults_without_file`` (a command
    that reads only the export and its mapping), leadq's defaults where no settings file is named or found here."""
    with _lasting_imports():
        from pipelines.settings import ConfigError, Settings, load_settings

    if defaults_without_file and _settings_file(config) is None:
        console.print(
            "Note: no mlflow.yml here and none named (--config, LEADQ_CONFIG): checked with leadq's default settings "
            "(labels, split, publish gate as shipped). Training needs a settings file: it names the MLflow store the "
            "model is registered in (copy the repository's mlflow.yml here, or name one with --config).",
            highlight=False,
        )
        return Settings().resolved(Path.cwd())
    try:
        return load_settings(config)
    except ConfigError as error:
        console.print(f"[red]Invalid settings:[/] {error}", highlight=False)
        raise typer.Exit(code=2) from error


def _settings_file(config: Path | None) -> Path | None:
    """The settings file ``config`` names, or $LEADQ_CONFIG or ./mlflow.yml; None where there is none."""
    with _lasting_imports():
        from pipelines.settings import settings_file_named

    return settings_file_named(config)


@contextmanager
def _step(step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        with console.status(f"{step} ..."):
            yield
    except BaseException:
        console.print(f"[red]x[/] {step}", highlight=False)
        raise
    console.print(f"[green]v[/] {step} [dim]({time.perf_counter() - started:.1f} s)[/]", highlight=False)


@contextmanager
def _friendly_errors() -> Iterator[None]:
    from models.contract import DataContractError

    try:
        yield
    except DataContractError as error:
        console.print(f"[red]Refused:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from error
    except LookupError as error:
        console.print(f"[red]Not found:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from error
    except RuntimeError as error:
        from serving.model_holder import ModelIntegrityError  # imported only here: it brings MLflow

        if not isinstance(error, ModelIntegrityError):
            raise
        console.print(f"[red]Refused:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from error


def _generate(
    settings: Settings, leads: int | None, seed: int | None, out: Path | None, fmt: TableFormat | None
) -> dict[str, Path]:
    from pipelines.demo.synthetic import generate_for, write_crm

    n_leads = leads or settings.synthetic.leads
    with _step(f"generate a synthetic CRM with {n_leads:,} leads"):
        crm = generate_for(settings, n_leads, seed)
    with _step("write the tables and their mapping"):
        paths = write_crm(crm, out or settings.data.export.parent, fmt.value if fmt else settings.synthetic.format)
    for table, path in paths.items():
        console.print(f"  {table}: {path}", highlight=False)
    return paths


@app.command()
def generate(
    config: ConfigOption = None,
    leads: Annotated[int | None, typer.Option(help="Number of leads (default: synthetic.leads).", min=100)] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: synthetic.seed).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: the folder of data.export).")] = None,
    fmt: Annotated[TableFormat | None, typer.Option("--format", help="Default: synthetic.format.")] = None,
) -> None:
    """Generate the synthetic B2B CRM export: leads, dispositions, deals, the true probabilities and mapping.yml."""
    _quiet_libraries()
    paths = _generate(_settings(config), leads, seed, out, fmt)
    console.print(
        f"Train on it: leadq train --data {shell_word(paths['leads'])} --mapping {shell_word(paths['mapping'])}",
        highlight=False,
    )


def split_title(split: TimeSplit) -> str:
    """The metrics table's title: the test leads as the split made them (out of time, or at random)."""
    if split.kind == "random_stratified":
        return "Test leads, random stratified split (no out-of-time test possible)"
    if split.kind == "row_order":
        return "Test leads (the export's last rows), split by row order"
    if split.by_quarters:
        return f"Test quarter(s) {', '.join(split.test_quarters)}, out of time"
    return "Test leads (the latest by creation date), out of time"


_METRIC_ROWS = (
    ("ROC AUC", "roc_auc"),
    ("PR AUC", "pr_auc"),
    ("log loss", "log_loss"),
    ("Brier", "brier"),
    ("ECE", "ece"),
    ("lift top 10%", "lift_top10"),
    ("capture top 10%", "capture_top10"),
    ("lift top 20%", "lift_top20"),
    ("capture top 20%", "capture_top20"),
)
_DECISION_ROWS = (
    ("MQLs per month", "mql_per_month", "{:,.0f}"),
    ("MQL conversion (precision)", "precision", "{:.1%}"),
    ("conversions reached (recall)", "recall", "{:.1%}"),
)


def _with_interval(metrics: dict[str, float], key: str, fmt: str) -> str:
    """``0.845 (0.83-0.86)``: the figure and its bootstrap interval (when it has one); ``-`` when there is none."""
    value = metrics.get(key)
    if value is None:
        return "-"
    low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
    if low is None or high is None:
        return fmt.format(value)
    if fmt.endswith("%}"):
        return f"{value:.1%} ({low * 100:.0f}-{high:.0%})"
    return f"{fmt.format(value)} ({low:.2f}-{high:.2f})"


def _metrics_table(metrics: dict[str, float], split: TimeSplit, confidence: float = 0.95) -> Table:
    # The points-rule column only for a mapping with a points rule (it logs rules_test_* metrics).
    with_rule = any(key.startswith("rules_test_") for key in metrics)
    columns = {"leadq model": "test", "logistic regression": "logreg_test"}
    if with_rule:
        columns["points rule"] = "rules_test"
    table = Table(
        title=split_title(split),
        title_justify="left",
        caption=f"(low-high): {confidence:.0%} bootstrap interval over the test leads",
        caption_justify="left",
    )
    table.add_column("metric")
    for column in columns:
        table.add_column(column, justify="right")
    for label, key in _METRIC_ROWS:
        table.add_row(label, *(_with_interval(metrics, f"{prefix}_{key}", "{:.3f}") for prefix in columns.values()))
    for label, key, fmt in _DECISION_ROWS:
        # The logistic regression ranks; only the model and the points rule decide who is an MQL.
        decisions = {"test": f"test_mql_{key}", "rules_test": f"rules_test_mql_{key}"}
        table.add_row(
            label,
            *(_with_interval(metrics, decisions[p], fmt) if p in decisions else "-" for p in columns.values()),
        )
    return table


def _split_sizes(split: TimeSplit) -> str:
    if split.by_quarters:
        return (
            f"train {split.train_quarters[0]}..{split.train_quarters[-1]}, calibration "
            f"{', '.join(split.calibration_quarters)}, test {', '.join(split.test_quarters)}"
        )
    sizes = f"{len(split.train):,} training, {len(split.calibration):,} calibration, {len(split.test):,} test leads"
    if split.cross_validation:  # the fields are the first fold's; the test metrics pool every fold
        tested = sum(len(fold.test) for fold in split.folds)
        every = f"every labelled lead tested once ({tested:,} test leads)"
        return f"{len(split.folds)} folds of about {sizes} each; {every}"
    return sizes


def _threshold_inputs(inputs: dict[str, float] | None) -> str:
    if not inputs:
        return ""
    shown = {
        "base_rate": "base rate {:.1%}",
        "target_precision": "target precision {:.1%}",
        "target_lift": "target lift {:g}x",
        "mqls_per_month": "capacity {:,.0f}/month",
        "months": "{:.1f} months of leads",
        "leads": "chosen on {:,.0f} leads",
    }
    parts = [fmt.format(inputs[key]) for key, fmt in shown.items() if key in inputs]
    return "; inputs: " + ", ".join(parts)


def _print_gate(registered: RegisteredModel, settings: Settings) -> None:
    gate, alias = registered.gate, settings.mlflow.champion_alias
    if gate is None:
        return
    if gate.passed:
        console.print("[green]Publish gate passed:[/] " + "; ".join(gate.checks), highlight=False)
    else:
        console.print("[yellow]Publish gate failed:[/]", highlight=False)
        for reason in gate.reasons:
            console.print(f"  - {escape(reason)}", highlight=False)
        for advice in gate.advice:
            console.print(f"  what would help: {escape(advice)}", highlight=False)
    if registered.forced:
        console.print(
            f"[yellow]Promoted by --force[/] to '{alias}' (tagged promoted_by_force on the version).", highlight=False
        )
    elif not gate.passed and not registered.aliases:
        console.print(
            f"Not promoted: version {registered.version} stays out of '{alias}' "
            "(`leadq train --force` promotes it anyway, recorded on the version).",
            highlight=False,
        )


def _print_training(result: TrainingResult, settings: Settings) -> None:
    from models.explanations import grade_axis_warning
    from models.features import feature_spec_of
    from models.sla import demo_rule_warning
    from models.threshold import share_warning

    outcome, registered = result.outcome, result.registered
    threshold, split = outcome.scorer.threshold, outcome.split
    console.print(_metrics_table(outcome.metrics, split, settings.gate.confidence))
    console.print(
        f"MQL threshold {threshold.threshold:.3f}: policy {threshold.policy} "
        f"(threshold.policy {threshold.requested or threshold.policy}): {escape(threshold.rationale)}"
        f"{_threshold_inputs(threshold.inputs)}",
        highlight=False,
    )
    console.print(f"Split sizes: {_split_sizes(split)}", highlight=False)
    metrics = outcome.metrics
    on_test = share_warning(
        metrics["test_mql_mql_share"],
        int(metrics["n_test"]),
        metrics["test_conversions"] / metrics["n_test"],
        "test leads",
    )
    spec = feature_spec_of(outcome.scorer.pipeline)
    demo_rule, axes = demo_rule_warning(outcome.scorer.sla, spec), grade_axis_warning(spec)
    order = outcome.preparation.get("split", {}).get("warning", "")
    prepared = outcome.preparation
    warnings = (
        _empty_outcome_warning(prepared),
        _empty_while_open_warning(prepared),
        _out_of_range_while_open_warning(prepared),
        order,
        threshold.warning,
    )
    for warning in (*warnings, on_test, demo_rule, axes):
        if warning:
            console.print(f"[yellow]Warning:[/] {escape(warning)}", highlight=False)
    _print_gate(registered, settings)
    alias = settings.mlflow.champion_alias
    if registered.aliases:
        status = f"alias '{alias}'"
    elif registered.champion_version is None:
        status = f"no version is '{alias}' yet"
    else:
        status = f"'{alias}' stays on version {registered.champion_version}"
    console.print(f"Registered [bold]{registered.name}[/] version {registered.version} ({status}).", highlight=False)
    if (
        registered.champion_version is not None
        and not registered.aliases
        and registered.gate
        and registered.gate.passed
    ):
        console.print(
            f"A served champion is replaced by `leadq retrain` (the two compared on the same leads, where they read "
            f"the same fields), by `leadq train --force`, or by moving '{alias}' to version {registered.version} in "
            "the MLflow UI.",
            highlight=False,
        )
    if registered.champion_version is not None and not registered.aliases:
        _warn_if_the_champion_reads_after_contact(registered, result.outcome.mapping_yaml)
    console.print(f"Explanation report for marketing: {result.report_path}", highlight=False)
    console.print(f"MLflow UI: {mlflow_ui_command(registered.tracking_uri)}", highlight=False)


def _warn_if_the_champion_reads_after_contact(registered: RegisteredModel, trained_mapping_yaml: str) -> None:
    from pipelines.training import stale_champion_warning

    champion = registered.champion_version or ""
    warning = stale_champion_warning(
        registered.tracking_uri, registered.name, champion, registered.version, trained_mapping_yaml
    )
    if warning:
        console.print(f"[yellow]Warning:[/] {escape(warning)}", highlight=False)


@contextmanager
def _export_errors() -> Iterator[None]:
    """Refusals of an export (mapping, cleaning, leadq's rules) and leaks, as one line naming the cause."""
    from models.cleaning import CleaningError
    from models.contract import DataContractError
    from pipelines.crm_export.leakage import LeakageError
    from pipelines.crm_export.mapping import MappingError

    try:
        yield
    except LeakageError as error:
        console.print(f"[red]Leak:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from error
    except (CleaningError, MappingError, DataContractError) as error:
        console.print(f"[red]Refused:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from error


@contextmanager
def _input_errors() -> Iterator[None]:
    """Every refusal of a command that reads the export: the export's and the registry's, and a setting the
    export cannot meet (the settings' fault, not the export's: exit code 2), each as one line."""
    from pipelines.settings import ConfigError

    try:
        with _export_errors(), _friendly_errors():
            yield
    except ConfigError as error:
        console.print(f"[red]Invalid settings:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=2) from error


def _train(settings: Settings, export: Path | None = None, mapping: Path | None = None, force: bool = False) -> None:
    with _lasting_imports():
        from pipelines.training import run_training

    with _input_errors():
        result = run_training(settings, export, mapping, report=_step, force=force)
    split = result.outcome.split
    console.print(f"Split: {split.kind} ({escape(split.reason)})", highlight=False)
    _print_training(result, settings)
    console.print("How the export was prepared: data/preparation.json on the MLflow run.", highlight=False)
    # The process ends here: frozen objects are not collected one by one at exit (about a second saved).
    gc.freeze()


@app.command()
def train(
    config: ConfigOption = None,
    export: DataOption = None,
    mapping: MappingOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Make the new version champion even if it fails the publish gate (tagged on the version)."
        ),
    ] = False,
) -> None:
    """Train, calibrate and evaluate a model on the CRM export through its mapping, log it to MLflow, register it
    (champion only if it passes the publish gate, see mlflow.yml gate)."""
    _quiet_libraries()
    settings = _settings(config)
    _refuse_data_without_mapping(settings, export, mapping)
    _train(settings, export.resolve() if export else None, mapping.resolve() if mapping else None, force)


def _refuse_data_without_mapping(
    settings: Settings, export: Path | None, mapping: Path | None, named_as: str = "--data"
) -> None:
    from pipelines.settings import DEMO_MAPPING

    if export is not None and mapping is None and settings.data.mapping == DEMO_MAPPING:
        console.print(f"[red]Refused:[/] {named_as} needs its --mapping (propose one with `leadq inspect`)")
        raise typer.Exit(code=2)


def _with_data(settings: Settings, export: Path | None, mapping: Path | None) -> Settings:
    """The settings with ``--data`` and ``--mapping`` as the export and its mapping (data.export, data.mapping)."""
    _refuse_data_without_mapping(settings, export, mapping)
    given = {"export": export.resolve() if export else None, "mapping": mapping.resolve() if mapping else None}
    data = settings.data.model_copy(update={key: path for key, path in given.items() if path is not None})
    return settings.model_copy(update={"data": data})


def _print_verdict(verdict: Verdict) -> None:
    console.print(f"Audit verdict: [bold]{verdict.action}[/]", highlight=False)
    for reason in verdict.reasons:
        console.print(f"  - {reason}", highlight=False)


@app.command()
def audit(
    quarter: Annotated[str, typer.Option(help="Quarter whose leads to audit, e.g. 2026Q3.")],
    config: ConfigOption = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the report (default: explanations.reports_dir).")] = None,
    export: DataOption = None,
    mapping: MappingOption = None,
) -> None:
    """Audit a quarter's served scores against what sales and deals made of the leads: report, JSON, MLflow run."""
    from pipelines.audit import run_audit

    _quiet_libraries()
    settings = _with_data(_settings(config), export, mapping)
    with _friendly_errors():
        try:
            result = run_audit(settings, quarter, out_dir=out, report=_step)
        except (ValueError, FileNotFoundError) as error:
            console.print(f"[red]Refused:[/] {error}", highlight=False)
            raise typer.Exit(code=1) from error
    leads = result.figures["leads"]
    console.print(
        f"{quarter}: {leads['scored']:,} scored leads ({leads['won']:,} won, {leads['lost']:,} lost, "
        f"{leads['open']:,} open) by model version {result.model_version}",
        highlight=False,
    )
    _print_verdict(result.verdict)
    console.print(f"Report: {result.html_path}\nFigures: {result.json_path}\nMLflow run: {result.run_id}")


@app.command()
def hot(
    config: ConfigOption = None,
    since: Annotated[
        datetime | None,
        typer.Option(help="Start of the window (UTC); default: when leadq hot last ran (trends.hot_state)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the whole list here (.csv or .parquet) for the CRM.")] = None,
    top: Annotated[int, typer.Option(help="Leads shown in the terminal.", min=0)] = 20,
    dry_run: Annotated[bool, typer.Option(help="Do not record this run: the next one starts where this did.")] = False,
) -> None:
    """Nurture leads heating up: not an MQL at their last score before the window, an MQL now (scoring log)."""
    import pandas as pd

    from pipelines.hot import run_hot, write_table

    settings = _settings(config)
    with _friendly_errors():
        try:
            result = run_hot(settings, pd.Timestamp(since) if since else None, record=not dry_run)
        except (ValueError, FileNotFoundError) as error:
            console.print(f"[red]Refused:[/] {error}", highlight=False)
            raise typer.Exit(code=1) from error
    leads = result.leads
    console.print(
        f"{len(leads):,} {'lead' if len(leads) == 1 else 'leads'} heating up since {result.since:%Y-%m-%d %H:%M} UTC "
        f"({result.since_source}); {result.scored:,} {'lead' if result.scored == 1 else 'leads'} scored since then",
        highlight=False,
    )
    if len(leads) and top:
        table = Table(box=None)
        for name in ("lead", "score", "before", "trend", "grade"):
            table.add_column(name, no_wrap=True, min_width=len(name))
        table.add_column("new reasons", max_width=30, no_wrap=True, overflow="ellipsis")  # all of it: --out
        for row in leads.head(top).itertuples():
            table.add_row(
                str(row.lead_id),
                str(row.score),
                str(row.score_before),
                f"{row.trend} ({row.change:+d})",
                str(row.grade),
                str(row.new_reasons),
            )
        console.print(table)
    if out is not None:
        write_table(leads, out)
        console.print(f"List: {out}")


def _comparison_table(comparison: dict[str, dict[str, float]], quarters: list[str]) -> Table:
    # without dates there are no quarters: both models' held-out leads (see the decision's reasons)
    on = f"on {', '.join(quarters)} (out of time)" if quarters else "on held-out leads (no dates: not out of time)"
    table = Table(title=f"Champion vs challenger {on}", title_justify="left")
    table.add_column("metric")
    for column in ("champion", "challenger", "difference"):
        table.add_column(column, justify="right")
    for metric, row in comparison.items():
        table.add_row(metric, f"{row['champion']:.4f}", f"{row['challenger']:.4f}", f"{row['difference']:+.4f}")
    return table


_OWN_FIGURE_ROWS = (
    ("ROC AUC", "test_roc_auc", "{:.3f}"),
    ("PR AUC", "test_pr_auc", "{:.3f}"),
    ("ECE", "test_ece", "{:.3f}"),
    ("Brier", "test_brier", "{:.3f}"),
    ("lift top 10%", "test_lift_top10", "{:.3f}"),
    ("MQL conversion (precision)", "test_mql_precision", "{:.1%}"),
    ("conversions reached (recall)", "test_mql_recall", "{:.1%}"),
    ("test leads", "n_test", "{:,.0f}"),
    ("conversions", "test_conversions", "{:,.0f}"),
)


def _own_figures_table(own_figures: dict[str, dict[str, float]], confidence: float = 0.95) -> Table:
    """Champion and challenger side by side, each on its own test leads as its training run measured them."""
    table = Table(
        title="Each model on its own test leads, as its training run measured them",
        title_justify="left",
        caption=f"(low-high): {confidence:.0%} bootstrap interval over each model's test leads",
        caption_justify="left",
    )
    table.add_column("metric")
    for role in ("champion", "challenger"):
        table.add_column(role, justify="right")
    for label, key, fmt in _OWN_FIGURE_ROWS:
        table.add_row(label, *(_with_interval(own_figures[role], key, fmt) for role in ("champion", "challenger")))
    return table


@app.command()
def retrain(config: ConfigOption = None, export: DataOption = None, mapping: MappingOption = None) -> None:
    """Train a challenger on the export and promote it only if it beats the served champion (see mlflow.yml retrain)."""
    from pipelines.retrain import run_retrain

    _quiet_libraries()
    settings = _with_data(_settings(config), export, mapping)
    with _input_errors():
        result = run_retrain(settings, report=_step)
    if result.comparison:
        console.print(_comparison_table(result.comparison, result.quarters))
    if result.own_figures:
        console.print(_own_figures_table(result.own_figures, settings.gate.confidence))
    verdict = "[green]promoted[/]" if result.decision.promote else "[yellow]not promoted[/]"
    console.print(
        f"Challenger version {result.challenger_version}: {verdict}; "
        f"'{settings.mlflow.champion_alias}' is version {result.served_version}.",
        highlight=False,
    )
    for reason in result.decision.reasons:
        console.print(f"  - {escape(reason)}", highlight=False)
    if result.decision.promote:
        console.print("A running `leadq serve` picks the champion up on POST /v1/admin/reload.", highlight=False)


@app.command()
def rollback(config: ConfigOption = None) -> None:
    """Move the champion alias back to the previous champion (after a promotion that went wrong)."""
    from pipelines.retrain import run_rollback

    _quiet_libraries()
    settings = _settings(config)
    with _friendly_errors():
        result = run_rollback(settings)
    console.print(
        f"{result.name}: '{settings.mlflow.champion_alias}' moved from version {result.from_version} back to "
        f"{result.to_version}. Reload the service: POST /v1/admin/reload.",
        highlight=False,
    )


@app.command()
def explain(
    config: ConfigOption = None,
    version: Annotated[str | None, typer.Option(help="Registered model version (default: the champion).")] = None,
    quarter: Annotated[
        list[str] | None,
        typer.Option(
            help="Quarter of leads to explain, e.g. 2026Q2; repeatable (default: the model's test quarter(s))."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Report file (default: explanations.reports_dir).")] = None,
    language: Annotated[
        Language | None, typer.Option(help="Feature labels' language (default: explanations.language).")
    ] = None,
    export: DataOption = None,
    mapping: MappingOption = None,
) -> None:
    """Write the marketing report (self-contained HTML) for a registered model and log it to its MLflow run.

    Without --data, on the export the version was trained on (while its files are there), else data.export."""
    from pipelines.explain import run_explain

    _quiet_libraries()
    settings = _with_data(_settings(config), export, mapping)
    own_export = export is None and mapping is None
    with _input_errors(), _step("explain the model on the CRM export"):
        result = run_explain(settings, version, tuple(quarter or ()), out, language, own_export)
    console.print(
        f"Report on {result.n_leads:,} leads ({result.period}) of {result.export} for {result.model_name} "
        f"version {result.version}: {result.path} (logged to run {result.run_id})",
        highlight=False,
    )


def _output_format(out: Path, fmt: TableFormat | None) -> TableFormat:
    """The output's format: --format, else --out's suffix; a suffix that contradicts --format is refused."""
    suffix = out.suffix.lower().lstrip(".")
    if fmt is not None and suffix in TableFormat.__members__ and suffix != fmt.value:
        console.print(f"[red]Refused:[/] --out {out} ends in .{suffix} but --format is {fmt.value}", highlight=False)
        raise typer.Exit(code=2)
    if fmt is None and suffix not in TableFormat.__members__:
        console.print(f"[red]Refused:[/] --out {out}: name a .parquet or .csv file, or pass --format", highlight=False)
        raise typer.Exit(code=2)
    return fmt or TableFormat(suffix)


@app.command()
def score(
    export: Annotated[Path, typer.Argument(help=EXPORT_HELP)],
    out: Annotated[
        Path, typer.Option(help="The scores: one row per lead under the CRM's id, leadq_* columns (.parquet or .csv).")
    ],
    config: ConfigOption = None,
    version: Annotated[str | None, typer.Option(help="Registered model version (default: the champion).")] = None,
    alias: Annotated[str | None, typer.Option(help="Registry alias to score with (instead of a version).")] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="The export's mapping (default: the one the model was trained with).")
    ] = None,
    language: Annotated[
        Language | None, typer.Option(help="Reasons' language (default: the model's, as the service answers).")
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(help="Leads read and scored at a time (memory stays flat: two chunks at a time).", min=1)
    ] = 20_000,
    since: Annotated[
        str | None,
        typer.Option(help="Only leads created on or after this date, YYYY-MM-DD (the mapping's created_at)."),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Rows that could not be scored: row, id, field, why (default: <out>.rejects.csv)."),
    ] = None,
    fmt: Annotated[TableFormat | None, typer.Option("--format", help="Default: --out's suffix.")] = None,
    reasons: Annotated[
        bool,
        typer.Option(
            help="--no-reasons: only the id, leadq_probability, leadq_score, leadq_is_mql and the model columns; no "
            "TreeSHAP, so no grade, priority, response time or reasons columns (several times faster)."
        ),
    ] = True,
    activities: Annotated[
        Path | None,
        typer.Option(
            help="The activities table, for a model trained with one (default: the mapping's file next to the "
            "export); each lead's engagement is computed from it as of the run."
        ),
    ] = None,
    log: Annotated[
        bool,
        typer.Option(
            help="Append the scores to the scoring log (serving.scoring_log_url) like served ones, for leadq hot, "
            "trends and the audit; adds leadq_trend per lead (with reasons only)."
        ),
    ] = False,
    accounts: Annotated[
        Path | None,
        typer.Option(
            help="Also roll the leads up into their accounts (the mapping's account column, else business e-mail "
            "domains): one row per account in this file, and leadq_account per lead."
        ),
    ] = None,
    max_rejected: Annotated[
        float | None,
        typer.Option(
            help="The share of rows that may be rejected (0-1; default 0.5); more, and no file is written and the "
            "run fails: a changed export, not a few bad rows (an id's later rows are not counted). Not with --engine "
            "spark.",
            min=0.0,
            max=1.0,
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        ScoreEngine,
        typer.Option(
            help="spark: the same scoring as a Spark job over a Parquet export (a file or a folder of part files); "
            "--out and the rejects become folders of part files (README, 'Scoring on Spark')."
        ),
    ] = ScoreEngine.local,
    master: Annotated[
        str | None,
        typer.Option(help="With --engine spark: Spark's master, e.g. local[2] (default: spark-submit's, or local[*])."),
    ] = None,
) -> None:
    """Score a whole CRM export with the registered model as the service scores each lead, into a file to import.

    The output and the rejects file appear only when the run succeeds (written under temporary names, renamed
    at the end); a row that cannot be read is named in the rejects file by its row, id, field and why.
    """
    import signal
    import sys
    from datetime import date

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TimeRemainingColumn
    from rich.text import Text

    from pipelines.score import DEFAULT_MAX_REJECTED, ScoreOptions, run_score
    from serving.model_holder import ModelIntegrityError, ModelLoadError

    class LeadsPerSecond(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:,.0f} leads/s" if task.speed else "")

    _quiet_libraries()
    if version is not None and alias is not None:
        console.print("[red]Refused:[/] name a --version or an --alias, not both", highlight=False)
        raise typer.Exit(code=2)
    if log and not reasons:
        console.print("[red]Refused:[/] --log keeps scores with their reasons: not with --no-reasons", highlight=False)
        raise typer.Exit(code=2)
    if max_rejected is not None and engine == ScoreEngine.spark:
        console.print(
            "[red]Refused:[/] --max-rejected judges leadq score's own run: the Spark job writes its part files as it "
            "goes and counts its rejects without refusing",
            highlight=False,
        )
        raise typer.Exit(code=2)
    try:
        since_date = date.fromisoformat(since) if since else None
    except ValueError as error:
        console.print(
            f"[red]Refused:[/] --since {escape(since or '')}: expected a date such as 2026-10-01", highlight=False
        )
        raise typer.Exit(code=2) from error
    output_format = _output_format(out, fmt)
    rejects = rejects or out.with_name(f"{out.stem}.rejects.csv")
    if rejects.resolve() == out.resolve():
        console.print("[red]Refused:[/] --rejects must be another file than --out", highlight=False)
        raise typer.Exit(code=2)
    settings = _settings(config)
    # SIGTERM (a scheduler stopping the job) ends it like Ctrl-C: the temporary files are removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    options = ScoreOptions(
        out=out,
        rejects=rejects,
        fmt=output_format.value,
        version=version,
        alias=alias,
        mapping=mapping,
        language=language,
        chunk_size=chunk_size,
        since=since_date,
        reasons=reasons,
        activities=activities,
        accounts=accounts,
        log=log,
        max_rejected=DEFAULT_MAX_REJECTED if max_rejected is None else max_rejected,
    )
    progress = Progress(BarColumn(), MofNCompleteColumn(), LeadsPerSecond(), TimeRemainingColumn(), console=console)
    task = progress.add_task("scoring", total=None)

    def advance(done: int, total: int | None) -> None:  # a CSV's total is its line count: an upper bound
        progress.update(task, completed=done, total=max(total or 0, done) or None)

    try:
        if engine == ScoreEngine.spark:  # Spark shows its own progress (stages); no bar
            from pipelines.score_spark import SparkUnavailableError, run_spark_score

            try:
                with _export_errors(), _friendly_errors():
                    summary = run_spark_score(settings, export, options, master=master)
            except SparkUnavailableError as error:
                console.print(f"[red]Refused:[/] {escape(str(error))}", highlight=False)
                raise typer.Exit(code=1) from error
        else:
            with _export_errors(), _friendly_errors(), progress:
                summary = run_score(settings, export, options, progress=advance)
    except (ModelIntegrityError, ModelLoadError) as error:
        console.print(f"[red]Refused:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from error
    if summary.read_whole:
        console.print(f"[yellow]Note:[/] read whole, not in chunks: {escape(summary.read_whole)}", highlight=False)
    for note in summary.notes:
        console.print(f"[yellow]Note:[/] {escape(note)}", highlight=False)
    if summary.accounts is not None:
        console.print(f"Accounts: {summary.accounts:,} rolled up into {accounts}", highlight=False)
    console.print(
        f"Scored {summary.scored:,} leads with {summary.name} version {summary.version} in {summary.seconds:.1f} s "
        f"(model loaded in {summary.loading_seconds:.1f} s, then {summary.leads_per_s:,.0f} leads/s): "
        f"{summary.mqls:,} MQLs.",
        highlight=False,
    )
    grades = ", ".join(f"{grade} {count:,}" for grade, count in summary.grades.items())
    if reasons:
        console.print(f"By grade: {grades or '-'}", highlight=False)
    if summary.before_since:
        console.print(f"Left out {summary.before_since:,} leads created before {options.since}.", highlight=False)
    said = "[yellow]Rejected[/]" if summary.rejected_rows else "Rejected"
    console.print(f"{said} {summary.rejected_rows:,} rows (row, id, field, why): {summary.rejects}", highlight=False)
    if summary.beyond_training:
        console.print(
            f"[yellow]Warning:[/] {escape(beyond_training_warning(summary.beyond_training))}", highlight=False
        )
    console.print(f"Scores: {summary.out}", highlight=False)


def beyond_training_warning(found: Sequence[OutOfRange]) -> str:
    """What ``leadq score`` says of number features most scored leads hold beyond nearly every training lead's."""
    said = "; ".join(
        f"'{beyond.feature}' for {beyond.share:.0%} of the {beyond.leads:,} scored leads with a value "
        f"({'at or below' if beyond.side == 'below' else 'above'} {beyond.bound:,.4g}, where "
        f"{beyond.training_share:.0%} of the training leads are)"
        for beyond in found
    )
    return (
        f"outside the training leads' range: {said}. The model learnt these numbers from leads whose values differ "
        "from the ones scored here: counted up to the export's day, such a number grows with each lead's age or with "
        "sales' work on it, and these leads' scores are extrapolated. If sales' e-mails, calls or visits after "
        "contact count in it, map it after_contact and retrain; `leadq audit` measures the drift once outcomes are in"
    )


def _profile_table(profile: pd.DataFrame) -> Table:
    table = Table(title="Columns of the export (placeholders such as N/A count as missing)", title_justify="left")
    table.add_column("column")
    table.add_column("read as")
    table.add_column("kind", no_wrap=True, min_width=len("number-as-text"))
    for column in ("missing", "distinct"):
        table.add_column(column, justify="right")
    table.add_column("examples (PII redacted)")
    for row in profile.to_dict("records"):
        table.add_row(
            escape(row["column"]),
            row["dtype"],
            row["kind"],
            f"{row['missing_share']:.0%}",
            f"{row['cardinality']:,}",
            escape(", ".join(row["examples"])),
        )
    return table


@app.command()
def inspect(
    export: Annotated[Path, typer.Argument(help=EXPORT_HELP)],
    out: Annotated[Path, typer.Option(help="Where to write the proposed mapping.")] = Path("mapping.yml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
    outcome: Annotated[
        str | None,
        typer.Option(
            help="The column that says how each lead ended (won/lost, yes/no, 1/0, a stage with won and lost "
            "values, a lifecycle stage with won values only such as Customer, an amount: won when > 0, or a win "
            "date); default: the best candidate, marked for review."
        ),
    ] = None,
) -> None:
    """Profile a raw CRM export and propose a mapping file (column roles) to review before training on it.

    Without an outcome candidate (and no --outcome) the proposal is still written, without the outcome line,
    and the command ends with a warning (exit code 0): add the line or run again with --outcome COLUMN.
    """
    from pipelines.crm_export.inspect import (
        PROPOSAL_HEADER,
        is_a_persons_money,
        missing_outcome,
        names_look_german,
        profile_export,
        proposal_notes,
        propose,
        row_ids_note,
    )
    from pipelines.crm_export.mapping import FEATURE_ROLES, MappingError, dump_mapping
    from pipelines.crm_export.read import read_export

    _quiet_libraries()
    if out.exists() and not force:
        console.print(f"[red]Refused:[/] {out} exists; pass --force to overwrite it", highlight=False)
        raise typer.Exit(code=1)
    with _friendly_errors():
        raw = read_export(export)
    read_as = f"separator {raw.separator!r}, encoding {raw.encoding}" if raw.separator else export.suffix.lstrip(".")
    console.print(f"{export}: {len(raw.frame):,} rows, {raw.frame.shape[1]} columns ({read_as})", highlight=False)
    for note in raw.warnings:
        console.print(f"[yellow]Note:[/] {escape(note)}", highlight=False)
    profile = profile_export(raw.frame)
    console.print(_profile_table(profile))
    try:
        proposal = propose(raw.frame, profile, outcome, raw.made_columns)
        mapping = proposal.draft()  # without an outcome: written all the same, for the user to complete
        notes = proposal_notes(profile, mapping, proposal.review)
        missing = missing_outcome(proposal)
        header = "\n".join(part for part in (PROPOSAL_HEADER, row_ids_note(proposal), missing) if part)
        out.write_text(dump_mapping(mapping, header, notes), encoding="utf-8")
    except (MappingError, OSError) as error:
        console.print(f"[red]Refused:[/] cannot propose a mapping: {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from error
    counts: Counter[str] = Counter(spec.role for spec in mapping.columns.values())
    shown = ("email", "job_title", "multi_select", "consent", "count")
    roles = ", ".join(f"{role} {counts[role]}" for role in shown if counts[role])
    dated = [(spec.role, c) for c, spec in mapping.columns.items() if spec.role in ("created_at", "outcome_at")]
    dates = ", ".join(f"{role} {column!r}" for role, column in dated) or "no created_at"
    personal = f" pii {counts['pii']}," if counts["pii"] else ""  # personal data, protected attributes: no features
    console.print(
        f"Proposed mapping: {out} ({f'id {mapping.id_column!r}' if mapping.ids_in_export else 'ids: row numbers'}, "
        f"{f'outcome {proposal.outcome!r}' if proposal.outcome else 'NO outcome'}, {dates}, "
        f"{len(mapping.feature_names())} feature columns{', ' + roles if roles else ''}, "
        f"after_contact {counts['after_contact']},{personal} ignore {counts['ignore']}). Review every line, then: "
        f"leadq check-export {shell_word(export)} --mapping {shell_word(out)}",
        highlight=False,
    )
    for column in (c for c in proposal.review if mapping.columns[c].role in ("id", "outcome", "won_at", "created_at")):
        console.print(f"  {escape(column)}: {escape(proposal.review[column])}", highlight=False)
    if money := [
        column for column, spec in mapping.columns.items() if spec.role in FEATURE_ROLES and is_a_persons_money(column)
    ]:
        console.print(
            f"[yellow]Review:[/] {escape(', '.join(map(repr, money)))}: a person's income or wealth, proposed as a "
            "feature; a B2B score reads the company, so map it pii unless your use case needs it and the leads agreed",
            highlight=False,
        )
    if problems := proposal.problems():
        console.print(f"[yellow]Warning:[/] fix {escape(str(out))} before check-export: {escape(problems)}")
    if not mapping.ids_in_export:
        said = " ".join(row_ids_note(proposal).split())
        console.print(f"[yellow]Warning:[/] {escape(said)}", highlight=False)
    if missing:
        said = " ".join(missing.removeprefix("NO OUTCOME: ").split())
        console.print(f"[yellow]Warning:[/] {out} has no outcome line: {escape(said)}", highlight=False)
    if names_look_german([str(column) for column in raw.frame.columns]):
        console.print(
            "Note: the column names are German: for reasons in German set explanations.language: de in mlflow.yml "
            "(`leadq score --language de` for one run)",
            highlight=False,
        )


def _leakage_table(rows: list[dict[str, object]], top: int = 5) -> Table:
    keys = ("single_feature_auc", "missingness_auc", "one_outcome_share", "others_auc")

    def worst(row: dict[str, object]) -> float:
        aucs = [row[key] for key in ("single_feature_auc", "missingness_auc")]
        return max((float(auc) for auc in aucs if isinstance(auc, float)), default=0.0)

    table = Table(title=f"Leakage check: the {top} features closest to the limits", title_justify="left")
    table.add_column("column")
    for column in ("single-feature AUC", "missingness AUC", "one-outcome share", "others' AUC"):
        table.add_column(column, justify="right")
    table.add_column("status")
    for row in sorted(rows, key=worst, reverse=True)[:top]:
        values = [row.get(key) for key in keys]
        shown = [f"{value:.2f}" if isinstance(value, float) else "-" for value in values]
        table.add_row(escape(str(row["column"])), *shown, str(row["status"]))
    return table


def _names(columns: list[str] | dict[str, Any]) -> str:
    return escape(", ".join(columns) or "-")


def _empty_while_open_warning(report: dict[str, Any]) -> str:
    """What to say of feature columns empty for most open leads and few labelled ones (``empty_while_open``)."""
    return _columns_warning(
        report.get("empty_while_open", {}),
        lambda column, how: (
            f"'{column}' for {how['open_empty_share']:.0%} of the {how['open_leads']:,} open leads "
            f"but {how['labelled_empty']:,} labelled ones ({how['labelled_empty_share']:.1%})"
        ),
        "empty ",
        "the model learns what empty means from few or no labelled leads, and scores a new lead without the value "
        "on that. If sales fills it in once it works the lead, map it after_contact; if it is no longer collected, "
        "map it ignore; if it comes for every lead a little later (an enrichment), score leads once it has come",
    )


def _out_of_range_while_open_warning(report: dict[str, Any]) -> str:
    """What to say of number columns whose values for most open leads lie beyond nearly every labelled lead's
    (``out_of_range_while_open``)."""
    return _columns_warning(
        report.get("out_of_range_while_open", {}),
        lambda column, how: (
            f"'{column}' for {how['share']:.0%} of the {how['open_leads']:,} open leads with a "
            f"value ({how['side']} {how['labelled_bound']:,.4g}; 95% of the labelled ones are "
            f"{'above' if how['side'] == 'below' else 'below'} it)"
        ),
        "outside the labelled leads' range: ",
        "counted up to the export's day, such a number grew with each labelled lead's age or with sales' work on it, "
        "and the model learnt it from leads further along than any it will score. If sales' e-mails, calls or "
        "visits after contact count in it, map it after_contact; if it only grows with time, score leads on a count "
        "over a fixed window (the activities table)",
    )


SHOWN_COLUMNS = 3  # columns a warning names, then how many more


def _columns_warning(
    found: dict[str, dict[str, Any]], describe: Callable[[str, dict[str, Any]], str], lead: str, advice: str
) -> str:
    """A warning naming the first ``SHOWN_COLUMNS`` found columns as ``describe`` says them, how many more there
    are, and the advice; empty where none was found."""
    if not found:
        return ""
    said = "; ".join(describe(column, how) for column, how in list(found.items())[:SHOWN_COLUMNS])
    more = len(found) - SHOWN_COLUMNS
    return f"{lead}{said}{f' and {more} more column(s)' if more > 0 else ''}: {advice}"


def _empty_outcome_warning(report: dict[str, Any]) -> str:
    """What to say when the outcome column is empty for many leads (a preparation report's labels and rows)."""
    from pipelines.crm_export.inspect import EMPTY_OUTCOME_SHARE_WARNED, named_like_a_win_date

    labels, leads = report.get("labels", {}), report.get("rows", {}).get("leads", 0)
    empty = labels.get("unresolved_values", {}).get("(missing)", 0)
    if not leads or empty <= EMPTY_OUTCOME_SHARE_WARNED * leads:
        return ""
    dated = report.get("columns", {}).get("outcome_at")  # Zendesk Sell's converted_at beside its deal's stage
    lead_s_own = (
        f"; or, if what you score is the lead's own conversion, '{dated}' dates it for every lead: leadq inspect "
        f"EXPORT --outcome '{dated}'"
        if dated and named_like_a_win_date(dated)
        else ""
    )
    return (
        f"the outcome '{labels.get('column')}' is empty for {empty:,} of {leads:,} leads ({empty / leads:.0%}), which "
        "stay unlabelled: the model learns only from the leads it names. If empty means the lead never got this far "
        "(no opportunity), map it with lost: [] (a lead without a won value is lost once labels.horizon_days have "
        f"passed){lead_s_own}"
    )


def _print_prepared_summary(export: Path, report: dict[str, Any]) -> None:
    rows, columns, labels, split = report["rows"], report["columns"], report["labels"], report["split"]
    console.print(
        f"{export}: {rows['export']:,} rows -> {rows['leads']:,} leads "
        f"({rows['exact_duplicates_dropped']:,} exact duplicates dropped, {rows['rows_without_id']:,} without id"
        + (f", {rows['excluded']:,} excluded by the outcome's excluded values" if rows.get("excluded") else "")
        + (
            f", {rows['repeats_dropped']:,} repeats differing only in columns leadq does not read dropped"
            if rows.get("repeats_dropped")
            else ""
        )
        + (
            f", {rows['later_rows_dropped']:,} later rows of an id dropped (repeated_ids: first))"
            if rows.get("later_rows_dropped")
            else ")"
        ),
        highlight=False,
    )
    for note in report.get("source", {}).get("read_notes", []):  # how the file was read (encoding, title, footer)
        console.print(f"[yellow]Note:[/] {escape(note)}", highlight=False)
    kinds = Counter(feature["kind"] for feature in report["features"].values())
    console.print(
        f"Features: {sum(kinds.values())} ({', '.join(f'{count} {kind}' for kind, count in kinds.items())})",
        highlight=False,
    )
    # An outcome column says which values stayed unresolved; leadq's label rule says why each lead got its label.
    said, why = "by reason", labels.get("by_reason", {})
    if "unresolved_values" in labels:
        said, why = "unresolved values", labels["unresolved_values"]
    console.print(
        f"Labels ({labels['source']}): {labels['won']:,} won, {labels['lost']:,} lost, {labels['unlabelled']:,} "
        f"unlabelled; {said}: {escape(', '.join(f'{k}: {v:,}' for k, v in why.items()) or '-')}",
        highlight=False,
    )
    created_column = columns.get("created_at")
    if far := report.get("cleaning", {}).get(created_column, {}).get("far_future_dates"):
        console.print(
            f"[yellow]Warning:[/] {far:,} creation date(s) of '{escape(str(created_column))}' lie years after nine "
            'leads in ten (a typo\'s year, "2062" for "2026"): read as missing, so they make no quarter of '
            "their own; fix them in the CRM",
            highlight=False,
        )
    if after := labels.get("created_after_outcome"):
        console.print(
            f"[yellow]Warning:[/] {after['leads']:,} labelled leads were created two days or more after their "
            f"'{escape(after['column'])}': contacts added to an account after its deal closed (a customer's new "
            "colleagues, onboarding contacts), not leads that came to convert or not: left unlabelled",
            highlight=False,
        )
    if empty_outcome := _empty_outcome_warning(report):
        console.print(f"[yellow]Warning:[/] {escape(empty_outcome)}", highlight=False)
    if empty_while_open := _empty_while_open_warning(report):
        console.print(f"[yellow]Warning:[/] {escape(empty_while_open)}", highlight=False)
    if out_of_range := _out_of_range_while_open_warning(report):
        console.print(f"[yellow]Warning:[/] {escape(out_of_range)}", highlight=False)
    if still_open := labels.get("lost_in_open_stage", {}).get("unlabelled"):
        stage = labels["lost_in_open_stage"]
        older = stage["lost_after_horizon"]
        console.print(
            f"[yellow]Warning:[/] {still_open:,} leads the outcome column calls lost are still open in "
            f"'{escape(stage['column'])}' (a stage mapped to mql, sal or sql), within the label horizon of their "
            f"creation: left unlabelled, not lost{f' ({older:,} older ones stay lost)' if older else ''}",
            highlight=False,
        )
    if recycled := labels.get("recycled_not_lost"):
        named = " and ".join(f"'{escape(column)}'" for column in recycled["columns"])
        console.print(
            f"Note: {recycled['unlabelled']:,} leads were recycled to nurture or rejected for wrong timing "
            f"({named}): left unlabelled whatever their age, as the label rule leaves them (the need is there, not "
            "now: no plain loss)",
            highlight=False,
        )
    if undated := labels.get("lost_in_open_stage", {}).get("lost_undated"):
        console.print(
            f"[yellow]Warning:[/] {undated:,} leads the outcome column calls lost are still open in "
            f"'{escape(labels['lost_in_open_stage']['column'])}' (a stage mapped to mql, sal or sql) and have no "
            "creation date, so their age is unknown: they count as lost, as the outcome says (left out, the model "
            "would learn only from closed leads and score too high). A created_at filled for them leaves the young "
            "ones open",
            highlight=False,
        )
    if never := labels.get("open_values", {}).get("unlabelled_undated"):
        console.print(
            f"[yellow]Warning:[/] {never:,} leads hold an open outcome value (neither won nor lost) and have no "
            "creation date, so they never age into lost: unlabelled, and the model learns only from the closed "
            "ones (its scores run high). To label them, map a created_at filled for them or an outcome that says "
            "whether each lead converted, or add the final values among them to won or lost",
            highlight=False,
        )
    if aged := labels.get("open_values", {}).get("lost_after_horizon"):
        younger = labels["open_values"]["unlabelled"]
        console.print(
            f"Open outcome values (neither won nor lost): {aged:,} leads created more than the label horizon before "
            f"the cut-off count as lost (they did not convert within it), {younger:,} younger ones stay unlabelled",
            highlight=False,
        )
    if missing := labels.get("mapped_values_not_found"):
        console.print(
            f"[yellow]Warning:[/] the mapping's outcome values {escape(', '.join(map(repr, missing)))} occur in no row "
            f"of '{labels['column']}': check their spelling against the unresolved values",
            highlight=False,
        )
    later = split.get("labelled_not_mature", 0)
    left_out = f"; {later:,} later labelled leads left out (their quarters are not mature)" if later else ""
    console.print(
        f"Split: {split['kind']}: {escape(split['reason'])}; labelled leads: {split['train_labelled']:,} training, "
        f"{split['calibration_labelled']:,} calibration, {split['test_labelled']:,} test{left_out}",
        highlight=False,
    )
    if split.get("warning"):
        console.print(f"[yellow]Warning:[/] {escape(split['warning'])}", highlight=False)
    derived = [column for column, how in columns["pii_dropped"].items() if how != "dropped"]
    dropped = [column for column, how in columns["pii_dropped"].items() if how == "dropped"]
    console.print(f"Features derived, then the column dropped (e-mail, job title): {_names(derived)}", highlight=False)
    for column, gated in columns["consent"].items():
        console.print(
            f"Consent {escape(column)!r} gates: {_names(gated)} (unknown for leads without a clear yes)",
            highlight=False,
        )
    console.print(
        f"Dropped (PII, after contact, ignored): "
        f"{_names([*dropped, *columns['after_contact_dropped'], *columns['ignored']])}",
        highlight=False,
    )
    console.print(f"Unmapped (ignored): {_names(columns['unmapped'])}", highlight=False)
    if columns.get("absent_unread"):
        console.print(
            f"Mapped but not in this export (after contact, ignored or PII: never read): "
            f"{_names(columns['absent_unread'])}",
            highlight=False,
        )
    console.print(_leakage_table(report["leakage"]["table"]))
    console.print(
        "  one-outcome share: of the labelled leads, those with a value (almost) only one outcome has; "
        "others' AUC: a quick model on all the other columns",
        highlight=False,
    )
    for finding in report["leakage"]["allowed"]:
        console.print(f"  allowed (leakage.allowed): {escape(finding['evidence'])}", highlight=False)
    for note in report["leakage"]["notes"]:
        console.print(f"  note: {escape(note)}", highlight=False)


@app.command("check-export")
def check_export(
    export: Annotated[
        Path | None, typer.Argument(help=f"{EXPORT_HELP} Default: the settings' data.export.", show_default=False)
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="The reviewed mapping file (propose one with leadq inspect). Default: data.mapping."),
    ] = None,
    config: ConfigOption = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report of every choice here.")] = None,
) -> None:
    """Prepare an export through its mapping as training will: clean, label, split and stop on leaking columns.

    The label horizon, as_of and the split's quarters come from the settings (labels, split), as in training;
    without EXPORT and --mapping, the settings' data.export and data.mapping are checked, as train reads them.
    """
    import json

    import pandas as pd

    from pipelines.crm_export.prepare import prepare_export_files
    from pipelines.publish_gate import history_shortfall

    _quiet_libraries()
    if export is None and _settings_file(config) is None:
        console.print(
            "[red]Refused:[/] name the export (leadq check-export EXPORT --mapping MAPPING): there is no mlflow.yml "
            "here and none named (--config, LEADQ_CONFIG) whose data.export it could check",
            highlight=False,
        )
        raise typer.Exit(code=2)
    settings = _settings(config, defaults_without_file=True)  # the export's check needs no MLflow store
    _refuse_data_without_mapping(settings, export, mapping, named_as="EXPORT")
    named = " ".join(
        f"{flag} {shell_word(path)}" for flag, path in (("--data", export), ("--mapping", mapping)) if path
    )
    export, mapping = export or settings.data.export, mapping or settings.data.mapping
    with _export_errors():
        prepared = prepare_export_files(
            export,
            mapping,
            horizon_days=settings.labels.horizon_days,
            as_of=pd.Timestamp(settings.labels.as_of) if settings.labels.as_of else None,
            **settings.split.options(),
        )
    _print_prepared_summary(export, prepared.report)
    if report is not None:
        from pipelines.report import write_report  # atomic, and the folder made (it ended in a traceback)

        write_report(json.dumps(prepared.report, indent=2, ensure_ascii=False), report)
        console.print(f"Report: {report}", highlight=False)
    # the gate counts the leads training learns and is tested on: not a later quarter left out while still open
    used = prepared.y.reindex(prepared.split.train.append(prepared.split.held_out)).dropna()
    if short := history_shortfall(int((used == 1).sum()), int((used == 0).sum()), settings.gate):
        console.print(
            f"[yellow]Warning:[/] too little history for the publish gate: {escape('; '.join(short))} (of the "
            "labelled leads training uses, as the split above says). Training "
            "runs and registers the model, but does not promote it (`--force` does), and its test figures on so "
            "few leads are wide intervals, not a verdict",
            highlight=False,
        )
    with_config = f" --config {shell_word(config)}" if config is not None else ""  # the same settings next
    console.print(f"Ready for training: {' '.join(['leadq train', named]).strip()}{with_config}", highlight=False)


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    insecure_no_auth: Annotated[
        bool, typer.Option("--insecure-no-auth", help="Development only: serve without API keys.")
    ] = False,
) -> None:
    """Serve the registered model over HTTP for the CRM (API keys from LEADQ_API_KEYS=name:key,...)."""
    import uvicorn

    from pipelines.serve import build_service
    from serving.app import parse_api_keys

    _quiet_libraries()
    settings = _settings(config)
    try:
        keys = parse_api_keys(os.environ.get("LEADQ_API_KEYS"))
    except ValueError as error:
        console.print(f"[red]Invalid settings:[/] {error}", highlight=False)
        raise typer.Exit(code=2) from error
    if not keys and not insecure_no_auth:
        console.print(
            "[red]Refused:[/] no API key: set LEADQ_API_KEYS=name:key[,name:key...] "
            "(or pass --insecure-no-auth on a development machine)",
            highlight=False,
        )
        raise typer.Exit(code=2)
    if not keys:
        console.print("[yellow]Warning:[/] serving WITHOUT authentication (--insecure-no-auth)", highlight=False)
    logging.getLogger("leadq.serving").setLevel(logging.INFO)  # who scored what with which version (no PII)
    from serving.model_holder import ModelIntegrityError, ModelNotReadyError

    try:
        # a process of its own: what start-up made is frozen before the first request (ServiceConfig.freeze_objects)
        service = build_service(settings, keys, allow_no_auth=insecure_no_auth, freeze_objects=True)
    except ModelIntegrityError as error:  # the registry has it, but its files cannot be trusted
        console.print(f"[red]Refused:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from error
    except ModelNotReadyError as error:
        console.print(f"[red]Not found:[/] {error}; run `leadq train` (or `make demo`) first", highlight=False)
        raise typer.Exit(code=1) from error
    console.print(f"Serving {settings.mlflow.registered_model} on http://{host}:{port} (docs: /docs)", highlight=False)
    uvicorn.run(service, host=host, port=port, log_level="info", access_log=True)


@app.command()
def demo(
    config: ConfigOption = None,
    leads: Annotated[int | None, typer.Option(help="Leads to generate if no data exists yet.", min=100)] = None,
) -> None:
    """Generate the synthetic CRM where data.export is missing, then train and register the model on it."""
    from pipelines.settings import DEMO_MAPPING

    _quiet_libraries()
    settings = _settings(config)
    export = settings.data.export
    if export.is_file():
        console.print(f"Using the existing CRM export {export}", highlight=False)
    else:
        suffix = export.suffix.lstrip(".")
        _generate(settings, leads, None, None, TableFormat(suffix) if suffix in TableFormat.__members__ else None)
    # generate writes the synthetic CRM's mapping next to its tables, naming them in their format (csv or
    # parquet); the shipped default names Parquet files.
    written = export.parent / "mapping.yml"
    _train(settings, export, written if settings.data.mapping == DEMO_MAPPING and written.is_file() else None)


def print_quarter_demo(result: QuarterDemoResult) -> None:
    """What the quarter's loop found: scores, the audit's verdict, drift and funnel, the retrain, where to look."""
    audit, retrain, settings = result.audit, result.retrain, result.settings
    console.print(
        f"{result.quarter}: {result.leads_scored:,} leads scored over HTTP, {result.mql_rate:.1%} of them MQLs "
        f"(sales capacity scaled to this world: {settings.threshold.mqls_per_month:,} MQLs a month).",
        highlight=False,
    )
    _print_verdict(audit.verdict)
    drifted = ", ".join(f"{row['feature']} (PSI {row['psi']:.2f})" for row in audit.figures["drift"][:3])
    console.print(f"Most drifted features: {drifted or 'none profiled'}", highlight=False)
    judged = [row for row in audit.figures["funnel_by_source"] if row["sql_flag"] != "too few"]
    if judged:
        worst = min(judged, key=lambda row: row["mql_to_sql"])
        console.print(
            f"Lowest MQL->SQL: {worst['segment']} ({worst['mql_to_sql']:.1%} of {worst['mqls']:,} MQLs)",
            highlight=False,
        )
    verdict = "[green]promoted[/]" if retrain.decision.promote else "[yellow]not promoted[/]"
    console.print(
        f"Retrain: challenger version {retrain.challenger_version} {verdict}; "
        f"'{settings.mlflow.champion_alias}' is version {retrain.served_version}; compared on "
        f"{', '.join(retrain.quarters) or '-'} (out of time).",
        highlight=False,
    )
    for reason in retrain.decision.reasons:
        console.print(f"  - {reason}", highlight=False)
    console.print(f"Audit report: {audit.html_path} (figures: {audit.json_path})", highlight=False)
    console.print(f"MLflow UI: {mlflow_ui_command(settings.mlflow.tracking_uri)}", highlight=False)


@app.command("demo-quarter")
def demo_quarter(
    config: ConfigOption = None,
    leads: Annotated[
        int, typer.Option(help="Leads in the whole synthetic world (history, the quarter, its resolution).", min=5_000)
    ] = 60_000,
    workspace: Annotated[
        Path, typer.Option(help="The demo's own folder (MLflow store, data, scoring log, reports); wiped first.")
    ] = Path(".leadq/quarter-demo"),
) -> None:
    """The quarterly loop on synthetic data: train, serve a drifted quarter over HTTP, audit it, retrain."""
    from pipelines.demo.quarter_demo import WorkspaceError, run_quarter_demo

    _quiet_libraries()
    settings = _settings(config)
    try:
        with _friendly_errors():
            result = run_quarter_demo(settings, workspace, n_leads=leads, report=_step)
    except WorkspaceError as error:
        console.print(f"[red]Refused:[/] {error}", highlight=False)
        raise typer.Exit(code=2) from error
    print_quarter_demo(result)


if __name__ == "__main__":  # python -m pipelines.cli, as the leadq script
    app()

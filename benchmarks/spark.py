"""Spark on one machine: ``leadq score --engine spark --master local[2]`` next to ``leadq score`` on the same file.

The export is generated and a model trained and registered on it first (not timed). Both engines then run as a
user runs them, each in a fresh process on the command line, in turns (local, Spark, local, Spark, ...) so that a
change of the machine's load falls on both; the medians are reported. Each summary gives the rate once set up (for
Spark the set-up counts the JVM's start and shipping the model, the rate the job itself) and the process's wall time
the whole command. The last outputs of the two are compared row for row.

Beside them, ``mlflow.pyfunc.spark_udf`` on the same leads (its pyfunc: ``LeadScorer.explain``, probability and
reasons per lead) in this process, the same master: what MLflow's own Spark path costs. It is not the same scoring
(no mapping, field checks, rejects, repeated ids or personal-data scrub; asked for text, MLflow turns every output
column to text and returns the first, the probability), so only its speed is compared.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.train_scale import WORK, export_overrides, write_synthetic_export
from pipelines.settings import load_settings

BIN = Path(sys.executable).parent
SPARK_LEADS = 100_000
RUNS = 3
MASTER = "local[2]"
# leadq score's summary: "... in 41.2 s (model loaded in 3.1 s, then 2,423 leads/s): ..."
_SUMMARY = re.compile(
    r"in (?P<seconds>[\d.]+) s \(model loaded in (?P<loading>[\d.]+) s, then (?P<rate>[\d,]+) leads/s"
)


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-4000:]}"
        )
    return result


def _time_score(export: Path, out: Path, config: Path, env: dict[str, str], *options: str) -> dict[str, float]:
    """``leadq score`` in a fresh process: its rate once set up, its set-up and the whole command's wall time."""
    command = [str(BIN / "leadq"), "score", str(export), "--out", str(out), "--config", str(config), *options]
    started = time.perf_counter()
    result = _run(command, env)
    wall = time.perf_counter() - started
    summary = _SUMMARY.search(" ".join(result.stdout.split()))
    if summary is None:
        raise RuntimeError(f"leadq score printed no summary:\n{result.stdout[-2000:]}")
    return {"rows_per_s": float(summary["rate"].replace(",", "")), "wall_s": wall, "setup_s": float(summary["loading"])}


def _spark_scores(folder: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(path) for path in sorted(folder.glob("part-*.parquet"))], ignore_index=True)


def compare_outputs(spark_out: Path, local_out: Path) -> dict[str, Any]:
    """Spark's scores against leadq score's: the same rows in the same order, every column equal but the run's
    time, the probability within 1e-9."""
    on_spark, local = _spark_scores(spark_out), pd.read_parquet(local_out)
    same_shape = list(on_spark.columns) == list(local.columns) and len(on_spark) == len(local)
    others = [c for c in local.columns if c not in ("leadq_probability", "leadq_scored_at")]
    equal = same_shape and on_spark[others].equals(local[others])
    gap = float(np.max(np.abs(on_spark["leadq_probability"] - local["leadq_probability"]))) if same_shape else None
    return {"rows": len(on_spark), "identical": bool(equal and gap is not None and gap <= 1e-9), "max_gap": gap}


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def benchmark_spark_udf(tracking_uri: str, model_name: str, export: Path, runs: int) -> dict[str, float]:
    """``mlflow.pyfunc.spark_udf`` on the export's model fields (as text, as its signature takes them), forced with
    Spark's ``noop`` writer: leads per second of the job, median of ``runs`` (the first run warms the workers)."""
    import mlflow
    from pyspark.sql import functions as sf

    from pipelines.score_spark import nanosecond_columns, spark_session
    from serving.model_holder import ModelHolder, input_roles_of

    holder = ModelHolder(tracking_uri, model_name, "champion")
    holder.reload()
    fields = list(input_roles_of(holder.current.scorer))
    spark = spark_session(MASTER, app_name="leadq-bench-spark-udf")
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", str(bool(nanosecond_columns(export))).lower())
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    started = time.perf_counter()
    udf = mlflow.pyfunc.spark_udf(spark, f"models:/{model_name}@champion", result_type="string", env_manager="local")
    setup = time.perf_counter() - started
    leads = spark.read.parquet(str(export)).select(*(sf.col(field).cast("string").alias(field) for field in fields))
    leads = leads.repartition(2 * spark.sparkContext.defaultParallelism).cache()
    n_leads = leads.count()
    timings = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        leads.select(udf(*fields).alias("prediction")).write.format("noop").mode("overwrite").save()
        timings.append(time.perf_counter() - started)
    spark.stop()
    return {"rows_per_s": n_leads / statistics.median(timings[1:]), "setup_s": setup, "leads": float(n_leads)}


def benchmark_spark(config: Path, n_leads: int = SPARK_LEADS, runs: int = RUNS) -> dict[str, Any]:
    """``leadq score --engine spark --master local[2]`` against ``leadq score`` on ``n_leads`` synthetic leads with
    reasons, ``runs`` times each in turns, and ``mlflow.pyfunc.spark_udf`` on the same leads."""
    folder = WORK / f"spark-{n_leads}"
    paths = write_synthetic_export(load_settings(config), n_leads, folder)
    overrides = export_overrides(folder, paths)
    env = {**os.environ, **overrides, "COLUMNS": "200", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    _run([str(BIN / "leadq"), "train", "--config", str(config), "--force"], env)  # not timed
    load_before = os.getloadavg()[0]
    local_out, spark_out = folder / "scores-local.parquet", folder / "scores-spark.parquet"
    local, on_spark = [], []
    for _ in range(runs):
        local.append(_time_score(paths["leads"], local_out, config, env))
        on_spark.append(_time_score(paths["leads"], spark_out, config, env, "--engine", "spark", "--master", MASTER))
    equality = compare_outputs(spark_out, local_out)
    (WORK / "spark-engines.json").write_text(json.dumps({"local": local, "spark": on_spark, "equality": equality}))
    udf = benchmark_spark_udf(
        overrides["LEADQ_MLFLOW__TRACKING_URI"], load_settings(config).mlflow.registered_model, paths["leads"], runs
    )
    return {
        "n_leads": n_leads,
        "master": MASTER,
        "runs": runs,
        "local_rows_per_s": _median(local, "rows_per_s"),  # leadq score once the model is loaded
        "local_wall_s": _median(local, "wall_s"),
        "spark_rows_per_s": _median(on_spark, "rows_per_s"),  # the Spark job once Spark is up and the model shipped
        "spark_setup_s": _median(on_spark, "setup_s"),  # model loading, Spark's start, shipping the model
        "spark_wall_s": _median(on_spark, "wall_s"),
        "spark_vs_local": _median(on_spark, "rows_per_s") / _median(local, "rows_per_s"),
        "spark_vs_local_end_to_end": _median(local, "wall_s") / _median(on_spark, "wall_s"),
        "spark_udf_rows_per_s": udf["rows_per_s"],
        "spark_udf_setup_s": udf["setup_s"],
        "equality": equality,
        "all_runs": {"local": local, "spark": on_spark},
        "machine": {"cpus": os.cpu_count(), "load_1min_before": load_before, "load_1min_after": os.getloadavg()[0]},
    }


def spark_rows(spark: dict[str, Any]) -> list[tuple[str, ...]]:
    """The benchmark table's rows: Spark's leads/s next to leadq score's, and spark_udf's, same file and machine."""
    n, master = f"{spark['n_leads']:,}", spark["master"]
    same = "identical row for row" if spark["equality"]["identical"] else "DIFFERENT"
    return [
        (
            f"leadq score --engine spark --master {master}, {n} leads with reasons",
            f"{spark['spark_rows_per_s']:,.0f} leads/s (median of {spark['runs']}; {spark['spark_wall_s']:.0f} s end "
            f"to end, set-up {spark['spark_setup_s']:.0f} s)",
            "leadq score, same file",
            f"{spark['local_rows_per_s']:,.0f} leads/s ({spark['local_wall_s']:.0f} s end to end)",
            f"x{spark['spark_vs_local']:.2f}",
            f"issue 14: measured, output {same}",
        ),
        (
            f"mlflow.pyfunc.spark_udf on {master}, {n} leads (explain; no checks or rejects)",
            f"{spark['spark_udf_rows_per_s']:,.0f} leads/s",
            "leadq score --engine spark",
            f"{spark['spark_rows_per_s']:,.0f} leads/s",
            f"x{spark['spark_udf_rows_per_s'] / spark['spark_rows_per_s']:.2f}",
            "not the same output: speed only",
        ),
    ]

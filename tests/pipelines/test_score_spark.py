"""``leadq score --engine spark``: Spark's output equals ``run_score``'s, row for row, on a real Spark (local[2]).

A real MLflow registry holds the model trained on the synthetic CRM; one SparkSession serves the module. Without a
Java runtime the module is skipped locally (``make java`` installs one); with ``LEADQ_REQUIRE_SPARK=1`` (CI) it
fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.score import ScoreOptions, output_columns, run_score
from pipelines.settings import Settings
from pipelines.training import TrainingOutcome, log_outcome
from tests.builders import settings_with_store

pytestmark = pytest.mark.slow
REQUIRE_SPARK_VARIABLE = "LEADQ_REQUIRE_SPARK"  # "1" (CI): no Java is a failure, not a skip
REPORT_HTML = "<html><body>spark score tests: no explanation report</body></html>"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[2] SparkSession for the module (Java 17+ needed: skipped locally without it, failed in CI)."""
    from pipelines.score_spark import java_major_version, spark_session

    found = java_major_version()
    if found is None or found < 17:
        why = f"no Java 17+ runtime for Spark (found: {found or 'none'}); `make java` installs one"
        if os.environ.get(REQUIRE_SPARK_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_SPARK_VARIABLE}=1 but {why}")
        pytest.skip(why)
    session = spark_session("local[2]", app_name="leadq-test")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def registry(trained: TrainingOutcome, fast_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose registry holds the synthetic export's model as version 1, aliased champion."""
    settings = settings_with_store(fast_settings, tmp_path_factory.mktemp("spark-registry"))
    assert log_outcome(trained, settings, REPORT_HTML).version == "1"
    return settings


@pytest.fixture(scope="module")
def export(synthetic_crm: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthetic leads as a Parquet export with rows that cannot be scored and ids exported twice."""
    sent = synthetic_crm.leads.iloc[2000:2600].reset_index(drop=True).copy()
    sent["company_size"] = sent["company_size"].astype("string")  # a CRM that exports sizes as text
    ids = sent["lead_id"].astype(object)
    sent.loc[2, "company_size"] = "lots"  # a count that is no number
    ids[4] = None  # no id
    ids[6] = ids[0]  # the id of row 1 again, in the same chunk
    ids[451] = ids[1]  # the id of row 2 again, in another task
    sent.loc[20, "company_size"] = "lots"  # exported twice: first unreadable, then readable (row 521 is scored)
    ids[520] = ids[20]
    sent.loc[30, "website_visits"] = -3  # a negative count
    sent.loc[9, "campaign"] = "jane.doe@example-mail.de"  # personal data in a category: scrubbed, not rejected
    sent["lead_id"] = ids
    path = tmp_path_factory.mktemp("spark-export") / "leads.parquet"
    sent.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def config(registry: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A settings file on the registry, for the command line."""
    path = tmp_path_factory.mktemp("spark-config") / "mlflow.yml"
    path.write_text(
        f"mlflow: {{tracking_uri: '{registry.mlflow.tracking_uri}', artifact_location: "
        f"'{registry.mlflow.artifact_location}'}}\n",
        encoding="utf-8",
    )
    return path


def _options(out: Path, **changes: Any) -> ScoreOptions:
    return ScoreOptions(out=out, rejects=out.with_name(f"{out.stem}.rejects.csv"), **changes)


def _parts(folder: Path, suffix: str) -> pd.DataFrame:
    """Spark's folder of part files read in name order (the export's row order)."""
    files = sorted(folder.glob(f"part-*{suffix}"))
    assert files, f"no part files in {folder}"
    if suffix == ".parquet":
        return pd.concat([pd.read_parquet(path) for path in files], ignore_index=True)
    frames = [pd.read_csv(path, dtype={"lead_id": str}) for path in files]
    return pd.concat([frame for frame in frames if len(frame)], ignore_index=True)  # a task may have scored none


def _assert_same_scores(spark_scores: pd.DataFrame, local_scores: pd.DataFrame) -> None:
    assert list(spark_scores.columns) == list(local_scores.columns)
    assert spark_scores.dtypes.to_dict() == local_scores.dtypes.to_dict()
    assert spark_scores["leadq_scored_at"].nunique() == local_scores["leadq_scored_at"].nunique() == 1
    np.testing.assert_allclose(spark_scores["leadq_probability"], local_scores["leadq_probability"], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(
        spark_scores.drop(columns=["leadq_scored_at", "leadq_probability"]),
        local_scores.drop(columns=["leadq_scored_at", "leadq_probability"]),
    )


@pytest.mark.parametrize("reasons", [True, False], ids=["reasons", "no-reasons"])
def test_spark_scores_and_rejects_equal_the_single_machine_run_row_for_row(
    spark: Any, registry: Settings, export: Path, tmp_path: Path, reasons: bool
) -> None:
    from pipelines.score_spark import run_spark_score

    local = run_score(registry, export, _options(tmp_path / "local.parquet", chunk_size=128, reasons=reasons))
    # chunks of 64 rows in 4 tasks: repeats and their first rows fall in other chunks and tasks than run_score's
    on_spark = run_spark_score(
        registry, export, _options(tmp_path / "spark.parquet", chunk_size=64, reasons=reasons), partitions=4
    )

    spark_scores, local_scores = _parts(tmp_path / "spark.parquet", ".parquet"), pd.read_parquet(local.out)
    assert list(spark_scores.columns) == output_columns("lead_id", 3, reasons)
    assert len(spark_scores) == on_spark.scored == local.scored == 600 - 6
    _assert_same_scores(spark_scores, local_scores)
    spark_rejects = _parts(tmp_path / "spark.rejects.csv", ".csv")
    local_rejects = pd.read_csv(local.rejects, dtype={"lead_id": str})
    pd.testing.assert_frame_equal(spark_rejects, local_rejects)
    assert spark_rejects[["row", "field"]].values.tolist() == [
        [3, "company_size"],
        [5, "lead_id"],
        [7, "lead_id"],
        [21, "company_size"],
        [31, "website_visits"],
        [452, "lead_id"],
    ]
    assert spark_rejects["why"].tolist()[2] == "the id is also in row 1: only the first row of an id is scored"
    assert spark_rejects["why"].tolist()[5] == "the id is also in row 2: only the first row of an id is scored"
    assert (on_spark.rejected_rows, on_spark.mqls, on_spark.grades) == (local.rejected_rows, local.mqls, local.grades)
    assert on_spark.version == "1"
    assert not any(b"jane.doe" in path.read_bytes() for path in (tmp_path / "spark.parquet").iterdir())


def test_spark_with_since_and_csv_output_scores_the_same_leads(
    spark: Any, registry: Settings, export: Path, tmp_path: Path
) -> None:
    from datetime import date

    from pipelines.score_spark import run_spark_score

    since = date.fromisoformat(str(pd.read_parquet(export)["created_at"].astype(str).sort_values().iloc[300])[:10])
    local = run_score(registry, export, _options(tmp_path / "local.parquet", since=since))
    on_spark = run_spark_score(
        registry, export, _options(tmp_path / "spark.csv", since=since, fmt="csv", chunk_size=100), partitions=3
    )

    spark_scores = _parts(tmp_path / "spark.csv", ".csv")
    local_scores = pd.read_parquet(local.out)
    assert 0 < on_spark.scored == local.scored == len(spark_scores) < 590
    assert on_spark.before_since == local.before_since > 0
    assert spark_scores["lead_id"].tolist() == local_scores["lead_id"].tolist()
    np.testing.assert_allclose(spark_scores["leadq_probability"], local_scores["leadq_probability"], atol=1e-9)
    assert spark_scores["leadq_grade"].tolist() == local_scores["leadq_grade"].tolist()


def test_the_command_line_scores_on_spark_and_refuses_an_export_that_is_not_parquet(
    spark: Any, config: Path, export: Path, tmp_path: Path
) -> None:
    command = ["score", str(export), "--out", str(tmp_path / "scores.parquet"), "--config", str(config)]
    scored = CliRunner().invoke(app, [*command, "--engine", "spark", "--master", "local[2]"])

    assert scored.exit_code == 0, scored.output
    said = " ".join(scored.output.split())
    assert "Scored 594 leads with leadq-lead-conversion version 1" in said
    assert "Rejected 6 rows" in said
    assert len(_parts(tmp_path / "scores.parquet", ".parquet")) == 594
    assert len(_parts(tmp_path / "scores.rejects.csv", ".csv")) == 6

    pd.read_parquet(export).to_csv(tmp_path / "leads.csv", index=False)
    refused = CliRunner().invoke(
        app,
        [
            "score",
            str(tmp_path / "leads.csv"),
            "--out",
            str(tmp_path / "csv.parquet"),
            "--config",
            str(config),
            "--engine",
            "spark",
        ],
    )
    assert refused.exit_code == 1
    assert "the Spark engine reads Parquet" in " ".join(refused.output.split())
    assert not (tmp_path / "csv.parquet").exists()


def test_a_failed_spark_run_leaves_no_output_and_keeps_the_old_one(
    spark: Any, registry: Settings, export: Path, tmp_path: Path, trained: TrainingOutcome
) -> None:
    """The model files reach the executors changed: each executor's digest check refuses them mid-job."""
    from pipelines import score_spark

    assert log_outcome(trained, registry, REPORT_HTML).version == "2"  # files no executor has loaded yet
    out = tmp_path / "scores.parquet"
    out.mkdir()
    (out / "part-00000-yesterday.parquet").write_bytes(b"yesterday's scores")
    (tmp_path / "scores.rejects.csv").write_text("yesterday's rejects", encoding="utf-8")
    add_file = spark.sparkContext.addFile

    def changed_on_the_way(path: str, recursive: bool = False) -> None:
        model_file = next(file for file in sorted(Path(path).rglob("*")) if file.is_file() and file.name != "MLmodel")
        shipped = tmp_path / "shipped" / Path(path).name  # the same name: the executors look it up by name
        shutil.copytree(path, shipped)
        (shipped / model_file.relative_to(path)).write_bytes(model_file.read_bytes() + b"\0")
        add_file(str(shipped), recursive)

    spark.sparkContext.addFile = changed_on_the_way
    try:
        with pytest.raises(Exception, match="do not match the artifact_sha256"):
            score_spark.run_spark_score(registry, export, _options(out, version="2"), partitions=2)
    finally:
        spark.sparkContext.addFile = add_file

    assert [path.name for path in out.iterdir()] == ["part-00000-yesterday.parquet"]
    assert (tmp_path / "scores.rejects.csv").read_text(encoding="utf-8") == "yesterday's rejects"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scores.parquet", "scores.rejects.csv", "shipped"]


def test_spark_reads_a_column_named_with_spaces_around_as_the_models_column(
    spark: Any, registry: Settings, export: Path, tmp_path: Path
) -> None:
    from pipelines.score_spark import run_spark_score

    spaced = tmp_path / "spaced.parquet"
    pd.read_parquet(export).head(60).rename(columns={"industry": "industry "}).to_parquet(spaced, index=False)

    local = run_score(registry, spaced, _options(tmp_path / "local.parquet"))
    on_spark = run_spark_score(registry, spaced, _options(tmp_path / "spark.parquet"), partitions=2)

    assert on_spark.scored == local.scored > 0
    spark_scores, local_scores = _parts(tmp_path / "spark.parquet", ".parquet"), pd.read_parquet(local.out)
    np.testing.assert_allclose(spark_scores["leadq_probability"], local_scores["leadq_probability"], atol=1e-9)


def test_spark_leaves_out_the_rows_the_mapping_excludes_as_the_single_machine_run(
    spark: Any, registry: Settings, export: Path, tmp_path: Path
) -> None:
    from pipelines.demo.synthetic import demo_mapping_text
    from pipelines.score_spark import run_spark_score

    with_status = tmp_path / "deals.parquet"
    leads = pd.read_parquet(export).head(60)
    leads.assign(status=np.resize(["Won", "Lost", " deleted", None], len(leads))).to_parquet(with_status, index=False)
    mapping = tmp_path / "mapping.yml"
    outcome = "  status: {role: outcome, won: [Won], lost: [Lost], excluded: [Deleted]}\n"
    mapping.write_text(demo_mapping_text() + outcome, encoding="utf-8")

    local = run_score(registry, with_status, _options(tmp_path / "local.parquet", mapping=mapping))
    on_spark = run_spark_score(
        registry, with_status, _options(tmp_path / "spark.parquet", mapping=mapping), partitions=2
    )

    spark_scores, local_scores = _parts(tmp_path / "spark.parquet", ".parquet"), pd.read_parquet(local.out)
    assert on_spark.scored == local.scored == len(local_scores) > 0
    assert local.notes[-1].startswith("deals.parquet: 15 row(s) whose outcome the mapping lists under excluded")
    assert spark_scores["lead_id"].tolist() == local_scores["lead_id"].tolist()
    np.testing.assert_allclose(spark_scores["leadq_probability"], local_scores["leadq_probability"], atol=1e-9)

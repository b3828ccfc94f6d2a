"""``leadq score --engine spark``: the same scoring as ``leadq score``, as a Spark job over a Parquet export.

Spark is the engine for more than one machine. The job scores each lead exactly as ``run_score`` does, by calling
the same steps (``pipelines.score``) inside Spark's Arrow batches (``mapInArrow``): the same model (loaded by
``load_scoring_model`` on the driver, its files shipped to the executors and checked there against the digest
recorded at registration), the same mapping, the same per-lead checks (``check_chunk``), the same scorer call
(``score_checked``), the same ``leadq_*`` columns and types, the same rejects and one ``leadq_scored_at`` for the
run. A pandas UDF around the scorer, not ``mlflow.pyfunc.spark_udf``: the pyfunc returns one value per lead and
knows nothing of the export's mapping, field checks, rejects or repeated ids (see the README for the timings)::

    read the Parquet export -> number its rows (file order, _metadata.row_index) -> ranges of rows per task
    -> [--since: the creation dates' day/month evidence over the whole column]
    -> pass 1: check_chunk on every row, keep (id, row) of the readable ones -> each repeated id's first row
    -> pass 2: check_chunk again, each id's repeats judged by its first readable row over the whole export
       -> score_checked -> scores and rejects
    -> written by Spark under temporary folders, renamed over OUT and its rejects at the end

A repeated id is decided over the whole export as one sequential run decides it: its first readable row is
scored, every later readable row is rejected as a repeat (the first pass finds the first rows; the second hands
them to ``check_chunk`` through its ``IdRegister``). Spark writes folders of part files: ``OUT`` is a folder of
Parquet (or CSV) part files in the export's row order, the rejects a folder holding one CSV part file.

Paths are local or on a file system every executor mounts at the same place (the renames at the end are the
driver's). Run it with ``leadq score EXPORT --out OUT --engine spark [--master local[2]]`` or
``spark-submit pipelines/score_spark.py EXPORT --out OUT ...`` (the same options as ``leadq score``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from models.cleaning import DateOrderEvidence, date_order_evidence, mark_missing
from models.feature_text import Language
from models.scorer import LeadScorer
from pipelines.crm_export.mapping import ExportMapping, normalize_value, padding_matches
from pipelines.score import (
    FieldChecker,
    IdRegister,
    ScoreOptions,
    ScoreSummary,
    ScoringModel,
    check_chunk,
    check_header,
    load_scoring_model,
    output_columns,
    reject_columns,
    required_columns,
    score_checked,
    scoring_model,
)
from pipelines.settings import Settings
from serving.model_holder import verify_model_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW = "_leadq_row"  # the export's row number (1: the first row after the header), as run_score numbers rows
_FIRST = "_leadq_first_row"  # a repeated id's first readable row (null: the id is not repeated)
_KIND, _SEQ = "_leadq_kind", "_leadq_seq"  # pass 2's rows: a score, a reject (in order), or a chunk's tally
_TEMPORARY = ".leadq-tmp"
_SPARK_TYPES = {  # the output's types, as TableWriter writes them; every other column is text
    "leadq_probability": "double",
    "leadq_score": "bigint",
    "leadq_is_mql": "boolean",
    "leadq_respond_within_hours": "double",
}


class SparkUnavailableError(RuntimeError):
    """pyspark is not installed, or no Java runtime it can start is on the machine."""


# --- the model on the executors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedModel:
    """What an executor needs to rebuild the ``ScoringModel``: the model files' name among the job's files (Spark
    ships them, ``SparkFiles``), their recorded digest, and the plain parts. The scorer and the request schema (a
    pydantic class made at run time, which does not pickle) are rebuilt on the executor from the checked files."""

    files: str
    digest: str
    name: str
    version: str
    mapping: ExportMapping
    top_k: int
    language: Language | None


_LOADED: dict[str, ScoringModel] = {}  # per Python worker: Spark reuses workers, so each loads the model once
_SHIPPED: dict[str, Path] = {}  # per driver: model files already added to the job (Spark refuses a name twice)


def _ship_model(spark: SparkSession, settings: Settings, model: ScoringModel) -> ShippedModel:
    """Download the version's files once, check them against the registered digest, and add them to the job."""
    import mlflow

    from models.mlflow_model import DIGEST_TAG

    uri, name = settings.mlflow.tracking_uri, model.name
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    digest = str(client.get_model_version(name, model.version).tags.get(DIGEST_TAG) or "")
    files = f"leadq-model-{model.version}-{digest[:16]}"
    if files not in _SHIPPED:
        folder = Path(tempfile.mkdtemp(prefix="leadq-spark-model-")) / files
        atexit.register(shutil.rmtree, folder.parent, True)
        mlflow.set_registry_uri(uri)
        local = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{model.version}", dst_path=str(folder)))
        verify_model_files(local, digest, name, model.version)
        spark.sparkContext.addFile(str(local), recursive=True)
        _SHIPPED[files] = local
    return ShippedModel(files, digest, name, model.version, model.mapping, model.top_k, model.language)


def executor_model(shipped: ShippedModel) -> ScoringModel:
    """The ``ScoringModel`` on an executor, from the job's copy of the model files (checked against the digest)."""
    key = f"{shipped.files}/{shipped.top_k}/{shipped.language}"
    if key not in _LOADED:
        import mlflow
        from pyspark import SparkFiles

        local = Path(SparkFiles.get(shipped.files))
        verify_model_files(local, shipped.digest, shipped.name, shipped.version)
        scorer: LeadScorer = mlflow.pyfunc.load_model(str(local)).unwrap_python_model().scorer
        _LOADED[key] = scoring_model(
            scorer, shipped.name, shipped.version, shipped.mapping, shipped.top_k, shipped.language
        )
    return _LOADED[key]


# --- the steps inside Spark's batches -------------------------------------------------------------------------------


class FirstRows(IdRegister):
    """An ``IdRegister`` that knows each repeated id's first readable row over the whole export (the first pass).

    A run of rows is judged as the one sequential run judges it: the first rows are seen first, so a later row of
    the id is a repeat of its first row and the first row itself is scored. It also keeps the rows it let through,
    which are the chunk's scored leads in order (``check_chunk`` asks it about readable rows only).
    """

    def __init__(self, first_rows: dict[int, int] | None = None, judge: bool = True):
        super().__init__()
        self.first_rows = first_rows or {}  # row -> the first readable row of its id (repeated ids only)
        self.judge = judge  # False (the first pass): no row is a repeat yet
        self.passed: list[np.ndarray] = []

    def repeated(self, ids: np.ndarray, rows: np.ndarray) -> dict[int, str]:
        if not self.judge:
            self.passed.append(np.column_stack([ids.astype(object), rows.astype(object)]))
            return {}
        seeded = [
            (lead_id, self.first_rows[row]) for lead_id, row in zip(ids, rows, strict=True) if row in self.first_rows
        ]
        seed_ids = np.array([lead_id for lead_id, _ in seeded] + list(ids), dtype=object)
        seed_rows = np.array([first for _, first in seeded] + list(rows), dtype=np.int64)
        repeats = {p - len(seeded): why for p, why in super().repeated(seed_ids, seed_rows).items() if p >= len(seeded)}
        self.passed.append(np.array([row for p, row in enumerate(rows.tolist()) if p not in repeats], dtype=np.int64))
        return repeats


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) positions of the runs of consecutive row numbers: check_chunk numbers a chunk's rows from
    its first one."""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    bounds = [0, *breaks.tolist(), len(rows)]
    return [(bounds[n], bounds[n + 1]) for n in range(len(bounds) - 1) if bounds[n] < bounds[n + 1]]


@dataclass(frozen=True)
class _Job:
    """What the batch functions need on the executors (pickled with them)."""

    shipped: ShippedModel
    needed: list[str]
    options: ScoreOptions
    scored_at: str
    date_order: DateOrderEvidence | None
    nanos: dict[str, str | None]  # nanosecond timestamp columns (Spark reads them as numbers) -> their time zone


def as_read(batch: pa.RecordBatch, nanos: dict[str, str | None]) -> pd.DataFrame:
    """A batch as run_score's reader gives it (pyarrow's ``to_pandas``): nanosecond timestamps, which Spark cannot
    hold and reads as their numbers, back as timestamps."""
    arrays = [
        column.cast(pa.timestamp("ns", tz=nanos[name])) if name in nanos else column
        for name, column in zip(batch.schema.names, batch.columns, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names).to_pandas()


def _batches(batches: Iterator[pa.RecordBatch], job: _Job) -> Iterator[tuple[pd.DataFrame, np.ndarray, Any]]:
    """Each run of consecutive rows of the batches: (its export columns as run_score reads them, its rows, extra)."""
    for batch in batches:
        frame = as_read(batch, job.nanos)
        if frame.empty:
            continue
        rows = frame[ROW].to_numpy(dtype=np.int64)
        for start, stop in _runs(rows):
            yield frame.iloc[start:stop].reset_index(drop=True), rows[start:stop], frame.iloc[start:stop]


def readable_ids(batches: Iterator[pa.RecordBatch], job: _Job) -> Iterator[pa.RecordBatch]:
    """Pass 1: the (id, row) of every row that check_chunk would hand to the scorer if its id were not repeated."""
    model = executor_model(job.shipped)
    checker = FieldChecker(model.lead_model, model.roles)
    schema = pa.schema([("id", pa.string()), (ROW, pa.int64())])
    for chunk, rows, _ in _batches(batches, job):
        register = FirstRows(judge=False)
        check_chunk(chunk[job.needed], rows, model, checker, register, job.options.since, job.date_order)
        passed = np.concatenate(register.passed) if register.passed else np.empty((0, 2), dtype=object)
        yield pa.RecordBatch.from_arrays(
            [pa.array(passed[:, 0].tolist(), pa.string()), pa.array(passed[:, 1].tolist(), pa.int64())], schema=schema
        )


def _pass_two_columns(id_column: str, top_k: int, reasons: bool) -> list[tuple[str, str]]:
    """Pass 2's rows: kind, row, order, the output's columns and the rejects' field and why (one schema for all)."""
    columns = [(_KIND, "string"), (ROW, "bigint"), (_SEQ, "bigint")]
    columns += [(column, _SPARK_TYPES.get(column, "string")) for column in output_columns(id_column, top_k, reasons)]
    return [*columns, ("field", "string"), ("why", "string")]


def _arrow_type(spark_type: str) -> pa.DataType:
    return {"double": pa.float64(), "bigint": pa.int64(), "boolean": pa.bool_()}.get(spark_type, pa.string())


def scored_and_rejected(batches: Iterator[pa.RecordBatch], job: _Job) -> Iterator[pa.RecordBatch]:
    """Pass 2: each run checked and scored as run_score checks and scores a chunk; scores, rejects and tallies."""
    model = executor_model(job.shipped)
    checker = FieldChecker(model.lead_model, model.roles)
    columns = _pass_two_columns(model.id_column, model.top_k, job.options.reasons)
    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in columns])
    for chunk, rows, raw in _batches(batches, job):
        first = raw[_FIRST].to_numpy()
        known = {int(row): int(f) for row, f in zip(rows.tolist(), first.tolist(), strict=True) if pd.notna(f)}
        register = FirstRows(known)
        checked = check_chunk(chunk[job.needed], rows, model, checker, register, job.options.since, job.date_order)
        scores = score_checked(model, checked, job.scored_at, job.options.reasons)
        scored_rows = np.concatenate(register.passed) if register.passed else np.empty(0, dtype=np.int64)
        if len(scored_rows) != len(scores):  # pragma: no cover - check_chunk asks the register about every scored row
            raise RuntimeError(f"rows {rows[0]}-{rows[-1]}: {len(scores)} scores for {len(scored_rows)} scored rows")
        scores = scores.assign(**{_KIND: "score", ROW: scored_rows, _SEQ: 0})
        rejects = pd.DataFrame(
            {
                _KIND: "reject",
                ROW: [reject.row for reject in checked.rejects],
                _SEQ: range(len(checked.rejects)),
                model.id_column: [reject.lead_id for reject in checked.rejects],
                "field": [reject.field for reject in checked.rejects],
                "why": [reject.why for reject in checked.rejects],
            }
        )
        tally = pd.DataFrame({_KIND: ["left_out"], ROW: [checked.before_since], _SEQ: [0]})  # rows before --since
        for part in (scores, rejects, tally):
            if len(part):
                frame = part.reindex(columns=[name for name, _ in columns])
                yield from pa.Table.from_pandas(frame, schema=schema, preserve_index=False).to_batches()


def _evidence(
    batches: Iterator[pa.RecordBatch], column: str, placeholders: list[str], nanos: dict[str, str | None]
) -> Iterator[pa.RecordBatch]:
    """The creation-date column's day/month evidence in each task (summed on the driver, as creation_date_order
    sums it over chunks)."""
    total = DateOrderEvidence()
    for batch in batches:
        marked, _ = mark_missing(as_read(batch, nanos)[column].reset_index(drop=True), placeholders)
        total = total + date_order_evidence(marked)
    fields = ("day_first", "month_first", "dotted_or_dashed", "dates")
    yield pa.RecordBatch.from_pydict({name: [getattr(total, name)] for name in fields})


# --- the driver -------------------------------------------------------------------------------------------------------


def java_major_version() -> int | None:
    """The major version of the Java that Spark would start ($JAVA_HOME/bin/java, else java on PATH), or None."""
    import re
    import subprocess

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    try:
        said = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', said)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8.0": Java 8


def spark_session(master: str | None = None, app_name: str = "leadq-score") -> SparkSession:
    """The running Spark session (spark-submit's), or a new one on ``master`` (default: Spark's, local[*]).

    Raises:
        SparkUnavailableError: pyspark is not installed, or Java could not be started.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkUnavailableError(
            "pyspark is not installed: pip install 'leadq[spark]' (the dev install has it)"
        ) from error
    # Local Python workers run this interpreter (its packages, leadq among them) unless the job says otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).config("spark.sql.session.timeZone", "UTC")
    if master is not None:
        builder = builder.master(master)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # py4j: "Java gateway process exited before sending its port number"
        if "Java gateway" in str(error) or "JAVA_HOME" in str(error):
            raise SparkUnavailableError(
                f"Spark could not start Java ({error}); Spark needs a Java 17+ runtime: `make java` installs one "
                "(Debian: apt-get install openjdk-17-jre-headless), or set JAVA_HOME to one"
            ) from error
        raise
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def numbered_export(spark: SparkSession, export: str) -> DataFrame:
    """The export with each row's number as run_score numbers it: 1 for the first row after the header, in file
    order (a folder of Parquet part files: the files in name order, one after another)."""
    from pyspark.sql import functions as sf

    frame = spark.read.parquet(export).withColumn("_leadq_file", sf.col("_metadata.file_path"))
    frame = frame.withColumn("_leadq_index", sf.col("_metadata.row_index"))
    counts = sorted((row[0], row[1]) for row in frame.groupBy("_leadq_file").count().collect())
    starts, offset = [], 0
    for path, count in counts:
        starts.append((path, offset))
        offset += count
    offsets = spark.createDataFrame(starts, "_leadq_file string, _leadq_offset bigint")
    numbered = frame.join(sf.broadcast(offsets), "_leadq_file")
    return numbered.withColumn(ROW, sf.col("_leadq_offset") + sf.col("_leadq_index") + 1).drop(
        "_leadq_file", "_leadq_index", "_leadq_offset"
    )


def nanosecond_columns(export: Path) -> dict[str, str | None]:
    """The export's nanosecond timestamp columns (pandas writes its timestamps so) and their time zones, from the
    first Parquet file's footer: Spark reads them as numbers (``nanosAsLong``), the batches turn them back."""
    import pyarrow.parquet as pq

    files = [export] if export.is_file() else sorted(export.rglob("*.parquet"))
    if not files:
        return {}
    schema = pq.read_schema(files[0])
    return {
        field.name: field.type.tz for field in schema if pa.types.is_timestamp(field.type) and field.type.unit == "ns"
    }


def _temporary_folder(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{_TEMPORARY}")


def _replace(temporary: Path, path: Path) -> None:
    """Put the finished ``temporary`` folder at ``path``: the old output (a file or a folder) is moved aside first,
    then removed (two renames: a reader in between finds no output, never a half one)."""
    old = path.with_name(f".{path.name}.{os.getpid()}.leadq-old")
    if path.exists():
        os.replace(path, old)
    os.replace(temporary, path)
    if old.is_dir():
        shutil.rmtree(old)
    else:
        old.unlink(missing_ok=True)


def run_spark_score(
    settings: Settings, export: Path, options: ScoreOptions, master: str | None = None, partitions: int | None = None
) -> ScoreSummary:
    """Score every lead of the Parquet ``export`` (a file or a folder of part files) with Spark into the folder
    ``options.out`` (rejects into the folder ``options.rejects``), as ``run_score`` scores it.

    ``partitions``: Spark tasks (default: twice the cluster's cores); ``options.chunk_size``: rows per Arrow batch.

    Raises:
        SparkUnavailableError: no pyspark or no Java. LookupError / MappingError / DataContractError: as run_score.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    from models.contract import DataContractError

    started = time.perf_counter()
    if export.suffix.lower() != ".parquet" and not export.is_dir():
        raise DataContractError(
            [
                f"{export}: the Spark engine reads Parquet (a .parquet file or a folder of part files); score a CSV or "
                ".xlsx export with leadq score's own engine, or convert it to Parquet first"
            ]
        )
    if not export.exists():
        raise DataContractError([f"{export} does not exist; expected a Parquet export"])
    if options.accounts is not None or options.activities is not None or options.log:
        raise DataContractError(
            ["--accounts, --activities and --log are not on the Spark engine yet: score without --engine spark"]
        )
    loading = time.perf_counter()
    model = load_scoring_model(settings, options.version, options.alias, options.mapping, options.language)
    if not model.mapping.ids_in_export:
        raise DataContractError(
            [
                f"version {model.version}'s mapping numbers the leads by their row (lead_ids: row_number), which "
                "the Spark engine does not do: score it without --engine spark, or map an id column"
            ]
        )
    if model.mapping.tables.activities is not None:
        raise DataContractError(
            [
                f"version {model.version} reads engagement computed from an activities table, which the Spark engine "
                "does not compute yet: score it without --engine spark"
            ]
        )
    spark = spark_session(master)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(options.chunk_size))
    shipped = _ship_model(spark, settings, model)
    loading_seconds = time.perf_counter() - loading  # the set-up: the model, Spark's start, the model shipped
    needed = required_columns(model, options.since)
    nanos = nanosecond_columns(export)
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", str(bool(nanos)).lower())
    source = numbered_export(spark, str(export.resolve()))
    spaced = padding_matches([c for c in source.columns if c != ROW], needed)  # "industry " read as "industry"
    source = source.withColumnsRenamed(spaced) if spaced else source
    check_header([c for c in source.columns if c != ROW], needed, export)
    outcome = model.mapping.outcome_column
    excluded = model.mapping.columns[outcome].excluded if outcome is not None else None
    if outcome is not None and excluded and outcome in source.columns:  # deleted records: no leads, as leadq score
        keys = sorted({normalize_value(value) for value in excluded})
        listed = sf.coalesce(sf.lower(sf.trim(sf.col(outcome))).isin(keys), sf.lit(False))  # an empty cell: a lead
        source = source.filter(~listed)
    scored_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    tasks = partitions or 2 * spark.sparkContext.defaultParallelism
    # Ranges of consecutive rows per task, each sorted: check_chunk numbers a chunk's rows from its first one.
    ranged = source.select(*needed, ROW).repartitionByRange(tasks, ROW).sortWithinPartitions(ROW)
    ranged = ranged.persist(StorageLevel.MEMORY_AND_DISK)
    persisted = [ranged]
    try:
        date_order = None
        if options.since is not None and model.mapping.created_at_column is not None:
            created, placeholders = model.mapping.created_at_column, model.mapping.placeholders
            parts = ranged.select(created).mapInArrow(
                lambda batches: _evidence(batches, created, placeholders, nanos),
                "day_first bigint, month_first bigint, dotted_or_dashed bigint, dates bigint",
            )
            date_order = sum((DateOrderEvidence(*row) for row in parts.collect()), DateOrderEvidence())
        job = _Job(shipped, needed, options, scored_at, date_order, nanos)
        readable = ranged.mapInArrow(lambda batches: readable_ids(batches, job), f"id string, {ROW} bigint")
        by_id = Window.partitionBy("id")  # one reading of the first pass (a self-join would run it twice)
        repeats = (
            readable.select(ROW, sf.min(ROW).over(by_id).alias(_FIRST), sf.count("*").over(by_id).alias("_leadq_n"))
            .where("_leadq_n > 1")
            .select(ROW, _FIRST)
        )
        judged = ranged.join(sf.broadcast(repeats), ROW, "left").sortWithinPartitions(ROW)
        schema = ", ".join(
            f"`{name}` {kind}" for name, kind in _pass_two_columns(model.id_column, model.top_k, options.reasons)
        )
        results = judged.mapInArrow(lambda batches: scored_and_rejected(batches, job), schema)
        results = results.persist(StorageLevel.MEMORY_AND_DISK)
        persisted.append(results)
        summary = _write(results, model, options)
    finally:
        for frame in persisted:
            frame.unpersist()
    return ScoreSummary(
        name=model.name,
        version=model.version,
        out=options.out,
        rejects=options.rejects,
        seconds=time.perf_counter() - started,
        loading_seconds=loading_seconds,
        read_whole=None,
        **summary,
    )


def _write(results: DataFrame, model: ScoringModel, options: ScoreOptions) -> dict[str, Any]:
    """Write the scores and rejects under temporary folders, rename them over the targets, and tally the run."""
    from pyspark.sql import functions as sf

    scores = results.where(sf.col(_KIND) == "score").select(
        *output_columns(model.id_column, model.top_k, options.reasons)
    )
    rejects = (
        results.where(sf.col(_KIND) == "reject")
        .coalesce(1)
        .sortWithinPartitions(ROW, _SEQ)
        .select(sf.col(ROW).alias("row"), *reject_columns(model.id_column)[1:])
    )
    out, rejects_out = _temporary_folder(options.out), _temporary_folder(options.rejects)
    try:
        for path in (options.out, options.rejects):
            path.parent.mkdir(parents=True, exist_ok=True)
        writer = scores.write.mode("overwrite")
        if options.fmt == "csv":
            writer.option("header", True).csv(str(out))
        else:
            writer.parquet(str(out))
        rejects.write.mode("overwrite").option("header", True).csv(str(rejects_out))
        tallies = {
            row[0]: row[1:]
            for row in results.groupBy(_KIND).agg(sf.count("*"), sf.sum(ROW), sf.countDistinct(ROW)).collect()
        }
        grades: dict[str, int] = {}
        if options.reasons:
            grades = {row[0]: int(row[1]) for row in scores.groupBy("leadq_grade").count().collect()}
        mqls = scores.where(sf.col("leadq_is_mql")).count()
        _replace(out, options.out)
        _replace(rejects_out, options.rejects)
    finally:
        for temporary in (out, rejects_out):
            shutil.rmtree(temporary, ignore_errors=True)
    return {
        "scored": int(tallies.get("score", (0, 0, 0))[0]),
        "rejected_rows": int(tallies.get("reject", (0, 0, 0))[2]),
        "before_since": int(tallies.get("left_out", (0, 0, 0))[1] or 0),
        "mqls": int(mqls),
        "grades": dict(sorted(grades.items())),
    }


def main(argv: list[str] | None = None) -> None:
    """``spark-submit pipelines/score_spark.py EXPORT --out OUT [leadq score's options]``: leadq score on the
    Spark engine, on the master spark-submit names."""
    from pipelines.cli import app

    app(["score", *(sys.argv[1:] if argv is None else argv), "--engine", "spark"])


if __name__ == "__main__":
    main()

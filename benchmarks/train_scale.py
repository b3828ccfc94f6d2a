"""Training cost by size: ``run_training`` (read files -> registered model) in a fresh process per size.

Each size is a generated synthetic export written as files (``write_crm`` writes ``mapping.yml`` next to the
tables), trained through ``data.export`` and ``data.mapping`` like any export; generation is not timed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.demo.synthetic import generate_for, write_crm
from pipelines.settings import Settings

WORK = Path(__file__).parent / ".work"


def export_overrides(folder: Path, paths: dict[str, Path]) -> dict[str, str]:
    """Environment overrides that point leadq at a written export and keep its store, reports and logs in ``folder``."""
    return {
        "LEADQ_DATA__EXPORT": str(paths["leads"]),
        "LEADQ_DATA__MAPPING": str(paths["mapping"]),
        "LEADQ_MLFLOW__TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "LEADQ_MLFLOW__ARTIFACT_LOCATION": str(folder / "artifacts"),
        "LEADQ_EXPLANATIONS__REPORTS_DIR": str(folder / "reports"),
        "LEADQ_SERVING__SCORING_LOG_URL": f"sqlite:///{folder / 'scoring_log.db'}",
    }


def write_synthetic_export(settings: Settings, n_leads: int, folder: Path) -> dict[str, Path]:
    """A fresh ``folder`` holding a generated synthetic export of ``n_leads`` leads (Parquet) and its mapping."""
    shutil.rmtree(folder, ignore_errors=True)
    return write_crm(generate_for(settings, n_leads), folder / "data", "parquet")


def _train_in_child(config: Path, overrides: dict[str, str]) -> dict[str, float]:
    """Time the full pipeline (read files -> registered model) in a fresh process, with its peak RSS."""
    code = (
        "import json, logging, resource, time\n"
        "logging.disable(logging.WARNING)\n"
        "started = time.perf_counter()\n"
        "from pipelines.settings import load_settings\n"
        "from pipelines.training import run_training\n"
        f"run_training(load_settings({str(config)!r}))\n"
        "wall = time.perf_counter() - started\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'wall_s': wall, 'peak_rss_mb': peak}))\n"
    )
    env = {**os.environ, **overrides}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"training in a child process failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def benchmark_train_scale(settings: Settings, config: Path, sizes: tuple[int, ...]) -> list[dict[str, float]]:
    """Wall time and peak memory of ``run_training`` by number of leads (data generation not timed)."""
    rows = []
    for n_leads in sizes:
        folder = WORK / f"scale-{n_leads}"
        paths = write_synthetic_export(settings, n_leads, folder)
        rows.append({"n_leads": n_leads, **_train_in_child(config, export_overrides(folder, paths))})
    return rows

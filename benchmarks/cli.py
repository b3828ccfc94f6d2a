"""The command line as a user meets it: start-up of ``leadq --help`` / ``leadq train --help`` and ``leadq train``
end to end on a 10,000-lead synthetic export, each in a fresh process.

Children run the venv's ``leadq`` entry point with Python's bytecode cache allowed (``PYTHONDONTWRITEBYTECODE``
is dropped from their environment) after one untimed warm-up run, as on a user's machine from the second
command on; a sandbox that forbids the cache makes every start-up recompile leadq's own modules (seconds).
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.train_scale import WORK, export_overrides, write_synthetic_export
from pipelines.settings import Settings

BIN = Path(sys.executable).parent
STARTUP_RUNS = 5
TRAIN_RUNS = 3
TRAIN_LEADS = 10_000
# what `leadq train` prints after each step: "v fit LightGBM on 5,247 leads (7.1 s)"
_STEP_LINE = re.compile(r"^v (?P<step>.+) \((?P<seconds>\d+(?:\.\d+)?) s\)$")


def _child_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "COLUMNS": "150", **(overrides or {})}


def _timed_run(command: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system) of one child process, and its output; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(list(command), capture_output=True, text=True, env=env, cwd=cwd, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-4000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


def _summary(walls: list[float], cpus: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "cpu_median_s": statistics.median(cpus),
        "runs_s": walls,
    }


def _repeat(command: Sequence[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    _timed_run(command, env)  # warm-up: bytecode cache and file cache, as from a user's second command on
    timings = [_timed_run(command, env) for _ in range(runs)]
    return _summary([wall for wall, _, _ in timings], [cpu for _, cpu, _ in timings])


def benchmark_cli_startup(runs: int = STARTUP_RUNS) -> dict[str, Any]:
    """Median wall time of ``leadq --help`` and ``leadq train --help`` against ``python -c pass`` (fresh processes)."""
    env = _child_env()
    leadq = str(BIN / "leadq")
    return {
        "python_pass": _repeat([sys.executable, "-c", "pass"], runs, env),
        "help": _repeat([leadq, "--help"], runs, env),
        "train_help": _repeat([leadq, "train", "--help"], runs, env),
    }


def step_seconds(output: str) -> dict[str, float]:
    """The seconds of each step ``leadq train`` printed, by step (lead counts in step names replaced by N)."""
    steps = {}
    for line in output.splitlines():
        if match := _STEP_LINE.match(line.strip()):
            steps[re.sub(r"\d[\d,]*", "N", match["step"])] = float(match["seconds"])
    return steps


def benchmark_cli_train(
    settings: Settings, config: Path, n_leads: int = TRAIN_LEADS, runs: int = TRAIN_RUNS
) -> dict[str, Any]:
    """``leadq train`` end to end in a fresh process on a generated export, through its mapping (median of runs).

    The export is generated once (not timed). A first, untimed run creates the MLflow store (MLflow migrates an
    empty database, seconds that a store pays once) and warms the bytecode and file caches; the timed runs then
    train, log and register into that store, as a user's second ``leadq train`` does. Returns the wall and CPU
    seconds of the timed runs, the first run's wall seconds and, per step, the median seconds ``leadq train``
    printed.
    """
    folder = WORK / f"cli-train-{n_leads}"
    paths = write_synthetic_export(settings, n_leads, folder)
    store = folder / "store"
    store.mkdir(parents=True)
    command = [str(BIN / "leadq"), "train", "--config", str(config)]
    env = _child_env(export_overrides(store, paths))
    first_wall, _, _ = _timed_run(command, env, cwd=store)
    walls, cpus, outputs = [], [], []
    for _ in range(runs):
        wall, cpu, output = _timed_run(command, env, cwd=store)
        walls.append(wall)
        cpus.append(cpu)
        outputs.append(step_seconds(output))
    steps = {step: statistics.median(run[step] for run in outputs if step in run) for step in outputs[0]}
    return {"n_leads": n_leads, **_summary(walls, cpus), "first_run_s": first_wall, "steps_median_s": steps}

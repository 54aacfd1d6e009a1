"""Results folders on disk: written whole or not at all, never silently replaced.

A run writes into a hidden temporary folder beside the target and renames it into place
when every file is complete, so an interrupted run leaves nothing that looks like a
result. Data files hold no timestamps (same config and seed: identical bytes); when and
how the run was made goes to ``run.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from simulator.api import RATIOS, Results, StreamedResults
from simulator.config_file import dump_yaml
from simulator.folders import (
    FolderError,
    absolute,
    check_target,
    free_name,
    make_staging,
    publish,
    remove_stale,
    safe_component,
)
from simulator.folders import ResultsExistError as ResultsExistError
from simulator.streaming import QUANTILE_ACCURACY

#: the config file as written, comments and all (the report reads sources from them)
SOURCE_FILE = "config_source.yaml"


def package_version() -> str:
    try:
        return metadata.version("outreach-sim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _json_number(value: Any) -> Any:
    """JSON has no infinity: write it as the string "inf" (NaN as null)."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


def summary_dict(results: Results | StreamedResults) -> dict[str, Any]:
    """summary.json: strategy -> metric -> statistic -> value."""
    out: dict[str, Any] = {}
    for row in results.summary.to_dict(orient="records"):
        ratio = row["metric"] in RATIOS
        stats = {
            k: _json_number(v)
            for k, v in row.items()
            if k not in ("strategy", "metric") and (ratio or k not in ("pooled", "share_infinite"))
        }
        out.setdefault(str(row["strategy"]), {})[row["metric"]] = stats
    streamed = isinstance(results, StreamedResults)
    return {
        "config": results.config.name,
        "seed": results.seed,
        "replications": results.replications,
        "horizon_months": results.config.horizon_months,
        # streamed runs read percentiles from a sketch, within this relative error
        "percentiles": (
            {"method": "ddsketch", "relative_accuracy": results.quantile_accuracy}
            if streamed
            else {"method": "exact"}
        ),
        "strategies": out,
        "comparisons": [
            {key: _json_number(value) for key, value in row.items()}
            for row in results.comparisons.to_dict(orient="records")
        ],
    }


class MismatchError(FolderError):
    """A results folder whose files are not the ones its run.json recorded."""


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record_problem(meta: dict[str, Any]) -> str | None:
    """What in a run.json is not as `write_results` writes it (a hand-edited file)."""
    for key, low in (("seed", 0), ("replications", 1)):
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            return f"{key}: expected a whole number of at least {low}, got {value!r}"
    files = meta.get("files")
    if files is not None and not (
        isinstance(files, dict) and all(isinstance(v, str) for v in files.values())
    ):
        return "files: expected a mapping of file names to SHA-256 digests"
    command = meta.get("command")
    if command is not None and not isinstance(command, list):
        return f"command: expected a list of words, got {command!r}"
    return None


def check_files(folder: Path, meta: dict[str, Any]) -> None:
    """Refuse a folder whose run.json is not as this tool writes it (edited by hand), or
    whose data files differ from those its run.json recorded (copied in from another
    run, edited, cut short). Folders from before the record of files pass."""
    problem = _record_problem(meta)
    if problem is not None:
        raise MismatchError(
            f"{Path(folder) / 'run.json'}: {problem} (edited?); run it again rather than "
            "trust its record"
        )
    recorded = meta.get("files")
    if recorded is None:
        return
    problems = []
    for name, digest in dict(recorded).items():
        path = Path(folder) / Path(str(name)).name
        if not path.is_file():
            problems.append(f"{path.name} is missing")
        elif file_digest(path) != digest:
            problems.append(f"{path.name} differs")
    if problems:
        raise MismatchError(
            f"{folder}: {', '.join(problems)} from what its run.json recorded (SHA-256): "
            "the files are not all this run's; run it again rather than mix folders"
        )


def default_folder(results_root: Path, config_name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return results_root / f"{safe_component(config_name)}-{stamp}"


def write_results(
    results: Results | StreamedResults,
    folder: Path,
    *,
    force: bool = False,
    command: list[str] | None = None,
    source_text: str | None = None,
    extra: Callable[[Path], None] | None = None,
    numbered: bool = False,
) -> Path:
    """Write a complete results folder at `folder`, atomically, and return where it went.

    `source_text` (the config file as written) is kept as config_source.yaml; `extra` is
    called with the staging folder once the data files are in it (the report), so that
    its files arrive with the rest. A streamed run has no runs.parquet nor monthly.parquet.
    `numbered`: `folder` is a default name, replaced by the next free one if taken."""
    with staged_folder(folder, force, numbered) as staged:
        staging = staged.path
        if isinstance(results, Results):
            results.runs.to_parquet(staging / "runs.parquet", index=False)
            results.monthly.to_parquet(staging / "monthly.parquet", index=False)
        (staging / "summary.json").write_text(
            json.dumps(summary_dict(results), indent=2, sort_keys=False) + "\n"
        )
        config = results.config.model_dump(mode="json")
        (staging / "config.yaml").write_text(dump_yaml(config))  # read back as written
        if source_text is not None:
            (staging / SOURCE_FILE).write_text(source_text, encoding="utf-8")
        meta = {
            "package_version": package_version(),
            "config_name": results.config.name,
            "config_sha256": results.config.digest(),
            "seed": results.seed,
            "replications": results.replications,
            "per_replication_files": isinstance(results, Results),
            "command": command if command is not None else sys.argv,
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            # what the report reads is checked against these (a file copied in is refused)
            "files": {p.name: file_digest(p) for p in sorted(staging.iterdir()) if p.is_file()},
        }
        (staging / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
        if extra is not None:
            extra(staging)
    return staged.folder


@dataclass
class Staged:
    """A folder being written: `path`, the hidden staging folder to write into, and
    `folder`, where it is published (another free name, for a name of the tool's own)."""

    path: Path
    folder: Path


@contextmanager
def staged_folder(folder: Path, force: bool = False, numbered: bool = False) -> Iterator[Staged]:
    """A hidden staging folder beside `folder`, published in its place once the block has
    written everything into it (``simulator.folders.publish``: never over another run's
    folder, and with `force` only over a folder this tool wrote), and removed if the block
    fails or is interrupted. Left-overs of killed runs beside it are removed first.

    `numbered`: the name is the tool's own choice (results/<config>-<time>), so a folder
    already there, or one another run publishes first (runs started together), sends this
    one to the next free name, `-2`, `-3`, ..., rather than failing the run."""
    folder = chosen = absolute(folder)
    if numbered:
        folder = free_name(chosen)
    check_target(folder, force)
    remove_stale(folder.parent)
    staged = Staged(make_staging(folder.parent, folder.name), folder)
    try:
        yield staged
        while True:
            try:
                publish(staged.path, staged.folder, force and not numbered)
                break
            except ResultsExistError:
                if not numbered:
                    raise
                staged.folder = free_name(chosen)
    except BaseException:
        shutil.rmtree(staged.path, ignore_errors=True)
        raise


def write_sweep(
    table: Any,
    plan: Any,
    folder: Path,
    *,
    replications: int,
    seed: int,
    force: bool = False,
    command: list[str] | None = None,
    source_text: str | None = None,
    numbered: bool = False,
) -> Path:
    """Write a sweep's folder atomically: sweep.parquet and sweep.csv (one row per point
    and strategy), best_by_budget.csv, sweep.json, run.json, the config as written, and
    charts/ (heatmap and pareto, PNG and SVG). `numbered` as for `write_results`."""
    from simulator.charts import save
    from simulator.sweep import best_by_budget, default_budgets
    from simulator.sweep_charts import heatmap_chart, pareto_chart

    budgets = plan.sweep.budgets or default_budgets(table)
    with staged_folder(folder, force, numbered) as staged:
        staging = staged.path
        table.to_parquet(staging / "sweep.parquet", index=False)
        table.to_csv(staging / "sweep.csv", index=False)
        best_by_budget(table, budgets).to_csv(staging / "best_by_budget.csv", index=False)
        about = {
            "config": plan.base.name,
            "method": plan.sweep.method,
            "axes": {
                path: plan.sweep.model_dump(mode="json")["axes"][path] for path in plan.sweep.axes
            },
            "points": int(table["point"].nunique()),
            "replications_per_point": replications,
            "seed": seed,
            "budgets": budgets,
            "percentiles": {"method": "ddsketch", "relative_accuracy": QUANTILE_ACCURACY},
        }
        (staging / "sweep.json").write_text(json.dumps(about, indent=2) + "\n")
        meta = {
            "package_version": package_version(),
            "config_name": plan.base.name,
            "config_sha256": plan.base.digest(),
            "seed": seed,
            "replications": replications,
            "command": command if command is not None else sys.argv,
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (staging / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
        if source_text is not None:
            (staging / SOURCE_FILE).write_text(source_text, encoding="utf-8")
        axes = list(plan.sweep.axes)
        grid = plan.sweep.method == "grid"
        save(heatmap_chart(table, axes, plan.metric, grid), staging / "charts", "heatmap")
        save(pareto_chart(table, axes, budgets), staging / "charts", "pareto")
    return staged.folder

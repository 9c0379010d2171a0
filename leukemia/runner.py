"""Run the notebooks with papermill into a run directory; record metrics and a manifest; render HTML.

A run directory holds the executed notebooks, ``metrics.csv`` (one row per model and protocol
computed by the notebooks that ran), ``manifest.json`` (parameters, versions, data checksums, git
commit, times, status) and ``report.html`` (one self-contained page). Parameters are validated
before any notebook starts. Outputs that claim success are written last, under a temporary name
renamed into place, so a failed or interrupted run never leaves one behind.
"""

from __future__ import annotations

import ast
import ctypes
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import papermill
from tqdm.auto import tqdm

from leukemia import config
from leukemia.cluster import ClusterError, connect, scheduler_address
from leukemia.data import DataError
from leukemia.dataset import Dataset
from leukemia.inline import InlineExpressionError
from leukemia.kernels import FigureError, execute_notebook, kill_kernels
from leukemia.provenance import git_commit, provenance_table
from leukemia.rundir import (
    LOGS_FOLDER,
    MANIFEST_FILE,
    METRICS_FILE,
    MODEL_FOLDER,
    REPORT_FILE,
    RESULTS_FOLDER,
    collect_results,
    write_atomic,
)
from leukemia.spec import GOLUB, load_dataset

__all__ = [
    "Parameter",
    "RunError",
    "RunResult",
    "notebook_paths",
    "parameters",
    "run",
    "run_name",
    "select_notebooks",
    "sweep",
    "validate",
]

#: The notebook whose defaults stand for the run when notebooks disagree (e.g. PREPROCESSING).
MODELLING_NOTEBOOK = "05_modeling.ipynb"
#: The notebook (number) that saves the chosen model into the run's ``model/`` folder.
MODEL_NOTEBOOK = "11"


class RunError(RuntimeError):
    """A notebook failed, or the run could not be set up."""


@dataclass(frozen=True)
class Parameter:
    """A notebook parameter: its type, its default in each notebook that declares it, its help."""

    name: str
    type: type
    defaults: dict[str, object]
    help: str

    @property
    def default(self) -> object:
        """The default of the modelling notebook if it declares the parameter, else the first."""
        return self.defaults.get(MODELLING_NOTEBOOK, next(iter(self.defaults.values())))


def notebook_paths() -> list[Path]:
    """The numbered notebooks, in reading order."""
    return sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def select_notebooks(spec: str | Sequence[str] | None = None) -> list[Path]:
    """Notebooks by number prefix (``"04,05"``), all of them for ``None``.

    Raises
    ------
    RunError
        For a prefix that matches no notebook, listing the valid ones.
    """
    paths = notebook_paths()
    if spec is None:
        return paths
    wanted = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    by_prefix = {path.name[:2]: path for path in paths}
    unknown = [w for w in wanted if w.zfill(2) not in by_prefix]
    if unknown or not wanted:
        raise RunError(f"unknown notebook(s) {unknown or wanted}; choose from {sorted(by_prefix)}.")
    return [by_prefix[w.zfill(2)] for w in sorted(set(wanted), key=lambda w: w.zfill(2))]


def parameters(notebooks: Sequence[Path] | None = None) -> dict[str, Parameter]:
    """Every parameter of the given notebooks, read with ``papermill.inspect_notebook``."""
    found: dict[str, Parameter] = {}
    for path in notebooks if notebooks is not None else notebook_paths():
        for name, spec in papermill.inspect_notebook(str(path)).items():
            default = ast.literal_eval(spec["default"])
            if name in found:
                if not isinstance(default, found[name].type):
                    raise RunError(f"{name} has defaults of different types in different notebooks.")
                found[name].defaults[path.name] = default
            else:
                found[name] = Parameter(name, type(default), {path.name: default}, spec["help"] or "")
    return found


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _coerce(parameter: Parameter, value: Any) -> object:
    """Convert a value (a string from the command line, or YAML's typed value) to the default's type."""
    kind = parameter.type
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError
        if kind is int and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if kind is float and not isinstance(value, bool):
            return float(value)
        if kind is str:
            return str(value)
    except (TypeError, ValueError):
        pass
    raise RunError(
        f"parameter {parameter.name}: {value!r} is not a valid {kind.__name__} "
        f"(default {parameter.default!r}; {parameter.help})"
    )


@dataclass(frozen=True)
class DataLimits:
    """What a data set allows: fold counts up to its smallest training class, genes up to what the most
    selective preprocessing (Dudoit's filter, fitted on the training samples) keeps."""

    smallest_class: int
    genes: int
    n_classes: int = 2
    counts: bool = False
    """Raw read counts: the genes are those edgeR's filterByExpr keeps; the preprocessing defaults differ."""

    @classmethod
    def of(cls, data: Dataset) -> DataLimits:
        from leukemia.counts import LogCPM
        from leukemia.preprocessing import DudoitFilter

        counts = data.filter_scale == "counts"
        X, y = data.X_train.to_numpy(), data.y_train.to_numpy()
        gene_filter = LogCPM() if counts else DudoitFilter(input_scale=data.filter_scale)
        kept = int(gene_filter.fit(X, y).support_.sum())
        return cls(
            int(data.y_train.value_counts().min()),
            min(kept, data.X_train.shape[1]),
            len(data.classes),
            counts,
        )

    @property
    def gene_filter(self) -> str:
        """The filter whose genes bound the numbers of genes, in words."""
        return "edgeR's filterByExpr" if self.counts else "Dudoit's filter"


def _check_ranges(
    values: Mapping[str, Any],
    limits: DataLimits | None = None,
    *,
    clustering_preprocessing: str | None = None,
) -> None:
    """Range and choice checks that papermill cannot make; each error names the parameter.

    ``clustering_preprocessing`` is notebook 10's (its own default unless ``PREPROCESSING`` is given): it
    decides how many genes ``N_GENES`` may ask for.
    """
    from leukemia.honest import parse_search_space
    from leukemia.models import parse_model_names
    from leukemia.preprocessing import PREPROCESSING, applicable
    from leukemia.select import SELECTORS

    problems: list[str] = []

    def need(ok: bool, name: str, rule: str) -> None:
        if not ok:
            problems.append(f"parameter {name} = {values[name]!r} is out of range: {rule}.")

    most = limits.smallest_class if limits else 100  # without data (not fetched yet) the notebooks check
    bounds = {
        "CV_FOLDS": (2, most), "OUTER_FOLDS": (2, most), "CV_REPEATS": (1, 10), "BIAS_PERMUTATIONS": (2, 100),
        "N_PERMUTATIONS": (100, 2000), "N_TOP_GENES": (2, 200), "N_JOBS": (1, 64),
        "STABILITY_RUNS": (5, 200), "CLUSTER_PERMUTATIONS": (20, 1000),
    }  # fmt: skip
    for name, (low, high) in bounds.items():
        if name in values:
            need(low <= values[name] <= high, name, f"must be between {low} and {high}")
    if "N_TOP_GENES" in values and limits:
        need(
            values["N_TOP_GENES"] >= limits.n_classes,
            "N_TOP_GENES",
            f"must be at least the number of classes ({limits.n_classes})",
        )
    if "PS_THRESHOLD" in values:
        need(0 <= values["PS_THRESHOLD"] < 1, "PS_THRESHOLD", "must be in [0, 1)")
    scale = "counts" if limits and limits.counts else "log2"  # without data: the microarray options
    for name in ("PREPROCESSING", "PCA_PREPROCESSING"):
        if name in values:
            need(values[name] in PREPROCESSING, name, f"choose one of {sorted(PREPROCESSING)}")
            why_not = applicable(str(values[name]), scale) if limits else None
            need(why_not is None, name, str(why_not))
    if "SELECTOR" in values:
        need(values["SELECTOR"] in SELECTORS, "SELECTOR", f"choose one of {sorted(SELECTORS)}")
    for name in ("MODELS", "CURVE_MODELS"):
        if name in values:
            try:
                parse_model_names(str(values[name]))
            except ValueError as exc:
                problems.append(f"parameter {name}: {exc}")
    search = ["SEARCH_PREPROCESSING", "SEARCH_SELECTORS", "SEARCH_KS", "SEARCH_MODELS"]
    if all(name in values for name in search):
        try:
            space = parse_search_space(*(str(values[name]) for name in search))
        except ValueError as exc:
            problems.append(f"parameters {', '.join(search)}: {exc}")
        else:
            if limits and max(space.ks) > limits.genes:
                need(
                    False,
                    "SEARCH_KS",
                    f"each k must be at most {limits.genes}, the genes {limits.gene_filter} keeps",
                )
            refused = [
                f"{option}: {applicable(option, scale)}"
                for option in space.preprocessing
                if limits and isinstance(option, str) and applicable(option, scale)
            ]
            need(not refused, "SEARCH_PREPROCESSING", "; ".join(refused))
    genes = limits.genes if limits else 100_000
    if (
        "K_GENES" in values
    ):  # at most the genes the Dudoit filter (edgeR's, on counts) keeps on the training set
        need(1 <= values["K_GENES"] <= genes, "K_GENES", f"must be between 1 and {genes}")
    if "N_CLUSTERS" in values:
        need(
            values["N_CLUSTERS"] == 0 or 2 <= values["N_CLUSTERS"] <= 10, "N_CLUSTERS", "must be 0 or 2 to 10"
        )
    if "N_GENES" in values:  # notebook 10 clusters on genes left after its PREPROCESSING
        clustered = clustering_preprocessing or values.get("PREPROCESSING", "dudoit")
        filtered = clustered == "dudoit" or bool(limits and limits.counts)  # every option filters counts
        most = genes if filtered else 100_000
        rule = (
            f"must be between 2 and {most}, the genes {limits.gene_filter} keeps"
            if limits
            else "must be at least 2"
        )
        need(2 <= values["N_GENES"] <= most, "N_GENES", rule)
    if problems:  # all of them at once, not one per try
        raise RunError(" ".join(problems) if len(problems) == 1 else "\n  " + "\n  ".join(problems))


#: The notebook whose ``PREPROCESSING`` decides how many genes ``N_GENES`` may be.
CLUSTERING_NOTEBOOK = "10_discovery.ipynb"


def _adaptable(limits: DataLimits) -> dict[str, tuple[int, str]]:
    """Parameter → the largest value the data allow, and why."""
    classes = f"the smallest training class has {limits.smallest_class} samples, and every fold needs one"
    return {
        "CV_FOLDS": (limits.smallest_class, classes),
        "OUTER_FOLDS": (limits.smallest_class, classes),
        "N_GENES": (limits.genes, f"{limits.gene_filter} keeps {limits.genes} genes on the training samples"),
    }


#: On raw read counts: the preprocessing parameters' defaults, and why (the microarray defaults do not apply).
COUNT_DEFAULTS: dict[str, tuple[str, str]] = {
    "PREPROCESSING": (
        "log_cpm",
        "the values are read counts: edgeR's filter and log counts per million first",
    ),
    "PCA_PREPROCESSING": ("log_cpm", "the values are read counts: edgeR's filter and log counts per million"),
    "SEARCH_PREPROCESSING": (
        "log_cpm,tmm,vst",
        "the values are read counts: the search chooses among edgeR's two normalisations and DESeq2's VST",
    ),
}


def adapted_defaults(
    typed: Mapping[str, object], specs: Mapping[str, Parameter], limits: DataLimits | None
) -> dict[str, object]:
    """Defaults the user did not change that the data cannot give: fold counts lowered to the smallest
    training class, notebook 10's genes to those the gene filter keeps, and on read counts the preprocessing
    options replaced by the count ones (:data:`COUNT_DEFAULTS`). A value the user set is never changed (it
    is checked, and refused if out of range or inapplicable)."""
    if limits is None:
        return {}
    adapted: dict[str, object] = {}
    for name, (most, _) in _adaptable(limits).items():
        default = specs[name].default if name in specs else None
        if isinstance(default, int) and name not in typed and default > most:
            adapted[name] = most
    if limits.counts:
        adapted |= {
            name: value for name, (value, _) in COUNT_DEFAULTS.items() if name in specs and name not in typed
        }
    return adapted


def _adapted_why(
    adapted: Mapping[str, object], specs: Mapping[str, Parameter], limits: DataLimits
) -> dict[str, str]:
    """Why each adapted default changed, as the run prints it after the parameter's name."""
    why = {}
    for name, value in adapted.items():
        if name in COUNT_DEFAULTS:
            defaults = sorted({str(d) for d in specs[name].defaults.values()})
            why[name] = f"set to {value} (defaults {', '.join(defaults)}): {COUNT_DEFAULTS[name][1]}"
        else:
            why[name] = f"lowered from {specs[name].default} to {value}: {_adaptable(limits)[name][1]}"
    return why


def validate(
    given: Mapping[str, object], specs: Mapping[str, Parameter], limits: DataLimits | None = None
) -> dict[str, object]:
    """Check user parameters against the notebooks' own before anything runs.

    Returns
    -------
    dict
        The given parameters converted to their defaults' types.

    Raises
    ------
    RunError
        An unknown name (listing the valid ones), a value of the wrong type, or out of range.
    """
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise RunError(f"unknown parameter(s) {unknown}; the notebooks take {sorted(specs)}.")
    typed = {name: _coerce(specs[name], value) for name, value in given.items()}
    effective = {name: typed.get(name, spec.default) for name, spec in specs.items()}
    clustering = typed.get("PREPROCESSING")
    if clustering is None and "PREPROCESSING" in specs:
        clustering = specs["PREPROCESSING"].defaults.get(CLUSTERING_NOTEBOOK)
    _check_ranges(
        effective | adapted_defaults(typed, specs, limits),
        limits,
        clustering_preprocessing=None if clustering is None else str(clustering),
    )
    return typed


def run_name(typed: Mapping[str, object]) -> str:
    """``"default"``, or the non-default parameters, e.g. ``"K_GENES-20_SELECTOR-signal_to_noise"``."""
    if not typed:
        return "default"
    return _safe("_".join(f"{name}-{value}" for name, value in sorted(typed.items())))


def _safe(text: str) -> str:
    """``text`` usable as a folder name."""
    return re.sub(r"[^A-Za-z0-9_.,=-]+", "_", text)[:120]


def _write_manifest(directory: Path, manifest: Mapping[str, object]) -> None:
    write_atomic(directory / MANIFEST_FILE, json.dumps(manifest, indent=2, default=str))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunResult:
    """Where a run put its outputs."""

    directory: Path
    notebooks: list[Path]
    metrics: Path | None = None
    report: Path | None = None
    manifest: dict[str, object] = field(default_factory=dict)


#: Cells with this tag are lessons about the Golub data only, left out when the notebooks run on other data.
GOLUB_ONLY = "golub-only"
#: Cells with this tag are the course's furniture — what you will learn, the exercises and their answers, each
#: lesson's references — left out of a run on other data: its report is an analysis, not a course (the
#: appendix keeps one list of every reference).
COURSE = "course"
#: Cells with this tag explain a step for microarray values (Dudoit's intensity filter and the scalers that
#: follow it), left out when the data are read counts, whose preprocessing notebook 03's counts section shows.
MICROARRAY_ONLY = "microarray-only"
#: Cells with this tag teach read counts (notebook 03's edgeR section, on a simulated study unless the data
#: are counts): kept in the course and on count data, left out of a report on other data that are not counts.
COUNTS = "counts"


def _own_data(given: Mapping[str, object]) -> bool:
    return str(given.get("DATASET", GOLUB)).strip().lower() != GOLUB


def _read_data(given: Mapping[str, object], verify: bool) -> Dataset | None:
    """The run's data set, or None while Golub's files are not fetched (notebook 01 fetches them).

    Raises
    ------
    RunError
        A user's data set that cannot be read, with the reason.
    """
    source, folder = str(given.get("DATASET", GOLUB)), str(given.get("DATA_DIR", ""))
    try:
        return load_dataset(source, data_dir=folder, verify=verify)
    except DataError as exc:
        if _own_data(given):
            raise RunError(str(exc)) from None
        return None


def _read_limits(given: Mapping[str, object], verify: bool) -> tuple[DataLimits | None, str | None]:
    """What the run's parameters are checked against, and the data set's name; both None where
    :func:`_read_data` gives None.

    The data set is read, checked and let go: the kernels read it back from the cache the read fills.
    Held by the runner, a study's matrix — or the heap it was parsed in, which the C library keeps after
    Python frees it — would sit beside the kernels for the whole run (0.85 GB at 54,675 × 2,000).
    """
    data = _read_data(given, verify)
    if data is None:
        return None, None
    limits, name = DataLimits.of(data), data.name
    del data
    _return_freed_memory()
    return limits, name


def _return_freed_memory() -> None:
    """Hand the pages Python has freed back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    glibc keeps freed blocks of its heap for reuse; after parsing a large text matrix most of that is
    no longer needed by this process but still counted against it.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # not glibc (macOS, musl)
        return
    trim(0)


def _describe(data: Dataset) -> dict[str, object]:
    """What the manifest says about the data set: name, classes, files, sizes, scale, split."""
    return {
        "name": data.name, "classes": list(data.classes), "files_sha256": dict(data.checksums),
        "genes": int(data.X_train.shape[1]), "samples": data.class_counts().to_dict(),
        "scale_detected": data.scale_detected, "scale_used": data.scale_used, "split": data.split,
        "left_out": len(data.left_out), **({"sources": dict(data.sources)} if data.sources else {}),
    }  # fmt: skip


def run(
    given: Mapping[str, object] | None = None,
    *,
    notebooks: str | Sequence[str] | None = None,
    out_dir: str | Path | None = None,
    render: bool = True,
    show_code: bool = False,
    progress: bool = True,
    verify: bool = True,
    scheduler: str | None = None,
    data: str | Path | None = None,
    parallel: int | None = None,
) -> RunResult:
    """Validate the parameters, execute the notebooks (two at a time), write metrics, manifest and report.

    Parameters
    ----------
    given
        Parameter name → value (strings are converted to the default's type).
    notebooks
        Number prefixes such as ``"04,05"``; all notebooks by default.
    out_dir
        The run directory; default ``reports/<run name>``.
    render
        Also write ``report.html``.
    show_code
        Show the code cells in the report (hidden by default).
    progress
        A progress bar over notebooks on stderr.
    verify
        ``False`` lets the notebooks load copies of the data whose checksums differ (with a warning).
    scheduler
        A Dask scheduler address (``tcp://host:8786``) that runs the cross-validation folds of the
        honest search; default ``$LEUKEMIA_SCHEDULER``, else this machine. Results are the same.
    data
        A ``dataset.yaml`` to run the notebooks on (their ``DATASET`` parameter); default Golub's data.
        It is read and checked before anything runs; cells tagged ``golub-only`` are left out.
    parallel
        Notebooks executed at once (default :func:`default_parallel`: two, one on a single core). A
        notebook that reuses another's cached results waits for it (:data:`AFTER`).

    Raises
    ------
    RunError
        Invalid parameters or an unreachable scheduler (before anything runs), or a notebook
        failed (its executed copy, with the traceback, stays in the run directory; the manifest
        says ``failed``).
    """
    if parallel is not None and parallel < 1:
        raise RunError(f"parallel must be at least 1, got {parallel}.")
    plan = _plan(
        given, notebooks=notebooks, out_dir=out_dir, verify=verify, scheduler=scheduler, data=data,
        parallel=parallel or default_parallel(),
    )  # fmt: skip
    _clean(plan.directory)
    for name, why in plan.adapted_why.items():  # before anything runs, whatever the progress setting
        print(f"leukemia run: {name} {why}.", file=sys.stderr, flush=True)
    manifest: dict[str, object] = {
        "status": "running",
        "parameters": plan.resolved,
        "non_default_parameters": plan.typed,
        "adapted_parameters": plan.adapted_why,
        "notebooks": [p.name for p in plan.paths],
        "git_commit": git_commit(),
        "scheduler": plan.address,
        "started": _now(),
    }
    _write_manifest(plan.directory, manifest)
    dataset = _execute(plan, manifest, progress)
    saved = _saved_model(plan, manifest)
    result = RunResult(plan.directory, [plan.directory / p.name for p in plan.paths])
    metrics = collect_results(
        plan.directory / RESULTS_FOLDER, dataset.classes
    )  # as the notebooks recorded them
    write_atomic(plan.directory / METRICS_FILE, metrics.to_csv(index=False))
    result.metrics = plan.directory / METRICS_FILE
    if render:
        from leukemia.report import render_report, report_title

        result.report = render_report(
            plan.directory, show_code=show_code, title=report_title(dataset.name), answer_first=plan.own_data
        )
    manifest |= {
        "status": "complete",
        "finished": _now(),
        "package_versions": provenance_table({}).set_index("item")["value"].to_dict(),
        "data_sha256": dict(dataset.checksums),
        "dataset": _describe(dataset),
    }
    if saved is not None:
        manifest["model"] = saved
    _write_manifest(plan.directory, manifest)
    result.manifest = manifest
    return result


def _saved_model(plan: _Plan, manifest: dict[str, object]) -> dict[str, str] | None:
    """The model the summary notebook saved (its file and sha256), its card and sha256 checked without loading
    it (the notebook itself loads it back and calls the test samples with it); None when the run did not
    include that notebook.

    Raises
    ------
    RunError
        The notebook ran but the model is missing or does not load: the run lost part of its output.
    """
    if not any(path.name.startswith(MODEL_NOTEBOOK) for path in plan.paths):
        return None
    from leukemia.model import CARD_FILE, MODEL_FILE, ModelError, verify

    folder = plan.directory / MODEL_FOLDER
    try:  # the notebook loaded it back and called the test samples with it; here: still there, unchanged
        card, _ = verify(folder)
    except ModelError as exc:
        manifest |= {
            "status": "failed",
            "failed_notebook": f"{MODEL_NOTEBOOK} (the saved model)",
            "finished": _now(),
        }
        _write_manifest(plan.directory, manifest)
        raise RunError(f"the run's model is missing or broken: {exc}") from exc
    return {
        "file": f"{MODEL_FOLDER}/{MODEL_FILE}",
        "card": f"{MODEL_FOLDER}/{CARD_FILE}",
        "sha256": str(card["model"]["sha256"]),
    }


@dataclass(frozen=True)
class _Plan:
    """A validated run: what to execute, with which parameters, where."""

    paths: list[Path]
    typed: dict[str, object]
    """The parameters given, converted and checked."""
    resolved: dict[str, object]
    """Every parameter's value, given or default."""
    directory: Path
    own_data: bool
    address: str | None
    verify: bool
    data_ready: bool
    """The data set was read and checked before the run (False while Golub's files are not fetched yet).
    The runner does not hold it during the run (a study's matrix is a gigabyte or more); it reads it back
    from the cache afterwards."""
    parallel: int = 1
    """Notebooks executed at once."""
    adapted: dict[str, object] = field(default_factory=dict)
    """Defaults the data cannot give, lowered (:func:`adapted_defaults`); passed to the notebooks as given."""
    adapted_why: dict[str, str] = field(default_factory=dict)
    counts: bool = False
    """The data are read counts: cells tagged ``microarray-only`` are left out."""


def _plan(
    given: Mapping[str, object] | None,
    *,
    notebooks: str | Sequence[str] | None,
    out_dir: str | Path | None,
    verify: bool,
    scheduler: str | None,
    data: str | Path | None,
    parallel: int = 1,
) -> _Plan:
    """Everything checked before a notebook starts: parameters (bounded by the data), scheduler, directory."""
    paths = select_notebooks(notebooks)
    specs = parameters(paths)
    given = dict(given or {})
    if data is not None:
        given["DATASET"] = data
    # Paths are the caller's: the kernels start in the notebooks' folder (in an installed package, inside it).
    for key in ("DATASET", "DATA_DIR"):
        value = str(given.get(key, "")).strip()
        if value and (key != "DATASET" or value.lower() != GOLUB):
            given[key] = str(Path(value).expanduser().resolve())
    own_data = _own_data(given)
    limits, data_name = _read_limits(given, verify)  # read and checked first: the data bound the parameters
    typed = validate(given, specs, limits)
    address = scheduler_address(scheduler)
    if address is not None:
        try:
            connect(address)
        except ClusterError as exc:
            raise RunError(str(exc)) from None
    name = run_name({key: value for key, value in typed.items() if key != "DATASET"})
    if data_name is not None and own_data:  # reports/<data set name>, then the non-default parameters
        name = _safe(data_name) + ("" if name == "default" else f"_{name}")
    directory = Path(out_dir) if out_dir is not None else config.reports_dir() / name
    directory = directory.expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    adapted = adapted_defaults(typed, specs, limits)
    values = {name: typed.get(name, spec.default) for name, spec in specs.items()} | adapted
    why = _adapted_why(adapted, specs, limits) if limits is not None else {}
    ready = data_name is not None
    counts = bool(limits and limits.counts)
    return _Plan(
        paths, typed, values, directory, own_data, address, verify, ready, parallel, adapted, why, counts
    )


def _clean(directory: Path) -> None:
    """Start clean: nothing from an earlier (perhaps interrupted) run may be mistaken for this one's."""
    for stale in [
        *directory.glob("[0-9][0-9]_*.ipynb"),
        *(directory / RESULTS_FOLDER).glob("*.csv"),
        *(directory / LOGS_FOLDER).glob("*.log"),
        *(directory / n for n in (REPORT_FILE, METRICS_FILE, MANIFEST_FILE)),
        *(directory / MODEL_FOLDER).glob("*"),
    ]:
        stale.unlink(missing_ok=True)


def _kernel_environment(plan: _Plan) -> dict[str, str]:
    """What the run's kernels get: everything they write stays in the run directory."""
    environment = {
        config.CACHE_DIR_ENV_VAR: str(plan.directory / ".cache"),
        config.RESULTS_DIR_ENV_VAR: str(plan.directory / RESULTS_FOLDER),
        config.MODEL_DIR_ENV_VAR: str(plan.directory / MODEL_FOLDER),
        config.VERIFY_ENV_VAR: "1" if plan.verify else "0",
        config.DATASET_CACHE_DIR_ENV_VAR: str(config.dataset_cache_dir()),  # where the runner's read is kept
    }
    if plan.address is not None:
        environment[config.SCHEDULER_ENV_VAR] = plan.address
    # Each kernel's BLAS and OpenMP threads get its share of the cores, as joblib gives its workers: with
    # two kernels at a time each spawning a thread per core, the threads spun against each other and the
    # default run used 107 s of CPU instead of 89 s (2026-12-06). A value the user set is kept.
    threads = str(max(1, (os.cpu_count() or 1) // plan.parallel))
    for variable in THREAD_VARIABLES:
        environment[variable] = os.environ.get(variable, threads)
    return environment


#: The variables that size the thread pools of OpenBLAS, MKL and OpenMP (numpy, scipy, scikit-learn, xgboost).
THREAD_VARIABLES: tuple[str, ...] = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


#: Notebooks that reuse, through the cache, what an earlier one computed early on: they start after it,
#: so that the work is done once (05's seed evaluation; 06's Golub protocol; 09's honest search and nested
#: CV). 05 itself reads the seed evaluation that 09 computes in its first cells: 09 starts first
#: (:data:`CRITICAL_PATH`) and 05 only after 02-04, by when it is cached (were it not, 05 would compute the
#: same numbers itself).
AFTER: dict[str, tuple[str, ...]] = {"07": ("05",), "08": ("09",), "11": ("05", "06", "09")}
#: Started first when several could start: the run's longest chain (09, the honest search, then 11).
CRITICAL_PATH: tuple[str, ...] = ("09", "11")
#: Started next: the longest notebook outside that chain (10's permutation nulls, a fifth of the run's
#: analysis), so that it runs beside 09 instead of finishing alone at the end.
EARLY: tuple[str, ...] = ("10",)


def default_parallel() -> int:
    """Notebooks executed at once by default: two, or one on a machine with a single core."""
    return max(1, min(2, os.cpu_count() or 1))


def _startable(pending: list[Path], done: set[str], plan: _Plan) -> list[Path]:
    """The pending notebooks whose prerequisites (among this run's) are done, the critical path first."""
    number = {path: path.name[:2] for path in plan.paths}
    in_run = set(number.values())
    if not plan.data_ready and "01" in in_run and "01" not in done:  # 01 fetches the data: it goes alone
        return [p for p in pending if number[p] == "01"]
    ready = [p for p in pending if all(d in done or d not in in_run for d in AFTER.get(number[p], ()))]
    return sorted(ready, key=lambda p: (number[p] not in CRITICAL_PATH, number[p] not in EARLY, number[p]))


def _execute(plan: _Plan, manifest: dict[str, object], progress: bool) -> Dataset:
    """Execute the notebooks, ``plan.parallel`` at a time (a failure is recorded and raised); the data set.

    Each notebook runs in its own kernel; two at a time keep both cores busy while one of them only
    starts its kernel, imports or draws. A notebook starts after those whose cached results it reuses
    (:data:`AFTER`). After a failure no further notebook starts; the ones running finish, then the
    failure is raised. On Ctrl-C (or SIGTERM) the running kernels are killed.
    """
    environment = _kernel_environment(plan)
    drop: tuple[str, ...] = (GOLUB_ONLY, COURSE) if plan.own_data else ()
    drop += (MICROARRAY_ONLY,) if plan.counts else (COUNTS,) if plan.own_data else ()
    logs = plan.directory / LOGS_FOLDER  # what the kernels print outside their notebooks
    logs.mkdir(exist_ok=True)

    def execute(path: Path) -> None:
        given = plan.typed | plan.adapted
        own = {name: given[name] for name in papermill.inspect_notebook(str(path)) if name in given}
        log = logs / f"{path.stem}.log"
        try:
            execute_notebook(
                path, plan.directory / path.name, own, drop_tags=drop, environment=environment, log=log
            )
        finally:
            if log.exists() and log.stat().st_size == 0:
                log.unlink()

    pending, done = list(plan.paths), set[str]()
    running: dict[Future[None], Path] = {}
    failure: tuple[Path, BaseException] | None = None
    bar = tqdm(total=len(pending), desc="notebooks", unit="notebook", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=plan.parallel, thread_name_prefix="notebook")
    try:
        while pending or running:
            startable = _startable(pending, done, plan) if failure is None else []
            for path in startable[: plan.parallel - len(running)]:
                pending.remove(path)
                running[pool.submit(execute, path)] = path
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: running[f].name):
                path = running.pop(future)
                error = future.exception()
                if error is None:
                    done.add(path.name[:2])
                    bar.update()
                elif failure is None:
                    failure = (path, error)
        if failure is not None:
            raise failure[1]
    except (papermill.PapermillExecutionError, FigureError, InlineExpressionError) as exc:
        failed = failure[0] if failure is not None else plan.paths[0]
        manifest |= {"status": "failed", "failed_notebook": failed.name, "finished": _now()}
        _write_manifest(plan.directory, manifest)
        where = plan.directory / failed.name
        if isinstance(exc, (FigureError, InlineExpressionError)):
            raise RunError(f"{exc} The executed notebook is {where}") from exc
        raise RunError(
            f"{failed.name} failed ({exc.ename}: {exc.evalue}); the executed notebook with its traceback is "
            f"{where}"
        ) from exc
    except BaseException as exc:  # Ctrl-C or any other failure: say so, write nothing that claims success
        kill_kernels()
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        stopped = [p.name for p in running.values()] or [(failure[0] if failure else plan.paths[0]).name]
        manifest |= {"status": status, "stopped_in": ", ".join(sorted(stopped)), "finished": _now()}
        _write_manifest(plan.directory, manifest)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        if not any(logs.iterdir()):
            logs.rmdir()
    source, folder = str(plan.resolved.get("DATASET", GOLUB)), str(plan.resolved.get("DATA_DIR", ""))
    return load_dataset(source, data_dir=folder, verify=plan.verify)


def sweep(
    grid: Mapping[str, Sequence[str]],
    given: Mapping[str, object] | None = None,
    *,
    notebooks: str | Sequence[str] | None = "05",
    out_dir: str | Path | None = None,
    progress: bool = True,
    verify: bool = True,
    scheduler: str | None = None,
    data: str | Path | None = None,
) -> Path:
    """One run per grid point, then ``sweep.html`` and ``sweep_metrics.csv`` comparing them.

    Parameters
    ----------
    grid
        Parameter name → the values to try (e.g. ``{"K_GENES": ["10", "20"]}``).
    given
        Parameters held fixed in every run.
    notebooks
        The notebooks each run executes (default ``"05"``, the modelling notebook).
    out_dir
        Where the runs and the page go; default ``reports/sweep-<names>``.
    scheduler, data
        As for :func:`run`.

    Returns
    -------
    pathlib.Path
        The comparison page.
    """
    import itertools

    from leukemia.report import render_sweep

    if not grid or any(not values for values in grid.values()):
        raise RunError("a sweep needs at least one parameter with at least one value.")
    paths = select_notebooks(notebooks)
    specs = parameters(paths)
    given = dict(given or {})
    if data is not None:
        given["DATASET"] = str(Path(data).expanduser().resolve())
    limits, _ = _read_limits(given, verify)
    points = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    for point in points:  # every point is validated before the first run starts
        validate({**given, **point}, specs, limits)
    directory = Path(out_dir) if out_dir is not None else config.reports_dir() / f"sweep-{'-'.join(grid)}"
    directory = directory.expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    frames = []
    for point in tqdm(points, desc="sweep", unit="run", disable=not progress):
        result = run(
            {**given, **point}, notebooks=notebooks, out_dir=directory / run_name(point),
            render=False, progress=False, verify=verify, scheduler=scheduler,
        )  # fmt: skip
        frame = pd.read_csv(result.metrics)
        for name, value in point.items():
            frame.insert(0, name, _coerce(specs[name], value))
        frames.append(frame)
    metrics = pd.concat(frames, ignore_index=True)
    write_atomic(directory / "sweep_metrics.csv", metrics.to_csv(index=False))
    return render_sweep(metrics, list(grid), directory / "sweep.html")

"""The ``leukemia`` command line (``leukemia --help``)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from leukemia import __version__, config
from leukemia.runner import RunError

__all__ = ["main"]


def _fetch(args: argparse.Namespace) -> int:
    from leukemia.data import fetch

    if args.quiet:  # pooch tells, on standard error, of every file it copies or downloads
        import pooch

        pooch.get_logger().setLevel("WARNING")
    paths = fetch(args.data_dir, source=args.source, force=args.force, progressbar=not args.quiet)
    for name, path in paths.items():
        print(f"ok  {name}  sha256 {config.DATA_SHA256[name][:12]}…  {path}")
    return 0


def _data_check(args: argparse.Namespace) -> int:
    import warnings

    from leukemia.spec import check_report, load_dataset

    with warnings.catch_warnings(record=True) as caught:  # said in the summary, not as Python warnings
        warnings.simplefilter("always")
        data = load_dataset(args.dataset)
    print(check_report(data, notes=[str(w.message) for w in caught]))
    return 0


def _data_export(args: argparse.Namespace) -> int:
    from leukemia.spec import export_dataset, load_dataset

    data = load_dataset(args.dataset)
    path = export_dataset(data, args.output)
    samples, genes = len(data.y), data.X_train.shape[1]
    print(f"wrote {path} ({samples} samples × {genes} genes; values {data.scale_used})")
    lines = [
        f"name: {data.name}", f"expression: {path.name}", "class_column: class",
        f"classes: [{', '.join(data.classes)}]", "split_column: split",
        *(["batch_column: batch"] if data.batch is not None else []),
    ]  # fmt: skip
    print("read it back with a dataset.yaml such as:\n" + "\n".join(f"  {line}" for line in lines))
    return 0


def _params(args: argparse.Namespace) -> int:
    from leukemia.runner import parameters, select_notebooks

    paths = select_notebooks(args.notebook)
    for path in paths:
        print(path.name)
        for spec in parameters([path]).values():
            print(f"  {spec.name:<22} {spec.type.__name__:<6} default {spec.defaults[path.name]!r}")
            print(f"  {'':<22} {spec.help}")
    return 0


def _given(args: argparse.Namespace) -> dict[str, object]:
    import yaml

    given: dict[str, object] = {}
    if args.file is not None:
        loaded = yaml.safe_load(args.file.read_text()) or {}
        if not isinstance(loaded, dict):
            raise RunError(f"{args.file}: expected a mapping of parameter names to values.")
        given.update(loaded)
    given.update(dict(args.parameter or []))
    return given


def _run(args: argparse.Namespace) -> int:
    from leukemia.runner import run

    result = run(
        _given(args), notebooks=args.notebooks, out_dir=args.out, render=not args.no_report,
        show_code=args.show_code, progress=not args.quiet, verify=not args.no_verify,
        scheduler=args.scheduler, data=args.data, parallel=args.parallel,
    )  # fmt: skip
    print(result.report or result.directory)
    return 0


def _report(args: argparse.Namespace) -> int:
    from leukemia.report import render_report

    print(render_report(args.run_dir, show_code=args.show_code))
    return 0


def _predict(args: argparse.Namespace) -> int:
    import warnings

    from leukemia.model import ModelVersionWarning, cautions, load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelVersionWarning)
        model = load(args.run_dir)
    for warning in caught:
        print(f"leukemia predict: warning: {warning.message}", file=sys.stderr)
    if args.out is not None and args.out.is_dir():
        raise RunError(f"--out {args.out} is a folder; give the path of the CSV file to write.")
    started = time.perf_counter()
    prediction = model.call(args.input)
    seconds = time.perf_counter() - started
    table = prediction.table
    text = table.to_csv()
    summary = sys.stderr if args.out is None else sys.stdout
    if args.out is None:
        sys.stdout.write(text)
    else:
        from leukemia.rundir import write_atomic

        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.out, text)
    calls = table["call"].value_counts().reindex(list(model.classes), fill_value=0)
    absent = len(model.card["training_genes"]) - prediction.genes_found
    lines = [
        f"{len(table)} sample(s) called by the model of {model.folder}: "
        + ", ".join(f"{name} {n}" for name, n in calls.items()),
        f"genes: the {len(model.genes)} the model reads, all found"
        + (f"; {absent} of its training genes absent (not read by the model)" if absent else "")
        + f"; {prediction.genes_ignored} of the input's genes not among its training genes (ignored)",
        f"values: {prediction.scale}",
    ]
    if model.threshold is None:
        how = str(model.card["abstention"]["chosen_by"]).removeprefix("none: ")
        lines.append(f"confident: no threshold ({how})")
    else:
        confident = int(table["confident"].sum())
        never = " (threshold 0: the model never abstains; the confidence still says how close each call was)"
        lines.append(
            f"confident: {confident} of {len(table)} (confidence ≥ {model.threshold:g}, the threshold chosen "
            "on the training samples)" + (never if model.threshold == 0 else "")
        )
    lines += [f"caution: {caution}; the calls may reflect it" for caution in cautions(model.card)]
    if len(prediction.left_out):
        lines.append(f"left out: {len(prediction.left_out)} sample(s) outside the subset")
    trained_on = int(table["trained_on"].sum())
    if trained_on:
        lines.append(
            f"training samples: {trained_on} of these samples have the ids of the model's training samples "
            "(column trained_on); their calls are no test of the model and no accuracy counts them"
        )
    accuracy = prediction.accuracy()
    if "class" in table:
        other = table["class"].notna() & ~table["class"].isin(model.classes)
        if other.any():
            counts = table.loc[other, "class"].value_counts()
            lines.append(
                "labels that are no class of the model, not counted: "
                + ", ".join(f"{label} {n}" for label, n in counts.items())
            )
    if accuracy is not None:
        n_correct, n, low, high = accuracy
        lines.append(
            f"accuracy on the {n} labelled sample(s) the model was not trained on: {n_correct}/{n} = "
            f"{n_correct / n:.3f}, exact 95% CI {low:.3f}–{high:.3f}"
        )
    lines.append(f"time: {seconds:.2f} s ({1000 * seconds / max(len(table), 1):.1f} ms per sample)")
    if args.out is not None:
        lines.append(f"written: {args.out}")
    print("\n".join(lines), file=summary)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from leukemia.runner import sweep

    grid = {name: [v.strip() for v in values.split(",") if v.strip()] for name, values in args.parameter}
    fixed = dict(args.fix or [])
    page = sweep(
        grid,
        fixed,
        notebooks=args.notebooks,
        out_dir=args.out,
        progress=not args.quiet,
        verify=not args.no_verify,
        scheduler=args.scheduler,
        data=args.data,
    )
    print(page)
    return 0


def _execution_options(command: argparse.ArgumentParser) -> None:
    """The options ``run`` and ``sweep`` share: progress, checksums, where the folds run, the data set."""
    command.add_argument(
        "--data", type=Path, metavar="DATASET.yaml",
        help="run on your own data described by a dataset.yaml (docs/data.md); default Golub's",
    )  # fmt: skip
    command.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    command.add_argument(
        "--no-verify", action="store_true", help="load data files whose sha256 differs (with a warning)"
    )
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler that runs the cross-validation folds, e.g. tcp://10.0.0.5:8786 "
        "(default: $LEUKEMIA_SCHEDULER, else this machine)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="leukemia",
        description="Golub et al. (1999) leukemia expression analysis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_fetch(commands)
    _add_data(commands)
    _add_params(commands)
    _add_run(commands)
    _add_report(commands)
    _add_predict(commands)
    _add_sweep(commands)
    return parser


def _add_fetch(commands: argparse._SubParsersAction) -> None:
    """``leukemia fetch``: download or copy the Golub files, checked."""
    fetch = commands.add_parser(
        "fetch",
        help="download (or copy) the three CSV files and verify their sha256",
        description=(
            "Put actual.csv and the two expression files in the data folder, each checked "
            "against its pinned sha256. By default they are downloaded from a public copy "
            "pinned to one commit; --from takes them from the Kaggle zip or a folder instead."
        ),
    )
    fetch.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="PATH",
        help="the Kaggle download (archive.zip) or a folder holding the three CSV files",
    )
    fetch.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where to put the files (default: ${config.DATA_DIR_ENV_VAR}, else {config.DEFAULT_DATA_DIR})",
    )
    fetch.add_argument(
        "--force",
        action="store_true",
        help="replace files already there whose checksum is wrong",
    )
    fetch.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no message per file")
    fetch.set_defaults(handler=_fetch)


def _add_data(commands: argparse._SubParsersAction) -> None:
    """``leukemia data check`` and ``leukemia data export``."""
    data = commands.add_parser(
        "data", help="check or export a data set described by a dataset.yaml (or golub)",
        description="Commands about the data set an analysis runs on.",
    )  # fmt: skip
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="DATA_COMMAND")
    check = data_commands.add_parser(
        "check", help="read and check a data set; print its summary",
        description=(
            "Read the data set (a dataset.yaml, or 'golub'), check everything a run would check, and print "
            "samples per class and split, genes, the scale detected and used, the class × batch table and "
            "the samples left out. Exits non-zero on any error."
        ),
    )  # fmt: skip
    check.add_argument("dataset", metavar="DATASET", help="a dataset.yaml file, or golub")
    check.set_defaults(handler=_data_check)
    export = data_commands.add_parser(
        "export", help="write a data set as AnnData (.h5ad) or GCT 1.3 (.gct)",
        description=(
            "Read the data set (a dataset.yaml, or 'golub') as a run would, and write it as one file: "
            "AnnData (.h5ad; class, split and batch in obs, symbols in var, scale and provenance in uns) "
            "or GCT 1.3 (.gct; the same as column and row fields). The values are the data set's, after "
            "the loader's scale step."
        ),
    )  # fmt: skip
    export.add_argument("dataset", metavar="DATASET", help="a dataset.yaml file, or golub")
    export.add_argument(
        "output", type=Path, metavar="OUTPUT", help="the file to write: NAME.h5ad or NAME.gct"
    )
    export.set_defaults(handler=_data_export)


def _add_params(commands: argparse._SubParsersAction) -> None:
    """``leukemia params``: the notebooks' parameters."""
    params = commands.add_parser(
        "params", help="list every notebook parameter with its type, default and help",
        description="List the parameters of the notebooks (read with papermill's notebook inspection).",
    )  # fmt: skip
    params.add_argument("notebook", nargs="?", help="number prefixes, e.g. 05 or 04,05 (default: all)")
    params.set_defaults(handler=_params)


def _add_run(commands: argparse._SubParsersAction) -> None:
    """``leukemia run``: execute the notebooks into a run directory."""
    run = commands.add_parser(
        "run", help="execute the notebooks into a run directory and render report.html",
        description=(
            "Validate the parameters, execute the notebooks with papermill, two at a time, into a run "
            "directory "
            "(default reports/<name>, the name made of the non-default parameters), and write metrics.csv, "
            "manifest.json and report.html there."
        ),
    )  # fmt: skip
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
        help="set a notebook parameter (repeatable); see `leukemia params`",
    )  # fmt: skip
    run.add_argument("-f", "--file", type=Path, metavar="PARAMS.yaml", help="parameters from a YAML mapping")
    run.add_argument("--notebooks", metavar="NN,NN", help="only these notebooks, e.g. 04,05 (default: all)")
    run.add_argument("--out", type=Path, metavar="DIR", help="the run directory (default: reports/<name>)")
    run.add_argument("--no-report", action="store_true", help="do not render report.html")
    run.add_argument("--show-code", action="store_true", help="include code cells in report.html")
    run.add_argument(
        "--parallel", type=int, metavar="N",
        help="notebooks executed at once (default 2, or 1 on a one-core machine); 1 runs them in order",
    )  # fmt: skip
    _execution_options(run)
    run.set_defaults(handler=_run)


def _add_report(commands: argparse._SubParsersAction) -> None:
    """``leukemia report``: render a run directory to report.html."""
    report = commands.add_parser(
        "report", help="render a run directory's notebooks to one self-contained report.html",
        description="Render the executed notebooks of a run directory to report.html (no network needed).",
    )  # fmt: skip
    report.add_argument(
        "run_dir", type=Path, nargs="?", default=config.reports_dir() / "default", metavar="RUN_DIR"
    )
    report.add_argument("--show-code", action="store_true", help="include code cells")
    report.set_defaults(handler=_report)


def _add_predict(commands: argparse._SubParsersAction) -> None:
    """``leukemia predict``: call new samples with a run's saved model."""
    predict = commands.add_parser(
        "predict", help="call new samples with the model a run saved",
        description=(
            "Load the model a run saved in RUN_DIR/model/ (checked against its model card; nothing in it is "
            "executed), read INPUT (an expression file in any format `leukemia run --data` reads, or a "
            "dataset.yaml, labels optional), match genes by id, bring the values to the training data's "
            "scale, and write one row per sample: the call, a probability (or score) per class, the "
            "confidence and whether it reaches the model's threshold; with labels, whether the call is right "
            "and the accuracy with its exact 95% CI."
        ),
    )  # fmt: skip
    predict.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a run directory (or its model/ folder)"
    )
    predict.add_argument("input", type=Path, metavar="INPUT", help="an expression file or a dataset.yaml")
    predict.add_argument(
        "--out", type=Path, metavar="PREDICTIONS.csv",
        help="write the table here (atomically); default: standard output, the summary on standard error",
    )  # fmt: skip
    predict.set_defaults(handler=_predict)


def _add_sweep(commands: argparse._SubParsersAction) -> None:
    """``leukemia sweep``: one run per grid point, then a comparison page."""
    sweep = commands.add_parser(
        "sweep", help="one run per combination of parameter values, then a comparison page",
        description=(
            "Run the notebooks once per combination of the given values (e.g. -p K_GENES 10,20,50) and write "
            "sweep.html comparing independent-set accuracy with its 95% CI across the runs."
        ),
    )  # fmt: skip
    sweep.add_argument(
        "-p", "--parameter", nargs=2, action="append", required=True, metavar=("NAME", "V1,V2,..."),
        help="a parameter and the comma-separated values to try (repeatable: the grid is their product)",
    )  # fmt: skip
    sweep.add_argument(
        "--fix",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a parameter held fixed in every run",
    )
    sweep.add_argument("--notebooks", default="05", metavar="NN,NN", help="notebooks per run (default: 05)")
    sweep.add_argument("--out", type=Path, metavar="DIR", help="default: reports/sweep-<names>")
    _execution_options(sweep)
    sweep.set_defaults(handler=_sweep)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    from leukemia.data import DataError

    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # a kill ends a run as cleanly as Ctrl-C
    try:
        return int(args.handler(args))
    except (DataError, RunError, FileNotFoundError) as exc:
        print(f"leukemia {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"leukemia {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

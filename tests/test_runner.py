"""leukemia.runner / report and the `leukemia run|report|sweep|params` commands, used as a person would.

The runs here use small, fast parameter sets (one or two notebooks); the full default run is what
`make report` does.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from leukemia import config
from leukemia.report import render_report
from leukemia.runner import DataLimits, RunError, parameters, run_name, select_notebooks, validate


def cli(
    *args: str, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leukemia.cli", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


# ------------------------------------------------------------------------ parameters


def test_parameters_come_from_the_notebooks() -> None:
    specs = parameters()
    assert {"K_GENES", "PREPROCESSING", "SELECTOR", "CV_FOLDS", "MODELS", "DATA_DIR"} <= set(specs)
    k = specs["K_GENES"]
    assert k.type is int and k.default == 50 and "genes" in k.help
    assert specs["PREPROCESSING"].defaults["03_preprocessing.ipynb"] == "dudoit"
    assert specs["PREPROCESSING"].default == "minmax"  # the modelling notebook's default stands for the run
    assert specs["PS_THRESHOLD"].type is float and specs["FETCH"].type is bool


def test_validate_converts_by_the_defaults_type() -> None:
    specs = parameters(select_notebooks("01,05,06"))
    typed = validate({"K_GENES": "20", "FETCH": "false", "PS_THRESHOLD": "0.25"}, specs)
    assert typed == {"K_GENES": 20, "FETCH": False, "PS_THRESHOLD": 0.25}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"K_GENE": "5"}, r"unknown parameter\(s\) \['K_GENE'\]; the notebooks take \[.*'K_GENES'"),
        ({"K_GENES": "many"}, r"parameter K_GENES: 'many' is not a valid int"),
        ({"K_GENES": "2.5"}, r"parameter K_GENES: '2.5' is not a valid int"),
        ({"FETCH": "maybe"}, r"parameter FETCH: 'maybe' is not a valid bool"),
        ({"K_GENES": "0"}, r"K_GENES = 0 is out of range"),
        ({"CV_FOLDS": "12"}, r"CV_FOLDS = 12 is out of range: must be between 2 and 11"),
        ({"PREPROCESSING": "log2"}, r"PREPROCESSING = 'log2' is out of range: choose one of"),
        ({"SELECTOR": "lasso"}, r"SELECTOR = 'lasso' is out of range"),
        ({"MODELS": "svm"}, r"parameter MODELS: unknown model"),
        ({"PS_THRESHOLD": "1.5"}, r"PS_THRESHOLD = 1.5 is out of range"),
    ],
)
def test_bad_parameters_are_refused(given: dict[str, str], message: str, golub) -> None:
    with pytest.raises(RunError, match=message):
        validate(given, parameters(select_notebooks("01,05,06")), DataLimits.of(golub))


def test_bounds_come_from_the_data(golub, bladder_dir: Path, tmp_path: Path) -> None:
    """K_GENES up to the genes Dudoit's filter keeps on the training set; folds up to the smallest class."""
    import yaml

    from leukemia.spec import load_dataset

    specs = parameters(select_notebooks("05"))
    limits = DataLimits.of(golub)
    assert (limits.smallest_class, limits.genes) == (11, 3051)
    with pytest.raises(RunError, match=r"K_GENES = 3052 is out of range: must be between 1 and 3051"):
        validate({"K_GENES": "3052"}, specs, limits)
    assert validate({"K_GENES": "3051", "PREPROCESSING": "dudoit"}, specs, limits)["K_GENES"] == 3051
    described = {
        "name": "b", "expression": str(bladder_dir / "expression.tsv.gz"),
        "labels": str(bladder_dir / "samples.csv"), "class_column": "cancer", "classes": ["Normal", "Cancer"],
    }  # fmt: skip
    (tmp_path / "dataset.yaml").write_text(yaml.safe_dump(described))
    bladder = DataLimits.of(load_dataset(tmp_path / "dataset.yaml"))
    assert bladder.smallest_class == 6  # 8 Normal samples, 30% held out
    with pytest.raises(RunError, match=r"CV_FOLDS = 7 is out of range: must be between 2 and 6"):
        validate({"CV_FOLDS": "7"}, specs, bladder)


def test_fold_defaults_adapt_to_a_small_class_and_every_bad_value_is_named_at_once() -> None:
    from leukemia.runner import adapted_defaults

    specs = parameters(select_notebooks("05,09"))
    small = DataLimits(smallest_class=3, genes=500, n_classes=4)  # a class of 5 samples, 3 of them training
    assert validate({}, specs, small) == {}, "the defaults (5 folds) no longer stop the run"
    assert adapted_defaults({}, specs, small) == {"CV_FOLDS": 3, "OUTER_FOLDS": 3}
    with_10 = parameters(select_notebooks("10"))  # 1000 genes for clustering, where the filter keeps 500
    assert adapted_defaults({}, with_10, small) == {"N_GENES": 500}
    assert validate({"PREPROCESSING": "none", "N_GENES": "800"}, with_10, small)["N_GENES"] == 800
    with pytest.raises(RunError, match="N_GENES = 800 is out of range"):  # 10 filters by default
        validate({"N_GENES": "800"}, with_10, small)
    assert adapted_defaults({"CV_FOLDS": 2}, specs, small) == {"OUTER_FOLDS": 3}, "a value given stays"
    assert adapted_defaults({}, specs, DataLimits(smallest_class=11, genes=500)) == {}
    with pytest.raises(RunError) as refused:  # values the user gave are refused, all in one message
        validate({"CV_FOLDS": "5", "OUTER_FOLDS": "4", "K_GENES": "501"}, specs, small)
    message = str(refused.value)
    for part in ("CV_FOLDS = 5 is out of range: must be between 2 and 3", "OUTER_FOLDS = 4 is out of range",
                 "K_GENES = 501 is out of range: must be between 1 and 500"):  # fmt: skip
        assert part in message


def test_the_runner_reads_the_limits_and_lets_the_data_go(bladder_yaml: Path, monkeypatch) -> None:
    """The run is planned from the data's limits and name; the data set itself is not kept."""
    import gc
    import weakref

    from leukemia import runner
    from leukemia.spec import load_dataset

    read: list[weakref.ref] = []

    def read_and_watch(given, verify):
        data = load_dataset(given["DATASET"], verify=verify)
        read.append(weakref.ref(data.X_train))
        return data

    monkeypatch.setattr(runner, "_read_data", read_and_watch)
    limits, name = runner._read_limits({"DATASET": str(bladder_yaml)}, verify=True)
    gc.collect()
    assert read and read[0]() is None, "the runner still holds the data set's matrix"
    assert limits == DataLimits.of(load_dataset(bladder_yaml)) and name == load_dataset(bladder_yaml).name
    monkeypatch.undo()
    assert runner._read_limits({"DATASET": "golub", "DATA_DIR": "/nonexistent"}, verify=True) == (None, None)


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's; elsewhere it does nothing"
)
@pytest.mark.slow
def test_memory_python_freed_goes_back_to_the_system() -> None:
    """glibc keeps freed heap blocks; _return_freed_memory (called after the runner reads) hands them back."""
    script = """
import numpy as np
from leukemia.runner import _return_freed_memory
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096
np.ones(2 << 20)  # 16 MB, mapped and unmapped: glibc now serves blocks up to 16 MB from its heap
blocks = [np.ones(1 << 17) for _ in range(300)]  # 300 MB of 1-MB blocks on the heap
keep = np.ones(1 << 17)  # one block above them: the heap cannot shrink from its top
del blocks
before = rss()
_return_freed_memory()
print(before - rss())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert int(done.stdout) > 200e6, "freed heap memory stayed with the process"


def test_search_space_parameters_are_checked() -> None:
    with pytest.raises(RunError, match=r"SEARCH_MODELS: unknown model"):
        validate({"SEARCH_MODELS": "svm"}, parameters(select_notebooks("09")))


def test_run_name_and_notebook_selection() -> None:
    assert run_name({}) == "default"
    assert run_name({"SELECTOR": "signal_to_noise", "K_GENES": 20}) == "K_GENES-20_SELECTOR-signal_to_noise"
    assert [p.name[:2] for p in select_notebooks("5,04")] == ["04", "05"]
    with pytest.raises(RunError, match=r"unknown notebook\(s\) \['99'\]"):
        select_notebooks("99")


# ------------------------------------------------------------------- the commands


def test_params_command_lists_types_defaults_and_help() -> None:
    result = cli("params", "05")
    assert result.returncode == 0, result.stderr
    assert "05_modeling.ipynb" in result.stdout
    assert (
        "K_GENES" in result.stdout
        and "default 50" in result.stdout
        and "genes kept by the selector" in result.stdout
    )


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """In this process: the console script itself is started by test_cli and the tests above."""
    from leukemia.cli import main

    for command in ("fetch", "params", "run", "report", "predict", "sweep", "data"):
        with pytest.raises(SystemExit) as stopped:
            main([command, "--help"])
        assert stopped.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: leukemia {command}")


def test_bad_parameter_fails_before_anything_runs(tmp_path: Path) -> None:
    result = cli("run", "--notebooks", "05", "-p", "K_GENES", "0", "--out", str(tmp_path / "run"))
    assert result.returncode == 1
    assert "K_GENES = 0 is out of range" in result.stderr
    assert not (tmp_path / "run").exists(), "nothing ran, nothing was written"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A real run of notebooks 01 and 03 with a non-default parameter, rendered."""
    out = tmp_path_factory.mktemp("run") / "quick"
    params = out.parent / "params.yaml"
    params.write_text("PREPROCESSING: minmax\n")
    result = cli(
        "run", "--notebooks", "01,03", "-f", str(params), "-p", "FETCH", "false", "--out", str(out), "-q"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("report.html")
    return out


@pytest.mark.slow
def test_run_directory_contents(quick_run: Path) -> None:
    assert sorted(p.name for p in quick_run.iterdir()) == [
        "01_load.ipynb", "03_preprocessing.ipynb", "manifest.json", "metrics.csv", "report.html",
    ]  # fmt: skip
    manifest = json.loads((quick_run / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["non_default_parameters"] == {"PREPROCESSING": "minmax", "FETCH": False}
    assert manifest["data_sha256"] == config.DATA_SHA256
    described = manifest["dataset"]
    assert (described["name"], described["classes"], described["genes"]) == ("golub", ["ALL", "AML"], 7129)
    assert described["samples"]["train"] == {"ALL": 27, "AML": 11, "total": 38}
    assert described["scale_used"] == "linear" and "38 training and 34 independent" in described["split"]
    assert manifest["notebooks"] == ["01_load.ipynb", "03_preprocessing.ipynb"]
    assert "scikit-learn" in manifest["package_versions"] and manifest["started"] <= manifest["finished"]
    import nbformat

    executed = nbformat.read(quick_run / "03_preprocessing.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'PREPROCESSING = "minmax"' in injected[0].source
    assert list(pd.read_csv(quick_run / "metrics.csv").columns)[:3] == ["model", "protocol", "train_accuracy"]


@pytest.mark.slow
def test_report_is_one_self_contained_page(quick_run: Path) -> None:
    page = (quick_run / "report.html").read_text()
    assert "<title>Golub et al. (1999) leukemia analysis</title>" in page
    assert page.count('<section id="nb-') == 2
    assert 'href="#nb-01_load"' in page and 'id="nb-03_preprocessing"' in page
    assert "data:image/png;base64," in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "https://cdn" not in page
    assert "highlight hl-ipython3" not in page  # code hidden by default


@pytest.mark.slow
def test_a_headless_servers_backend_loses_no_figure(quick_run: Path, tmp_path: Path) -> None:
    """MPLBACKEND=Agg (headless servers, CI images) must not silently drop the figures."""
    out = tmp_path / "agg"
    result = cli(
        "run", "--notebooks", "01,03", "-p", "PREPROCESSING", "minmax", "-p", "FETCH", "false",
        "--out", str(out), "-q", env={"MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = [(run / "report.html").read_text().count("<img") for run in (quick_run, out)]
    assert figures[0] == figures[1] > 0, figures


@pytest.mark.slow
def test_a_report_on_other_data_opens_with_the_answer(quick_run: Path, tmp_path: Path) -> None:
    """Golub's report keeps the course's order; on other data the summary (whose first section is the answer)
    comes first, the rest in order — whether the runner says so or the run's manifest does."""
    import nbformat

    copy = tmp_path / "copy"
    shutil.copytree(quick_run, copy)
    summary = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# 11 · Summary\n\n## The answer")]
    )
    nbformat.write(summary, copy / "11_summary.ipynb")
    render_report(copy, answer_first=False)
    order = re.findall(r'<section id="nb-([^"]+)"', (copy / "report.html").read_text())
    assert order == ["01_load", "03_preprocessing", "11_summary"]
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "dataset": {"name": "bladder"}}))
    render_report(copy)  # from the manifest: other data
    page = (copy / "report.html").read_text()
    assert re.findall(r'<section id="nb-([^"]+)"', page) == ["11_summary", "01_load", "03_preprocessing"]
    assert '<a href="#nb-11_summary">The answer — 11 · Summary</a>' in page


def test_report_command_rerenders_identically_and_can_show_code(quick_run: Path, tmp_path: Path) -> None:
    before = (quick_run / "report.html").read_text()
    assert cli("report", str(quick_run)).returncode == 0
    assert (quick_run / "report.html").read_text() == before, "rendering is deterministic"
    copy = tmp_path / "copy"
    shutil.copytree(quick_run, copy)
    assert cli("report", str(copy), "--show-code").returncode == 0
    assert "highlight hl-ipython3" in (copy / "report.html").read_text()


@pytest.mark.slow
def test_failing_notebook_is_reported_honestly(tmp_path: Path) -> None:
    empty = tmp_path / "no-data"
    empty.mkdir()
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.html").write_text("an old report")  # a stale success must not survive
    result = cli(
        "run", "--notebooks", "01", "-p", "DATA_DIR", str(empty), "-p", "FETCH", "false", "--out", str(out)
    )
    assert result.returncode == 1
    assert "01_load.ipynb failed (AssertionError: data files" in result.stderr
    assert not (out / "report.html").exists() and not (out / "metrics.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
    assert "are missing" in (out / "01_load.ipynb").read_text(), "the executed notebook keeps the traceback"


@pytest.mark.slow
def test_two_point_sweep(tmp_path: Path, data_dir: Path) -> None:
    fast = ("--fix", "MODELS", "knn,naive_bayes")  # two of the ten seed models keep the test quick
    result = cli(
        "sweep", "-p", "K_GENES", "10,20", *fast, "--notebooks", "05,06", "--out", str(tmp_path), "-q"
    )
    assert result.returncode == 0, result.stderr
    page = Path(result.stdout.strip())
    assert page.name == "sweep.html" and "data:image/png;base64," in page.read_text()
    metrics = pd.read_csv(tmp_path / "sweep_metrics.csv")
    assert sorted(metrics["K_GENES"].unique()) == [10, 20]
    assert set(metrics["protocol"]) == {"seed", "golub"}
    assert len(metrics) == 2 * (2 + 3)  # per point: the two seed models and the three of the golub protocol
    assert (tmp_path / "K_GENES-10" / "05_modeling.ipynb").exists()


# ------------------------------------------------------------------ in a real browser


@pytest.mark.slow
def test_report_in_headless_chromium(quick_run: Path, tmp_path: Path) -> None:
    from find_browser import find_browser, install_hint
    from playwright.sync_api import sync_playwright

    chromium = find_browser()
    if chromium is None:
        pytest.fail(f"The report's browser test needs Chrome or Chromium. {install_hint()}", pytrace=False)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],  # playwright gives every launch a fresh, empty profile of its own
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((quick_run / "report.html").as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
        targets = page.eval_on_selector_all(
            "nav a", "links => links.map(a => !!document.getElementById(a.getAttribute('href').slice(1)))"
        )
        prompts = page.eval_on_selector_all(".prompt", "ps => ps.filter(p => p.offsetHeight > 0).length")
        answers = page.eval_on_selector_all("details", "ds => ds.map(d => [d.open, d.innerText.length])")
        page.click("details >> nth=0 >> summary")
        opened = page.eval_on_selector("details", "d => [d.open, d.innerText.length]")
        page.click("nav a >> nth=1")
        scrolled = page.evaluate("window.scrollY")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot))
        browser.close()
    assert images and all(complete and width > 0 for complete, width in images), images
    assert targets and all(targets), "every table-of-contents link lands on an existing anchor"
    assert scrolled > 0, "following a contents link moves the page"
    assert prompts == 0, "no In [n] / Out[n] prompt shows in the report"
    assert answers and not any(is_open for is_open, _ in answers), "the exercises' answers start folded"
    assert opened[0] and opened[1] > 3 * answers[0][1], "a click unfolds the answer"
    assert errors == []
    assert shot.stat().st_size > 10_000
    if os.environ.get("LEUKEMIA_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["LEUKEMIA_SCREENSHOT"])


# ------------------------------------------------------------ interruption, determinism


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_interrupted_run_claims_nothing_and_the_next_starts_clean(signal_name: str, tmp_path: Path) -> None:
    import signal
    import time

    out = tmp_path / "run"
    # As in a terminal: SIGINT at its default even when this test runs in a background job, which a
    # shell without job control starts with SIGINT ignored (and Python keeps ignoring it then).
    process = subprocess.Popen(
        [sys.executable, "-m", "leukemia.cli", "run", "--notebooks", "01,05", "--out", str(out), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out / "05_modeling.ipynb").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (out / "05_modeling.ipynb").exists(), "the run reached notebook 05"
    process.send_signal(getattr(signal, signal_name))
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode != 0, f"not interrupted; stdout: {stdout[-1000:]!r} stderr: {stderr[-3000:]!r}"
    assert "interrupted" in stderr
    assert not (out / "report.html").exists() and not (out / "metrics.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    # The next run in the same directory starts clean: the interrupted notebook is gone.
    again = cli("run", "--notebooks", "01", "--out", str(out), "-q")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["01_load.ipynb"]
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def _text_outputs(path: Path) -> list[str]:
    """Every output's text, in order. A cell's consecutive prints to one stream count as one text (nbval
    merges them too): how the kernel cut the stream into messages depends on timing, not on the notebook."""
    import nbformat

    texts = []
    for cell in nbformat.read(path, as_version=4).cells:
        previous = None
        for output in cell.get("outputs", []):
            stream = output.get("name") if output.get("output_type") == "stream" else None
            if stream is not None and stream == previous:
                texts[-1] += output["text"]
            else:
                texts.append(output.get("text", "") + output.get("data", {}).get("text/plain", ""))
            previous = stream
    return texts


@pytest.mark.slow
def test_two_runs_with_the_same_parameters_agree(tmp_path: Path) -> None:
    runs = [tmp_path / "first", tmp_path / "second"]
    for out in runs:
        result = cli(
            "run", "--notebooks", "05,06", "-p", "MODELS", "knn,naive_bayes", "--out", str(out), "-q"
        )
        assert result.returncode == 0, result.stderr
        assert (out / ".cache").is_dir(), "the run's cache lives inside its own directory"
    first, second = ((out / "metrics.csv").read_text() for out in runs)
    assert first == second and len(first.splitlines()) == 1 + 2 + 3
    assert _text_outputs(runs[0] / "05_modeling.ipynb") == _text_outputs(runs[1] / "05_modeling.ipynb")


# ------------------------------------------------------------------ your own data


@pytest.fixture(scope="module")
def bladder_yaml(tmp_path_factory: pytest.TempPathFactory, bladder_dir: Path) -> Path:
    """The bladder data as two classes (Normal vs Cancer, batch checked) described as a user would."""
    import yaml

    folder = tmp_path_factory.mktemp("bladder")
    description = {
        "name": "bladder-2004", "expression": str(bladder_dir / "expression.tsv.gz"),
        "labels": str(bladder_dir / "samples.csv"), "class_column": "cancer", "classes": ["Normal", "Cancer"],
        "batch_column": "batch",
    }  # fmt: skip
    (folder / "dataset.yaml").write_text(yaml.safe_dump(description))
    return folder / "dataset.yaml"


#: The multi-class runs: (name, class column, classes, files), in two of the formats users bring.
K_CLASS_RUNS = {
    3: ("bladder-cancer", "cancer", ["Normal", "Biopsy", "Cancer"], {
        "expression": "expression.tsv.gz", "labels": "samples.csv"}),
    5: ("bladder-outcome", "outcome", ["Normal", "Biopsy", "mTCC", "sTCC-CIS", "sTCC+CIS"], {
        "expression": "bladder_series_matrix.txt.gz"}),  # labels from the GEO !Sample_ lines
}  # fmt: skip


@pytest.fixture(scope="module", params=sorted(K_CLASS_RUNS), ids=lambda k: f"{k} classes")
def bladder_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, bladder_dir: Path):
    """All the notebooks on the bladder data with 3 and with 5 classes, as a user would run them."""
    import yaml

    name, column, classes, files = K_CLASS_RUNS[request.param]
    folder = tmp_path_factory.mktemp(name)
    description = {"name": name, "class_column": column, "classes": classes, "batch_column": "batch"}
    description |= {key: str(bladder_dir / file) for key, file in files.items()}
    (folder / "dataset.yaml").write_text(yaml.safe_dump(description))
    out = folder / "run"
    result = cli("run", "--data", str(folder / "dataset.yaml"), "--out", str(out), "-q", timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, name, classes


@pytest.mark.slow
def test_class_discovery_looks_for_one_cluster_per_class_past_ten_classes(tmp_path: Path) -> None:
    """N_CLUSTERS = 0 means one cluster per class for any number of classes (MILE had 18); a user who
    asks for a number asks for 2 to 10. An 18-class study run stopped at this notebook's check."""
    from leukemia.synthetic import make_study, write_study

    X, y = make_study(400, 144, 12, n_informative=48, effect=3.0)
    spec = write_study(tmp_path / "study", X, y)
    out = tmp_path / "run"
    result = cli(
        "run", "--data", str(spec), "--notebooks", "10", "--out", str(out), "-q",
        "-p", "N_GENES", "100", "-p", "STABILITY_RUNS", "5", "-p", "CLUSTER_PERMUTATIONS", "20",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    notebook = json.loads((out / "10_discovery.ipynb").read_text())
    shown = "".join(
        "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    )
    assert re.search(r"som\s+12\s+\d+", shown), "the discovery table: the SOM asked for 12 clusters"
    assert "C12" in shown, "the contingency tables show the twelfth class"


@pytest.mark.slow
def test_all_notebooks_run_on_the_bladder_data_with_k_classes(bladder_run) -> None:
    import nbformat

    from leukemia.inline import failures, with_values

    run, name, classes = bladder_run
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["dataset"]["name"] == name
    assert manifest["dataset"]["classes"] == classes and manifest["dataset"]["genes"] == 22283
    metrics = pd.read_csv(run / "metrics.csv")
    per_class = {f"{m}_{c}" for c in classes for m in ("precision", "recall", "f1", "roc_auc")}
    assert per_class | {"balanced_accuracy", "macro_f1", "roc_auc"} <= set(metrics.columns)
    on_test = metrics[metrics["protocol"] != "nested_cv"]
    assert set(on_test["n_test"]) == {18}
    assert set(metrics["protocol"]) == {"seed", "golub", "honest", "nested_cv"}
    nested = metrics[metrics["protocol"] == "nested_cv"].iloc[0]  # held-out training samples, every one once
    assert nested["n_test"] == 39 and "nested CV" in nested["chosen_on"]
    assert nested["ci_low"] < nested["accuracy"] < nested["ci_high"]
    assert on_test["roc_auc"].between(0, 1).all() and on_test["balanced_accuracy"].between(0, 1).all()
    page = (run / "report.html").read_text()
    assert f"<title>{name}: expression analysis</title>" in page
    # The answer first: the summary's section opens the page, its first heading the answer, then the lessons
    sections = re.findall(r'<section id="nb-([^"]+)"', page)
    assert sections[0] == "11_summary" and sections[1:] == sorted(sections[1:]) and len(sections) == 12
    assert re.findall(r"<h2[^>]*>(.*?)<", page[page.index("<main>") :])[0] == "The answer"
    answer = page[: page.index('<section id="nb-01_load"')]
    for shown in (
        "balanced accuracy",
        "Nested cross-validation",
        "The genes the chosen model uses",
        "called",
    ):
        assert shown in answer, shown
    # An analysis, not a course: no exercises, no learning goals, one reference list (the appendix's)
    for furniture in ("Try it yourself", "What you will learn", "Predict first", "solutions/", "Kaggle"):
        assert furniture not in page, furniture
    assert page.count("Molecular classification of cancer") == 1 and page.count(">References<") == 1
    # Every figure of the generic cells is there; no Golub-only lesson is.
    expected = 0
    for path in sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            generic = not {"golub-only", "course", "counts"} & set(cell.metadata.get("tags", []))
            expected += generic and cell.cell_type == "code" and "plt.show()" in cell.source
    assert page.count("<img") == expected > 10
    assert f"With <strong>{len(classes)} classes</strong>" in page  # 04 says what changes for K classes
    # What the notebooks computed speaks of this data set's classes, never of Golub's, and warns of nothing.
    for path in sorted(run.glob("[0-9][0-9]_*.ipynb")):
        executed = nbformat.read(path, as_version=4)
        assert not failures(executed), f"{path.name}: every inline value evaluated"
        for cell in with_values(executed).cells:
            if cell.cell_type == "markdown":  # the prose, with its values
                assert not re.search(r"\b(ALL|AML)\b", cell.source) or "golub" in cell.source.lower(), (
                    f"{path.name}: {cell.source[:300]}"
                )
                assert not re.search(r"\bnan\b|<NA>", cell.source, flags=re.IGNORECASE), cell.source[:300]
            for output in cell.get("outputs", []):
                assert output.get("name") != "stderr", f"{path.name}: {output.get('text', '')[:300]}"
                text = output.get("text", "") + "".join(
                    str(output.get("data", {}).get(kind, "")) for kind in ("text/plain", "text/markdown")
                )
                assert not re.search(r"\b(ALL|AML)\b", text), f"{path.name}: {text[:300]}"


def test_a_broken_dataset_stops_the_run_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "dataset.yaml").write_text(
        "name: x\nexpression: nothing.tsv\nclass_column: c\nclasses: [A, B]\n"
    )
    out = tmp_path / "run"
    result = cli("run", "--data", str(tmp_path / "dataset.yaml"), "--out", str(out))
    assert result.returncode == 1 and "field 'expression': no such file" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_a_sweep_on_the_bladder_data(bladder_yaml: Path, tmp_path: Path) -> None:
    fast = ("--fix", "MODELS", "knn,naive_bayes")
    result = cli(
        "sweep", "-p", "K_GENES", "10,20", *fast, "--data", str(bladder_yaml), "--out", str(tmp_path), "-q"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = pd.read_csv(tmp_path / "sweep_metrics.csv")
    assert set(metrics["n_test"]) == {15} and {"precision_Normal", "recall_Cancer"} <= set(metrics.columns)
    assert "accuracy is measured on the 15 test samples" in (tmp_path / "sweep.html").read_text()
    refused = cli("sweep", "-p", "CV_FOLDS", "5,7", "--data", str(bladder_yaml), "--out", str(tmp_path / "x"))
    assert (
        refused.returncode == 1 and "CV_FOLDS = 7 is out of range: must be between 2 and 6" in refused.stderr
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"N_GENES": "3052"},
            r"N_GENES = 3052 is out of range: must be between 2 and 3051, the genes Dudoit",
        ),
        ({"N_GENES": "1"}, r"N_GENES = 1 is out of range"),
        ({"N_CLUSTERS": "1"}, r"N_CLUSTERS = 1 is out of range: must be 0 or 2 to 10"),
        ({"STABILITY_RUNS": "2"}, r"STABILITY_RUNS = 2 is out of range: must be between 5 and 200"),
        ({"CLUSTER_PERMUTATIONS": "5000"}, r"CLUSTER_PERMUTATIONS = 5000 is out of range"),
    ],
)
def test_class_discovery_parameters_are_checked_before_the_run(
    given: dict[str, str], message: str, golub
) -> None:
    with pytest.raises(RunError, match=message):
        validate(given, parameters(select_notebooks("10")), DataLimits.of(golub))
    ok = {"N_GENES": "3051", "N_CLUSTERS": "0", "STABILITY_RUNS": "5", "CLUSTER_PERMUTATIONS": "20"}
    assert validate(ok, parameters(select_notebooks("10")), DataLimits.of(golub))["N_GENES"] == 3051


def test_notebooks_start_two_at_a_time_after_the_ones_whose_results_they_reuse(tmp_path: Path) -> None:
    from leukemia.runner import _Plan, _startable

    paths = select_notebooks(None)
    plan = _Plan(paths, {}, {}, tmp_path, False, None, True, data_ready=True, parallel=2)
    first = [p.name[:2] for p in _startable(list(paths), set(), plan)]
    assert first[:2] == ["09", "10"], "the longest chain starts first, then the longest notebook outside it"
    assert not {"07", "08", "11"} & set(first), "they reuse 05's, 06's and 09's cached results"
    assert "08" in [p.name[:2] for p in _startable(list(paths), {"09"}, plan)]
    assert "07" in [p.name[:2] for p in _startable(list(paths), {"05"}, plan)]
    assert "11" not in [p.name[:2] for p in _startable(list(paths), {"05", "09"}, plan)]
    assert "11" in [p.name[:2] for p in _startable(list(paths), {"05", "06", "09"}, plan)]
    only_some = select_notebooks("07,11")  # prerequisites outside the run do not hold anything back
    assert [p.name[:2] for p in _startable(list(only_some), set(), replace(plan, paths=only_some))] == [
        "11",
        "07",
    ]
    fetching = replace(plan, data_ready=False)  # notebook 01 fetches Golub's files: it runs alone, first
    assert [p.name[:2] for p in _startable(list(paths), set(), fetching)] == ["01"]


def test_each_kernel_gets_its_share_of_the_cores_for_its_threads(tmp_path: Path, monkeypatch) -> None:
    from leukemia.runner import THREAD_VARIABLES, _kernel_environment, _Plan

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    for variable in THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    plan = _Plan(select_notebooks(None), {}, {}, tmp_path, False, None, True, data_ready=True, parallel=2)
    assert {_kernel_environment(plan)[v] for v in THREAD_VARIABLES} == {"4"}
    assert {_kernel_environment(replace(plan, parallel=16))[v] for v in THREAD_VARIABLES} == {"1"}
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's choice stands
    assert _kernel_environment(plan)["OMP_NUM_THREADS"] == "3"


@pytest.mark.slow
def test_a_run_in_parallel_gives_what_a_run_in_order_gives(tmp_path: Path) -> None:
    runs = {n: tmp_path / f"parallel{n}" for n in (1, 2)}
    for n, out in runs.items():
        result = cli(
            "run", "--notebooks", "01,03,04", "--parallel", str(n), "--out", str(out), "-q", "--no-report"
        )
        assert result.returncode == 0, result.stderr
    for name in ("01_load.ipynb", "03_preprocessing.ipynb", "04_selection.ipynb"):
        assert _text_outputs(runs[1] / name) == _text_outputs(runs[2] / name), name
    manifest = json.loads((runs[2] / "manifest.json").read_text())
    assert manifest["status"] == "complete"


def test_relative_paths_are_the_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels start in the notebooks' folder, so a relative DATA_DIR or DATASET is resolved where the
    user typed it."""
    from leukemia.runner import _plan

    monkeypatch.chdir(tmp_path)
    plan = _plan(
        {"DATA_DIR": "golub-files"},
        notebooks="01",
        out_dir=tmp_path / "run",
        verify=True,
        scheduler=None,
        data=None,
    )
    assert plan.typed["DATA_DIR"] == str(tmp_path / "golub-files")
    (tmp_path / "study").mkdir()
    with pytest.raises(RunError, match=re.escape(str(tmp_path / "study" / "dataset.yaml"))):
        _plan(
            {},
            notebooks="01",
            out_dir=tmp_path / "run",
            verify=True,
            scheduler=None,
            data="study/dataset.yaml",
        )


@pytest.mark.slow
def test_the_bladder_model_calls_its_held_out_samples_given_as_a_gct_file(
    bladder_run, tmp_path: Path
) -> None:
    """A model a bladder run saved calls the run's test samples, given as a bare GCT matrix, as it did."""
    import numpy as np

    from leukemia.spec import load_dataset

    run, name, classes = bladder_run
    data = load_dataset(run.parent / "dataset.yaml")
    run_calls = pd.read_csv(run / "model" / "test_predictions.csv", index_col="sample", dtype={"sample": str})
    assert sorted(run_calls.index) == sorted(data.y_test.index.astype(str))
    X = data.X_test  # RMA log2 values, as in the file
    lines = ["#1.2", f"{X.shape[1]}\t{X.shape[0]}", "Name\tDescription\t" + "\t".join(map(str, X.index))]
    lines += [f"{gene}\tna\t" + "\t".join(repr(float(v)) for v in X[gene]) for gene in X.columns]
    (tmp_path / "held_out.gct").write_text("\n".join(lines) + "\n")
    out = tmp_path / "calls.csv"
    result = cli("predict", str(run), str(tmp_path / "held_out.gct"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{len(X)} sample(s) called" in result.stdout and "log2" in result.stdout
    new = pd.read_csv(out, index_col="sample", dtype={"sample": str}).loc[run_calls.index]
    assert new["call"].tolist() == run_calls["call"].tolist()
    numbers = [c for c in run_calls.columns if c.startswith(("probability", "score"))]
    assert len(numbers) == len(classes)
    assert np.array_equal(new[numbers].to_numpy(), run_calls[numbers].to_numpy())
    card = json.loads((run / "model" / "model_card.json").read_text())
    assert card["classes"] == classes and card["training_data"]["name"] == name
    assert card["estimates"]["held_out"]["n_correct"] == int(run_calls["correct"].sum())
    # The batch travels with the class in these data: the card and every prediction say so
    assert card["confounding"]["batch"].startswith("confounded")
    assert "caution: class and batch were confounded" in result.stdout
    assert "**Caution**" in (run / "model" / "model_card.md").read_text()

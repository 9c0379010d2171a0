"""`make test` on the machines the README promises: what nbval may ignore, and the browser lookup.

This machine has one Python and one platform, so other ones are imitated: a committed notebook's
provenance output is rewritten as another interpreter and platform would print it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from find_browser import BrowserNotFound, find_browser, install_hint

from leukemia import config

#: The checkout these tests run in.
ROOT = Path(__file__).resolve().parents[1]

NOTEBOOK = config.NOTEBOOKS_DIR / "01_load.ipynb"


def _nbval(notebook: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), str(notebook)],
        capture_output=True, text=True, timeout=600, cwd=notebook.parent,
    )  # fmt: skip


def _rewrite_outputs(source: Path, target: Path, old: str, new: str) -> None:
    """A copy of ``source`` whose committed text outputs say ``new`` where they said ``old``."""
    notebook = json.loads(source.read_text())
    hits = 0
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", []))
            if old in text:
                output["text"] = text.replace(old, new).splitlines(keepends=True)
                hits += 1
    assert hits, f"{old!r} is not in the outputs of {source.name}"
    target.write_text(json.dumps(notebook))


@pytest.mark.slow
def test_another_python_and_platform_still_pass_nbval(tmp_path: Path) -> None:
    """The provenance lines as Python 3.13 on macOS prints them: shown to the reader, not compared."""
    import platform

    here = platform.python_version()
    table = json.loads(NOTEBOOK.read_text())["cells"][-1]["outputs"][0]["text"]
    python_line = next(line for line in table if line.strip().startswith("python "))
    xgboost_line = next(line for line in table if line.strip().startswith("xgboost"))
    elsewhere_python = python_line.replace(here, "3.13.1" if here != "3.13.1" else "3.14.0")
    name = "xgboost-cpu" if "xgboost-cpu" in xgboost_line else "xgboost"
    other = "xgboost" if name == "xgboost-cpu" else "xgboost-cpu"
    elsewhere_xgboost = xgboost_line.replace(name, other)

    copy = tmp_path / "01_load.ipynb"
    _rewrite_outputs(NOTEBOOK, copy, python_line, elsewhere_python)
    _rewrite_outputs(copy, copy, xgboost_line, elsewhere_xgboost)
    result = _nbval(copy)
    assert result.returncode == 0, result.stdout[-3000:]

    # The same notebook with a changed *result* still fails: nbval stays strict on everything else.
    _rewrite_outputs(copy, copy, "mislabels 14 of 34", "mislabels 15 of 34")
    result = _nbval(copy)
    assert result.returncode == 1 and "mislabels 15 of 34" in result.stdout


# --------------------------------------------------------------------------- the browser


def _fake_executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_browser_lookup_order(tmp_path: Path) -> None:
    bin_dir, root = tmp_path / "bin", tmp_path / "root"
    chrome = _fake_executable(bin_dir / "google-chrome-stable")
    bundle = _fake_executable(root / "Applications/Chromium.app/Contents/MacOS/Chromium")
    chosen = _fake_executable(tmp_path / "my" / "chrome")

    def look(env: dict[str, str], *, playwright: Path | None = None) -> Path | None:
        return find_browser(
            env={"PATH": str(bin_dir), **env}, root=root, playwright_browser=lambda: playwright
        )

    assert look({"CHROME_PATH": str(chosen)}) == chosen, "an explicit choice wins"
    assert look({}) == chrome, "then a browser on PATH (the usual Linux names)"
    chrome.unlink()
    assert look({}) == bundle, "then the macOS application bundles"
    bundle.unlink()
    own = _fake_executable(tmp_path / "ms-playwright" / "chrome")
    assert look({}, playwright=own) == own, "then playwright's own download"
    assert look({}) is None


def test_a_wrong_explicit_choice_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFound, match=r"CHROME_PATH=.*nothing.* is not an executable file"):
        find_browser(env={"CHROME_PATH": str(tmp_path / "nothing"), "PATH": ""}, root=tmp_path)


@pytest.mark.parametrize(
    ("system", "expected"), [("Linux", "apt-get install chromium"), ("Darwin", "brew install")]
)
def test_install_hint_names_what_to_install(system: str, expected: str) -> None:
    hint = install_hint(system)
    assert expected in hint and "CHROME_PATH" in hint


def test_make_browser_stops_with_one_clear_message(tmp_path: Path) -> None:
    """No browser, no way to install one: one message, exit 1 — not a failure deep in the suite."""
    script = ROOT / "tests" / "find_browser.py"
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    env.pop("CHROME_PATH", None)
    env["LEUKEMIA_BROWSER_INSTALL"] = "0"  # as on a machine where nothing can be installed
    env["PLAYWRIGHT_BROWSERS_PATH"] = str(tmp_path / "none")
    result = subprocess.run(
        [sys.executable, str(script), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") <= 4 and "needs Chrome or Chromium" in result.stderr, result.stderr

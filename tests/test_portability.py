"""`make test` on the machines the README promises: what nbval may ignore, and the browser lookup.

This machine has one Python and one platform, so other ones are imitated: a committed notebook's
provenance output (the appendix's) is rewritten as another interpreter and platform would print it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from find_browser import BrowserNotFound, find_browser, install_hint

from leukemia import config

NOTEBOOK = config.NOTEBOOKS_DIR / "01_load.ipynb"
#: The notebook that prints the course's provenance table (package versions, data checksums).
PROVENANCE = config.NOTEBOOKS_DIR / "12_appendix.ipynb"


def _compared(text: str) -> str:
    """What nbval compares of an output: the text after each pattern of tests/nbval_sanitize.cfg, read by
    nbval's own parser and applied as nbval applies them (``re.sub`` in the file's order)."""
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def _outputs(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return ["".join(o.get("text", [])) for c in cells for o in c.get("outputs", []) if o.get("text")]


def test_another_python_and_platform_print_only_what_nbval_ignores() -> None:
    """The provenance table as Python 3.13 on macOS prints it (another interpreter version, ``xgboost``
    instead of ``xgboost-cpu``) is compared equal; any other change, a package's version or a result, is not.
    The committed outputs pass nbval with the same file in make test."""
    import platform

    here = platform.python_version()
    table = next(text for text in _outputs(PROVENANCE) if "python " in text)
    python_line = next(line for line in table.splitlines() if line.strip().startswith("python "))
    xgboost_line = next(line for line in table.splitlines() if line.strip().startswith("xgboost"))
    numpy_line = next(line for line in table.splitlines() if line.strip().startswith("numpy "))
    name = "xgboost-cpu" if "xgboost-cpu" in xgboost_line else "xgboost"
    other = "xgboost" if name == "xgboost-cpu" else "xgboost-cpu"
    elsewhere = table.replace(
        python_line, python_line.replace(here, "3.13.1" if here != "3.13.1" else "3.14.0")
    )
    elsewhere = elsewhere.replace(xgboost_line, xgboost_line.replace(name, other))
    assert elsewhere != table and _compared(elsewhere) == _compared(table)
    older_numpy = table.replace(numpy_line, numpy_line.rstrip() + ".post1")
    assert _compared(older_numpy) != _compared(table), "other packages' versions are compared"
    # A changed *result* is still a difference: nbval stays strict on everything else.
    join = next(text for text in _outputs(NOTEBOOK) if "mislabels 14 of 34" in text)
    assert _compared(join.replace("mislabels 14 of 34", "mislabels 15 of 34")) != _compared(join)


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

"""The `leukemia` console script, called as a user would: in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pooch

from leukemia import config


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leukemia.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_help_lists_fetch() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "fetch" in result.stdout
    fetch_help = run("fetch", "--help")
    assert "--from PATH" in fetch_help.stdout and "--data-dir DIR" in fetch_help.stdout


def test_fetch_from_folder(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "raw"
    result = run("fetch", "--from", str(data_dir), "--data-dir", str(target), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok  ") == 3
    assert result.stderr == "", "--quiet: no progress bar and no word of each file copied"
    for name, sha in config.DATA_SHA256.items():
        assert pooch.file_hash(str(target / name)) == sha


def test_fetch_error_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    result = run("fetch", "--from", str(tmp_path / "missing.zip"), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("leukemia fetch: error: --from ")
    assert "no such file or folder" in result.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("leukemia")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip().startswith("leukemia ")

"""Find a Chrome or Chromium for the report's browser test, installing one where that is possible.

``make browser`` (part of ``make test``) runs this file: it prints the browser it found, or installs one
(Debian's ``chromium`` when run as root with apt-get, as CI does; else playwright's own download where
the network allows it), or stops with one message that says what to install. The lookup, in order:

1. ``$LEUKEMIA_BROWSER`` or ``$CHROME_PATH`` (an explicit choice; an error if it is not a program);
2. ``chromium``, ``chromium-browser``, ``google-chrome``, ``google-chrome-stable``, ``chrome`` on ``PATH``;
3. the macOS application bundles of Google Chrome and Chromium, in ``/Applications`` and ``~/Applications``;
4. a browser that ``playwright install chromium`` downloaded earlier.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ENV_VARS = ("LEUKEMIA_BROWSER", "CHROME_PATH")
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAC_BUNDLES = (
    "Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "Applications/Chromium.app/Contents/MacOS/Chromium",
)
#: Set to 0 to only look, never install (a machine where nothing may be installed).
INSTALL_ENV_VAR = "LEUKEMIA_BROWSER_INSTALL"


class BrowserNotFound(RuntimeError):
    """An explicitly chosen browser does not exist."""


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def playwright_browser() -> Path | None:
    """The Chromium that ``playwright install chromium`` put in its cache, if it is there."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = Path(playwright.chromium.executable_path)
    except Exception:  # playwright missing or broken: there is no such browser
        return None
    return path if _runnable(path) else None


def find_browser(
    env: Mapping[str, str] | None = None,
    *,
    root: Path = Path("/"),
    playwright_browser: Callable[[], Path | None] = playwright_browser,
) -> Path | None:
    """The first Chrome or Chromium of the lookup order in this module's docstring, or None.

    Raises
    ------
    BrowserNotFound
        ``$LEUKEMIA_BROWSER`` or ``$CHROME_PATH`` names something that is not an executable file.
    """
    env = os.environ if env is None else env
    for name in ENV_VARS:
        if env.get(name, "").strip():
            chosen = Path(env[name].strip()).expanduser()
            if not _runnable(chosen):
                raise BrowserNotFound(f"{name}={chosen} is not an executable file.")
            return chosen
    for name in NAMES:
        found = shutil.which(name, path=env.get("PATH", ""))
        if found:
            return Path(found)
    homes = [root] + ([Path(env["HOME"])] if env.get("HOME") else [])
    for home in homes:
        for bundle in MAC_BUNDLES:
            if _runnable(home / bundle):
                return home / bundle
    return playwright_browser()


def install_hint(system: str | None = None) -> str:
    """What to install on this kind of machine, in one sentence."""
    system = system or platform.system()
    if system == "Darwin":
        how = "install Google Chrome (https://www.google.com/chrome) or `brew install --cask chromium`"
    elif system == "Windows":
        how = "install Google Chrome (https://www.google.com/chrome)"
    else:
        how = "`sudo apt-get install chromium` (Debian, Ubuntu) or your distribution's chromium package"
    return f"Install one — {how} — or point CHROME_PATH at an installed Chrome or Chromium."


def _install() -> None:
    """Debian's chromium as root with apt-get (CI); else playwright's download, where the network allows."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
        if (
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, **quiet).returncode
            == 0
        ):
            return
    subprocess.run(
        [sys.executable, "-m", "playwright", "install", "chromium"],
        check=False,
        capture_output=True,
        timeout=600,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Find (or install) a browser for the report's browser test.")
    parser.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)  # tests fake the disk
    args = parser.parse_args(argv)
    try:
        found = find_browser(root=args.root)
        if found is None and os.environ.get(INSTALL_ENV_VAR, "1") != "0":
            _install()
            found = find_browser(root=args.root)
    except BrowserNotFound as error:
        print(f"The report's browser test needs Chrome or Chromium: {error}", file=sys.stderr)
        return 1
    if found is None:
        print(
            f"The report's browser test needs Chrome or Chromium, and none was found. {install_hint()}",
            file=sys.stderr,
        )
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())

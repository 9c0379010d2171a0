"""Summarise `mutmut results --all true` per module: make mutation prints this after the run.

A mutant counts as killed when a test failed (or timed out) with the bug planted. The score is killed over
the mutants that were run, those no fast test reaches included (mutmut's "no tests"); mutants a narrowed
run (MUTANTS=...) did not reach are counted as "not run" and left out of it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

LINE = re.compile(r"^\s*leukemia\.(?P<module>\w+)\.\S+__mutmut_\d+: (?P<status>.+?)\s*$")
KILLED = {"killed", "timeout"}


def main() -> int:
    results = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in results.splitlines():
        if match := LINE.match(line):
            by_module[match["module"]][match["status"]] += 1
    if not by_module:
        print("no mutants found: run `mutmut run` first", file=sys.stderr)
        return 1
    total: Counter[str] = Counter()
    columns = (
        ("mutants", 9),
        ("not run", 9),
        ("killed", 8),
        ("survived", 10),
        ("no tests", 10),
        ("other", 7),
    )
    print(f"{'module':<12}" + "".join(f"{name:>{width}}" for name, width in columns) + f"{'score':>8}")
    for module in sorted(by_module):
        counts = by_module[module]
        total += counts
        print(_row(module, counts))
    print(_row("all", total))
    return 0


def _row(name: str, counts: Counter[str]) -> str:
    n, not_run = sum(counts.values()), counts["not checked"]
    run = n - not_run
    killed = sum(counts[s] for s in KILLED)
    other = run - killed - counts["survived"] - counts["no tests"]
    score = f"{100 * killed / run:.1f}%" if run else "-"
    return (
        f"{name:<12}{n:>9}{not_run:>9}{killed:>8}{counts['survived']:>10}{counts['no tests']:>10}{other:>7}"
        f"{score:>8}"
    )


if __name__ == "__main__":
    sys.exit(main())

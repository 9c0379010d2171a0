"""Summarise `mutmut results --all true` per module: make mutation prints this after the run.

A mutant counts as killed when a test failed (or timed out) with the bug planted; the score is killed over
all mutants, those no fast test reaches included (mutmut's "no tests").
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
    print(
        f"{'module':<12}{'mutants':>9}{'killed':>8}{'survived':>10}{'no tests':>10}{'other':>7}{'score':>8}"
    )
    for module in sorted(by_module):
        counts = by_module[module]
        total += counts
        print(_row(module, counts))
    print(_row("all", total))
    return 0


def _row(name: str, counts: Counter[str]) -> str:
    n = sum(counts.values())
    killed = sum(counts[s] for s in KILLED)
    other = n - killed - counts["survived"] - counts["no tests"]
    score = f"{100 * killed / n:.1f}%" if n else "-"
    return f"{name:<12}{n:>9}{killed:>8}{counts['survived']:>10}{counts['no tests']:>10}{other:>7}{score:>8}"


if __name__ == "__main__":
    sys.exit(main())

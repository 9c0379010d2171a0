"""The ``leukemia`` command line (``leukemia --help``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from leukemia import __version__, config

__all__ = ["main"]


def _fetch(args: argparse.Namespace) -> int:
    from leukemia.data import fetch

    paths = fetch(args.data_dir, source=args.source, force=args.force, progressbar=not args.quiet)
    for name, path in paths.items():
        print(f"ok  {name}  sha256 {config.DATA_SHA256[name][:12]}…  {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="leukemia",
        description="Golub et al. (1999) leukemia expression analysis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        help=f"where to put the files (default: ${config.DATA_DIR_ENV_VAR} or data/raw)",
    )
    fetch.add_argument(
        "--force",
        action="store_true",
        help="replace files already there whose checksum is wrong",
    )
    fetch.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(handler=_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    from leukemia.data import DataError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except DataError as exc:
        print(f"leukemia {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"leukemia {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

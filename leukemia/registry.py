"""Named choices (preprocessing, selectors, models, protocols) looked up with one clear error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = ["lookup"]

T = TypeVar("T")


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """Return ``registry[name]``; an unknown name raises ``ValueError`` listing the valid ones.

    Parameters
    ----------
    registry
        Name → entry.
    name
        The name asked for (e.g. a notebook parameter).
    what
        What the names are, for the message (``"model"``, ``"preprocessing"``, …).
    """
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"unknown {what} {name!r}; choose one of {sorted(registry)}.") from None

"""leukemia.registry: one lookup, one error message, for every named choice."""

from __future__ import annotations

import pytest

from leukemia.registry import lookup


def test_lookup_returns_the_entry() -> None:
    assert lookup({"a": 1, "b": 2}, "b", "thing") == 2


def test_unknown_name_lists_the_sorted_choices() -> None:
    with pytest.raises(ValueError, match=r"^unknown thing 'c'; choose one of \['a', 'b'\]\.$"):
        lookup({"b": 2, "a": 1}, "c", "thing")

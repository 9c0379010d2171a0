"""papermill's entry point for the engine that evaluates the prose's inline expressions.

``papermill --engine leukemia-inline`` (``make notebooks``) runs a notebook as :func:`leukemia.run`
does: code cells, then each Markdown cell's ``{eval}`` expressions (:func:`leukemia.kernels.inline_engine`).
"""

from __future__ import annotations

from leukemia.kernels import inline_engine

__all__ = ["InlineEngine"]

#: The engine class papermill loads from this package's ``papermill.engine`` entry point.
InlineEngine = inline_engine()

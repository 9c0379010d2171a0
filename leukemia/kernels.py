"""How the runner executes a notebook: in this interpreter, with an environment that cannot hide outputs.

A notebook's outputs depend on more than its code. Settings inherited from the shell that starts
the kernel can change them silently:

- ``MPLBACKEND=Agg`` (the usual setting on headless servers and CI images) makes every figure draw
  and none appear: a run would "succeed" with no figure in its report;
- ``PYTHONWARNINGS`` (``always``, ``error``) adds warning text to cell outputs or stops a notebook
  on a library's deprecation notice;
- a ``python3`` kernel spec in the user's own Jupyter folder (``~/.local/share/jupyter``, or
  ``$JUPYTER_DATA_DIR``) shadows this environment's: the notebooks would run in another Python,
  with other package versions, or without this package at all.

:func:`execute_notebook` starts every kernel from *this* interpreter with :data:`KERNEL_ENVIRONMENT`
applied, then checks that every cell that shows a figure has an image in its output
(:func:`missing_figures`). A user's ``matplotlibrc`` is neutralised in the kernel by
:func:`leukemia.plotting.set_style`, which also turns inline figures on in any kernel, so notebooks
opened in JupyterLab or checked by nbval behave the same.
"""

from __future__ import annotations

import contextlib
import os
import signal
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat
import zmq
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from traitlets import default

__all__ = [
    "INLINE_BACKEND",
    "KERNEL_ENVIRONMENT",
    "KERNEL_NAME",
    "FigureError",
    "ThisInterpreterKernelManager",
    "execute_notebook",
    "inline_engine",
    "kill_kernels",
    "missing_figures",
]

#: matplotlib's backend that sends figures to the notebook (what ipykernel uses when nothing is set).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

#: The kernel name every notebook is executed with.
KERNEL_NAME = "python3"

#: What the kernels the runner starts get in place of the user's value, and why.
KERNEL_ENVIRONMENT: dict[str, str] = {
    "MPLBACKEND": INLINE_BACKEND,  # Agg would draw every figure and show none
    "PYTHONWARNINGS": "",  # "always"/"error" would add text to outputs or stop a notebook
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the debugger's frozen-modules notice at kernel start
}

#: Source text that marks a cell which shows a figure.
FIGURE_CALL = "plt.show()"


class FigureError(RuntimeError):
    """A notebook drew figures that did not reach its output."""


#: The papermill engine that also evaluates the prose's inline expressions (:mod:`leukemia.inline`).
ENGINE_NAME = "leukemia-inline"


def inline_engine() -> type:
    """A papermill engine whose client evaluates each Markdown cell's ``{eval}`` expressions in the kernel.

    papermill and nbclient execute code cells only. At a Markdown cell with inline expressions this
    client sends the kernel an empty, silent ``execute_request`` carrying the expressions as
    ``user_expressions`` — the kernel state is that of the code cells above, as when a student runs
    the cell in JupyterLab — and stores the reply in the cell's ``metadata.user_expressions`` in
    jupyterlab-myst's format. An expression that raises is stored as the error it is;
    :func:`execute_notebook` then fails the notebook.
    """
    from nbclient.util import run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    from leukemia import inline

    no_reply = {"status": "error", "ename": "NoReply", "evalue": "the kernel sent no result", "traceback": []}

    class InlineClient(PapermillNotebookClient):
        async def async_execute_cell(
            self, cell: nbformat.NotebookNode, cell_index: int, execution_count: int | None = None,
            store_history: bool = True,
        ) -> nbformat.NotebookNode:  # fmt: skip
            if cell.cell_type != "markdown":
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            found = inline.expressions(cell.source)
            if found:
                keys = {f"e{i}": expression for i, expression in enumerate(found)}
                msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions=keys)
                reply = await self.async_wait_for_reply(msg_id, cell)
                results = (reply or {}).get("content", {}).get("user_expressions", {})
                cell.metadata[inline.METADATA_KEY] = [
                    {"expression": expression, "result": results.get(key, no_reply)}
                    for key, expression in keys.items()
                ]
            else:
                cell.metadata.pop(inline.METADATA_KEY, None)
            return cell

        execute_cell = run_sync(async_execute_cell)  # nbclient binds the sync name to its own coroutine

    class InlineEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls, nb_man: object, kernel_name: str, **kwargs: object
        ) -> nbformat.NotebookNode:
            # papermill's NBClientEngine.execute_managed_notebook, with this client
            start, timeout = kwargs.pop("start_timeout", 60), kwargs.pop("execution_timeout", None)
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            options = merge_kwargs(
                kwargs, timeout=timeout, startup_timeout=start, kernel_name=kernel_name, log=logger
            )
            _throttle_saves(nb_man)
            return InlineClient(nb_man, **options).execute()

    return InlineEngine


#: papermill writes the output notebook before and after every cell (0.6 s of a 52-cell lesson's 6 s);
#: the file on disk is kept at most this many seconds behind instead. It is written when the notebook
#: starts, and in full when it ends or fails (papermill's own last write).
SAVE_EVERY_SECONDS = 10.0


def _throttle_saves(manager: object) -> None:
    """Let papermill's notebook manager write the notebook at most every :data:`SAVE_EVERY_SECONDS`."""
    import time

    save = manager.save  # type: ignore[attr-defined]
    last = [-float("inf")]

    def throttled(**kwargs: object) -> None:
        if time.monotonic() - last[0] >= SAVE_EVERY_SECONDS:
            save(**kwargs)
            last[0] = time.monotonic()

    manager.save = throttled  # type: ignore[attr-defined]


def _register_engine() -> None:
    from papermill.engines import papermill_engines

    if ENGINE_NAME not in papermill_engines._engines:
        papermill_engines.register(ENGINE_NAME, inline_engine())


class _ThisInterpreterSpecs(KernelSpecManager):
    """Kernel specs in which ``python3`` is always this interpreter, with :data:`KERNEL_ENVIRONMENT`."""

    extra_environment: Mapping[str, str] = {}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != KERNEL_NAME:
            return super().get_kernel_spec(kernel_name)
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        spec = get_kernel_dict() | {"env": KERNEL_ENVIRONMENT | dict(self.extra_environment)}
        return self.kernel_spec_class(resource_dir=RESOURCES, **spec)


class ThisInterpreterKernelManager(AsyncKernelManager):
    """A kernel manager whose ``python3`` kernel runs in this interpreter, whatever the Jupyter path holds."""

    #: Variables the kernel gets on top of this process's environment and :data:`KERNEL_ENVIRONMENT`.
    extra_environment: Mapping[str, str] = {}
    #: Where the kernel process's own standard output and error go (appended), or None: this process's.
    output_log: Path | None = None

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        _MANAGERS.add(self)
        # ipykernel 7.3+ warns at every start of a kernel that talks over TCP without encryption;
        # jupyter_client 8.10+ provisions CurveZMQ keys for kernels that support them when asked.
        if "transport_encryption" in self.trait_names() and zmq.has("curve"):
            self.transport_encryption = "auto"

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: object) -> None:
        if self.output_log is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        # ipykernel sends what is written to the kernel's file descriptors (warnings of the worker
        # processes it starts, C libraries) to the notebook and also echoes it to its own stderr, as it
        # does its log: those copies go to the file, and the terminal keeps the progress bar.
        with self.output_log.open("ab") as log:
            await super()._async_launch_kernel(kernel_cmd, **kw | {"stdout": log, "stderr": log})

    async def _async_interrupt_kernel(self) -> None:
        # jupyter_client interrupts a kernel before asking it to shut down, in case a cell is still
        # running; the runner's kernels are idle by then (an interrupted run kills them: kill_kernels),
        # and the SIGINT only made ipykernel print "KeyboardInterrupt caught in kernel" to the terminal.
        if not self.shutting_down:
            await super()._async_interrupt_kernel()

    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self) -> KernelSpecManager:
        specs = _ThisInterpreterSpecs(data_dir=self.data_dir)
        specs.extra_environment = self.extra_environment
        return specs


_MANAGERS: weakref.WeakSet[ThisInterpreterKernelManager] = weakref.WeakSet()


def kill_kernels() -> int:
    """Kill every kernel this process started that is still running; how many were killed.

    Notebooks executed in worker threads (``leukemia run`` runs two at a time) do not see the
    Ctrl-C that the main thread gets; killing their kernels ends their execution at once.
    """
    killed = 0
    for manager in list(_MANAGERS):
        pid = getattr(getattr(manager, "provisioner", None), "pid", None)
        if pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def _manager_with(environment: Mapping[str, str], log: Path | None) -> type[ThisInterpreterKernelManager]:
    """A kernel manager class whose kernels also get ``environment`` (this process's stays as it is), and
    write their own output to ``log``."""
    attributes = {"extra_environment": dict(environment), "output_log": log}
    return type("RunKernelManager", (ThisInterpreterKernelManager,), attributes)


def missing_figures(notebook: nbformat.NotebookNode) -> list[int]:
    """Indices of the code cells that call ``plt.show()`` but hold no image output.

    A figure-drawing cell always shows its figure when it runs in an inline kernel, so such a cell
    means the figures were lost (a non-inline matplotlib backend in the kernel).
    """
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and FIGURE_CALL in cell.source
        and not any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
    ]


def execute_notebook(
    source: Path,
    target: Path,
    parameters: Mapping[str, object] | None = None,
    *,
    cwd: Path | None = None,
    drop_tags: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> None:
    """Execute ``source`` into ``target`` with papermill, in this interpreter, then check its figures.

    Cells carrying any of ``drop_tags`` are left out (e.g. lessons about one data set only). The kernel
    gets ``environment`` on top of this process's variables (which are left unchanged). With ``log``, the
    kernel process's own output — its log, and ipykernel's terminal copy of what reaches the notebook
    through file descriptors, such as warnings of worker processes — is appended to that file instead of
    this process's terminal; the notebook's outputs are the same either way.

    Raises
    ------
    papermill.PapermillExecutionError
        A cell raised; ``target`` keeps the traceback.
    FigureError
        A cell that shows a figure has no image in its output.
    """
    import papermill

    run_from = source
    if drop_tags:
        notebook = nbformat.read(source, as_version=4)
        notebook.cells = [c for c in notebook.cells if not set(drop_tags) & set(c.metadata.get("tags", []))]
        run_from = target.with_name(f".{target.stem}.source.ipynb")
        nbformat.write(notebook, run_from)
    _register_engine()
    try:
        papermill.execute_notebook(
            str(run_from), str(target), parameters=dict(parameters or {}), kernel_name=KERNEL_NAME,
            progress_bar=False, cwd=str(cwd or source.parent), engine_name=ENGINE_NAME,
            kernel_manager_class=_manager_with(environment or {}, log),
        )  # fmt: skip
    finally:
        if run_from != source:
            run_from.unlink(missing_ok=True)
    executed = nbformat.read(target, as_version=4)
    lost = missing_figures(executed)
    if lost:
        raise FigureError(
            f"{target.name}: cell(s) {lost} drew a figure but no image reached the notebook; the kernel's "
            "matplotlib backend is not the inline one."
        )
    from leukemia.inline import InlineExpressionError, failures

    problems = failures(executed)
    if problems:
        raise InlineExpressionError(f"{target.name}: " + "; ".join(str(p) for p in problems))

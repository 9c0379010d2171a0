"""Past one machine: the cross-validation folds on a Dask cluster, through joblib's dask backend.

Every parallel loop of the package is a :class:`joblib.Parallel`. Inside :func:`joblib_backend`
with a scheduler address (or ``$LEUKEMIA_SCHEDULER``) those loops send their tasks to the Dask
cluster behind that address (``dask.distributed``); without one they run locally as before.
Results do not depend on where the work ran: every task is seeded and returns its numbers.

A cluster is started with ``dask scheduler`` on one machine and ``dask worker tcp://HOST:8786`` on
each of the others (every worker needs this package installed); ``leukemia run --scheduler
tcp://HOST:8786`` then uses it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import joblib
from joblib.parallel import BACKENDS, get_active_backend

from leukemia import config

__all__ = [
    "SCHEDULER_ENV_VAR",
    "WORKER_ALLOCATOR",
    "WORKER_IDLE_SECONDS",
    "ClusterError",
    "connect",
    "joblib_backend",
    "local_workers",
    "scheduler_address",
]

#: Environment variable naming the Dask scheduler (e.g. ``tcp://10.0.0.5:8786``); unset = local.
SCHEDULER_ENV_VAR = config.SCHEDULER_ENV_VAR

#: How this machine's worker processes allocate memory: glibc's ``malloc`` keeps the blocks a task frees for
#: the next task instead of handing them back to the system. By default every block over 32 MB is a fresh
#: mapping whose pages the system must find and zero again on first use; a search fold at study scale
#: frees and re-requests about 1 GB, and that cost 1.1 of 6.3 s a fold (measured). Set before a worker
#: starts (glibc reads them then); ignored by other C libraries; a user's own values are kept.
WORKER_ALLOCATOR: dict[str, str] = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 36)}
#: Seconds an idle worker waits for more work before it exits, and gives its kept memory back
#: (joblib's default is 300: kept memory would sit unused beside the next notebook).
WORKER_IDLE_SECONDS = 10

_clients: dict[str, object] = {}


class ClusterError(RuntimeError):
    """The Dask scheduler could not be reached."""


def scheduler_address(address: str | None = None) -> str | None:
    """``address`` if given, else ``$LEUKEMIA_SCHEDULER``, else None (run locally)."""
    return (address.strip() or None) if address is not None else config.scheduler()


def connect(address: str):
    """A :class:`distributed.Client` to ``address``, reused while it stays connected.

    How long to wait for an answer is Dask's own setting ``distributed.comm.timeouts.connect``
    (30 s by default; e.g. ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s``).

    Raises
    ------
    ClusterError
        When nothing answers at ``address`` in that time.
    """
    from distributed import Client

    client = _clients.get(address)
    if client is not None and getattr(client, "status", None) == "running":
        return client
    try:
        client = Client(address, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address!r} ({error}). Start one with "
            "`dask scheduler` and `dask worker ADDRESS`, or leave the address out to run locally."
        ) from None
    _clients[address] = client
    return client


@contextlib.contextmanager
def joblib_backend(address: str | None = None) -> Iterator[bool]:
    """Run the joblib work inside the block on the Dask cluster, if one is named.

    Parameters
    ----------
    address
        The scheduler, e.g. ``tcp://10.0.0.5:8786``; default ``$LEUKEMIA_SCHEDULER``.

    A large argument (the expression matrix) goes to the cluster once per ``Parallel`` call, not with
    every task: joblib scatters it under a key of its own (``hash=False``). joblib's ``scatter=`` option is
    not used: it keys the data by its content, so two clients sending the same matrix share one key and
    one can release it under the other's tasks ("lost dependencies"; dask/distributed#3703), which
    happened here when a run followed a test on the same cluster.

    Yields
    ------
    bool
        True when the work goes to a cluster (use ``n_jobs=-1``: all its workers), False when it
        stays on this machine.
    """
    chosen = scheduler_address(address)
    if chosen is None:
        with local_workers():
            yield False
        return
    client = connect(chosen)
    with client.as_current(), joblib.parallel_config(backend="dask"):
        yield True


@contextlib.contextmanager
def local_workers() -> Iterator[None]:
    """Run the joblib work inside the block in this machine's processes, which keep freed memory.

    New worker processes start with :data:`WORKER_ALLOCATOR` in their environment and exit after
    :data:`WORKER_IDLE_SECONDS` without work. Results are the same; only the time differs. A backend the
    caller chose (``joblib.parallel_config(backend="dask")`` around this, threads, …) is left as it is.
    """
    if not isinstance(get_active_backend()[0], BACKENDS["loky"]):
        yield
        return
    added = {name: value for name, value in WORKER_ALLOCATOR.items() if name not in os.environ}
    os.environ.update(added)  # inherited by the workers started inside the block
    try:
        with joblib.parallel_config(backend="loky", idle_worker_timeout=WORKER_IDLE_SECONDS):
            yield
    finally:
        for name in added:
            os.environ.pop(name, None)

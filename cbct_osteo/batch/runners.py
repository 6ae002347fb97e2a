"""Where the cases run: threads on this machine or a Dask cluster; each case in its own process.

Both runners submit :func:`cbct_osteo.batch.isolation.run_case_isolated`, which runs the case
in the calling thread's case host (a process of its own) and always returns a
:class:`~cbct_osteo.batch.isolation.CaseOutcome`. So the local runner needs no process pool
(threads only wait for their host), and a Dask worker never dies of a case: only a lost machine
or a killed worker makes Dask reschedule.
Both offer ``submit`` and ``as_completed``, so :func:`cbct_osteo.batch.run.run_batch` has one loop.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from cbct_osteo.batch.isolation import LIVE_CHILDREN

EXECUTORS: tuple[str, ...] = ("local", "dask")
DEFAULT_RETRIES = 2


class LocalRunner:
    """``workers`` threads on this machine, each with its case host."""

    lost_worker_errors: tuple[type[BaseException], ...] = (cf.CancelledError,)

    def __init__(self, workers: int) -> None:
        self.pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cbct-osteo-case")

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        return self.pool.submit(fn, *args)

    def as_completed(self, futures: Iterable[cf.Future[Any]]) -> Iterator[cf.Future[Any]]:
        return cf.as_completed(list(futures))

    def close(self) -> None:
        """End every case host, idle or running (a stopped run leaves none behind), then the threads."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        LIVE_CHILDREN.kill_all()
        self.pool.shutdown(wait=True)
        LIVE_CHILDREN.stopping = False


class DaskRunner:
    """A dask.distributed cluster: an existing client, a scheduler address, or a LocalCluster."""

    def __init__(
        self,
        client: Any = None,
        scheduler: str | None = None,
        workers: int | None = None,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        import distributed

        # distributed leaves Client, LocalCluster and as_completed unannotated; through this Any-typed
        # handle their calls are typed as what they are at this boundary (Any), not untyped calls.
        dask_api = cast(Any, distributed)
        self._distributed = dask_api
        self.retries = retries
        self._owns_client = client is None
        if client is None:
            if scheduler:
                client = dask_api.Client(scheduler)
            else:
                cluster = dask_api.LocalCluster(
                    n_workers=workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                client = dask_api.Client(cluster)
        self.client = client
        self.lost_worker_errors = (distributed.KilledWorker, distributed.client.FutureCancelledError, cf.CancelledError)
        self._futures: list[Any] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        key = f"cbct-osteo-case-{uuid.uuid4().hex}"
        future = self.client.submit(fn, *args, key=key, pure=False, retries=self.retries)
        self._futures.append(future)
        return future

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return iter(self._distributed.as_completed(list(futures)))

    def close(self) -> None:
        """Cancel what is still queued (a stopped run), then close what we started."""
        unfinished = [f for f in self._futures if not f.done()]
        if unfinished:
            self.client.cancel(unfinished, force=True)
        if self._owns_client:
            cluster = self.client.cluster
            self.client.close()
            if cluster is not None and not isinstance(cluster, str):
                cluster.close()

"""Micro-batching: concurrent requests share one model call, and model calls run on worker threads.

A batch opens when the first request arrives and closes `window` seconds later or once it holds
`max_batch` texts. Batches form only when a worker is free: while every worker is busy, new requests
queue up and join the next batch, so under load batches grow by themselves and the window costs nothing.
The event loop never runs the model, so /health answers however long a batch takes.

Each worker has its own copy of the model, with single-threaded inference: on two cores, two such workers
label about 660 statements/s where one call spread over both cores manages 470, and spinning threads
that wait for each other collapse as soon as the event loop or a client needs a core.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from model import StancePredictor
from serve.model_slot import LoadedModel


@dataclass(slots=True)
class Job:
    model: LoadedModel  # the model current when the request arrived: a reload never splits a request
    texts: Sequence[str]
    result: asyncio.Future[list[dict]]
    queued_at: float


class MicroBatcher:
    def __init__(self, workers: int, max_batch: int, window_s: float, on_batch: Callable[[int, float], None]) -> None:
        self.max_batch = max_batch
        self.window_s = window_s
        self.on_batch = on_batch  # (texts, seconds) of each model call, for the metrics
        self._jobs: deque[Job] = deque()
        self._queued_texts = 0
        self._has_jobs = asyncio.Event()
        self._full = asyncio.Event()
        # A worker number is also the model copy it uses; a number is taken by one batch at a time.
        self._free_workers: asyncio.Queue[int] = asyncio.Queue()
        for worker in range(workers):
            self._free_workers.put_nowait(worker)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")
        self._tasks: set[asyncio.Task] = set()

    def start(self) -> None:
        self._spawn(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks)
        self._pool.shutdown(wait=True, cancel_futures=True)

    async def classify(self, model: LoadedModel, texts: Sequence[str]) -> list[dict]:
        """`classify(texts)` on `model`, batched with whatever else arrives meanwhile."""
        loop = asyncio.get_running_loop()
        job = Job(model, texts, loop.create_future(), loop.time())
        self._jobs.append(job)
        self._queued_texts += len(texts)
        self._has_jobs.set()
        if self._queued_texts >= self.max_batch:
            self._full.set()
        return await job.result

    def _spawn(self, coroutine, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        while True:
            worker = await self._free_workers.get()
            batch = await self._next_batch()
            self._spawn(self._run_batch(worker, batch), name=f"batch-on-worker-{worker}")

    async def _next_batch(self) -> list[Job]:
        await self._has_jobs.wait()
        wait = self._jobs[0].queued_at + self.window_s - asyncio.get_running_loop().time()
        if wait > 0 and self._queued_texts < self.max_batch:
            self._full.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), wait)
        batch, size = [], 0
        while self._jobs and size < self.max_batch:
            job = self._jobs.popleft()
            batch.append(job)
            size += len(job.texts)
        self._queued_texts -= size
        if not self._jobs:
            self._has_jobs.clear()
        return batch

    async def _run_batch(self, worker: int, batch: list[Job]) -> None:
        try:
            for model, jobs in group_by_model(batch).items():
                await self._classify(model.replicas[worker], jobs)
        finally:
            self._free_workers.put_nowait(worker)

    async def _classify(self, predictor: StancePredictor, jobs: list[Job]) -> None:
        texts = [text for job in jobs for text in job.texts]
        started = time.perf_counter()
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._pool, predictor.classify, texts)
        except Exception as error:  # each waiting request answers with it; the batcher serves on
            for job in jobs:
                if not job.result.done():
                    job.result.set_exception(error)
            return
        self.on_batch(len(texts), time.perf_counter() - started)
        position = 0
        for job in jobs:
            if not job.result.done():  # a client that went away has cancelled its future
                job.result.set_result(results[position : position + len(job.texts)])
            position += len(job.texts)


def group_by_model(jobs: list[Job]) -> dict[LoadedModel, list[Job]]:
    """Jobs by the model they must run on; two only while a reload is under way."""
    groups: dict[LoadedModel, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.model, []).append(job)
    return groups

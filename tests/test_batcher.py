"""The micro-batcher on its own: which requests share a model call, and who gets which answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from serve.batcher import MicroBatcher
from serve.model_slot import LoadedModel


class RecordingModel:
    """Answers each text with its own length, and records every call and the thread it ran on.

    With `meet`, a call waits until as many calls as the barrier's parties run at once.
    """

    def __init__(self, fail: bool = False, meet: threading.Barrier | None = None) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self.fail = fail
        self.meet = meet

    def classify(self, texts: Sequence[str]) -> list[dict]:
        self.calls.append(list(texts))
        self.threads.add(threading.current_thread().name)
        if self.meet is not None:
            self.meet.wait()
        if self.fail:
            raise RuntimeError("the model broke")
        return [{"label": str(len(text))} for text in texts]


def one_worker(model: RecordingModel) -> LoadedModel:
    return LoadedModel(replicas=(model,))


def run_batched(jobs: list[tuple[LoadedModel, list[str]]], max_batch: int = 64, window_s: float = 0.05):
    """Submit all jobs at once to one worker; return their answers and the sizes of the batches run."""
    sizes: list[int] = []

    async def main() -> list:
        batcher = MicroBatcher(1, max_batch, window_s, lambda size, seconds: sizes.append(size))
        batcher.start()
        try:
            tasks = [batcher.classify(model, texts) for model, texts in jobs]
            return await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await batcher.stop()

    return asyncio.run(main()), sizes


def test_concurrent_requests_share_one_call_and_get_their_own_answers() -> None:
    model = RecordingModel()
    loaded = one_worker(model)
    jobs = [(loaded, ["a" * n]) for n in range(1, 11)] + [(loaded, ["bb", "ccc"])]
    answers, sizes = run_batched(jobs)
    assert answers[:10] == [[{"label": str(n)}] for n in range(1, 11)]
    assert answers[10] == [{"label": "2"}, {"label": "3"}]
    assert sizes == [12] and len(model.calls) == 1
    assert model.threads == {"inference_0"}  # off the event loop, on the worker's thread


def test_a_batch_closes_at_max_batch() -> None:
    model = RecordingModel()
    loaded = one_worker(model)
    answers, sizes = run_batched([(loaded, ["x"]) for _ in range(10)], max_batch=4)
    assert sizes == [4, 4, 2]
    assert all(answer == [{"label": "1"}] for answer in answers)


def test_requests_for_two_models_never_share_a_call() -> None:
    old, new = RecordingModel(), RecordingModel()
    before, after = one_worker(old), one_worker(new)
    answers, _ = run_batched([(before, ["a"]), (after, ["bb"]), (before, ["ccc"])])
    assert old.calls == [["a", "ccc"]] and new.calls == [["bb"]]
    assert answers == [[{"label": "1"}], [{"label": "2"}], [{"label": "3"}]]


def test_a_failing_model_call_fails_its_requests_and_the_batcher_goes_on() -> None:
    broken, fine = RecordingModel(fail=True), RecordingModel()

    async def main() -> tuple:
        batcher = MicroBatcher(1, 64, 0.0, lambda size, seconds: None)
        batcher.start()
        try:
            with pytest.raises(RuntimeError, match="the model broke"):
                await batcher.classify(one_worker(broken), ["a"])
            return await batcher.classify(one_worker(fine), ["bb"])
        finally:
            await batcher.stop()

    assert asyncio.run(main()) == [{"label": "2"}]


def test_two_workers_run_two_batches_at_once_each_on_its_own_copy() -> None:
    both_running = threading.Barrier(2, timeout=5)
    copies = (RecordingModel(meet=both_running), RecordingModel(meet=both_running))
    loaded = LoadedModel(replicas=copies)

    async def main() -> list:
        batcher = MicroBatcher(2, 1, 0.0, lambda size, seconds: None)
        batcher.start()
        try:
            return await asyncio.gather(batcher.classify(loaded, ["a"]), batcher.classify(loaded, ["bb"]))
        finally:
            await batcher.stop()

    assert asyncio.run(main()) == [[{"label": "1"}], [{"label": "2"}]]
    assert [copy.calls for copy in copies] == [[["a"]], [["bb"]]]
    assert copies[0].threads != copies[1].threads

"""Writing a model folder atomically: a failed or interrupted run never replaces a good model."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import current_thread, main_thread

from training.config import ConfigError


def check_output(output: Path) -> None:
    """Fail before any work if the model folder could not be written where asked."""
    for path in (output, *output.parents):
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{path}: is a file, but the output must be a folder")
        if path.exists():
            break


def staging_path(output: Path) -> Path:
    # Deterministic, so every process of a data-parallel run agrees on where checkpoints go.
    return output.with_name(f".{output.name}.partial")


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Let `kill` clean up like Ctrl-C does, instead of ending the process mid-write."""
    if current_thread() is not main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def swap_in(staging: Path, output: Path) -> None:
    """Put the finished folder where the model goes; the old model is removed only after."""
    previous = output.with_name(f".{output.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if output.exists():
        output.rename(previous)
    staging.rename(output)
    shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def staged_folder(output: Path, publish: bool = True) -> Iterator[Path]:
    """A staging folder beside `output`; moved into place on success, deleted on any failure.

    Only the publishing process (rank 0 of a data-parallel run) creates, cleans and swaps it.
    """
    staging = staging_path(output)
    if publish:
        shutil.rmtree(staging, ignore_errors=True)  # left by a run that was killed with SIGKILL
    staging.mkdir(parents=True, exist_ok=True)
    try:
        with sigterm_as_interrupt():
            yield staging
    except BaseException:
        if publish:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    if publish:
        swap_in(staging, output)

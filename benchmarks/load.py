"""Load test: N concurrent clients send one statement per request for a fixed time, against our server and,
for comparison, a plain FastAPI endpoint calling `transformers.pipeline` per request (pipeline_app.py).

    .venv/bin/python benchmarks/load.py --model models/default [--clients 32] [--seconds 20]

Both servers run as subprocesses on loopback, one after the other, on the same machine as the clients.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import uvloop

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLE = REPO.parent / "shared" / "seeds" / "ceasefire-article.txt"
WARM_UP_S = 3.0


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def line(self) -> str:
        return (
            f"{self.name:<22} {self.requests / self.seconds:8.1f} req/s   p50 {self.percentile(0.50):7.1f} ms   "
            f"p99 {self.percentile(0.99):7.1f} ms   errors {self.errors} of {self.requests + self.errors}"
        )


def statements() -> list[str]:
    """Texts of the corpus (data/ceasefire/*.jsonl), or else the sentences of the seed article."""
    texts = [
        json.loads(line)["text"]
        for path in sorted(glob.glob(str(REPO / "data/ceasefire/*.jsonl")))
        for line in Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if texts:
        return texts
    from serve.articles import split_statements

    return [s.text for s in split_statements(SEED_ARTICLE.read_text(encoding="utf-8"))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path, port: int) -> subprocess.Popen:
    """Start a server and wait until it answers /ready; if it never does, stop with the end of its log."""
    process = subprocess.Popen(command, cwd=REPO, env=os.environ | env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit(f"error: the server did not get ready:\n{log.read_text(errors='replace')[-2000:]}")


async def client(http: aiohttp.ClientSession, url: str, texts: list[str], offset: int, until: float, result: Result):
    position = offset
    while (now := time.perf_counter()) < until:
        try:
            async with http.post(url, json={"text": texts[position % len(texts)]}) as response:
                await response.read()
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        position += 1
        if ok:
            result.requests += 1
            result.latencies_ms.append((time.perf_counter() - now) * 1000)
        else:
            result.errors += 1


async def load(name: str, url: str, texts: list[str], clients: int, seconds: float) -> Result:
    """A warm-up, then `seconds` of `clients` concurrent clients, each sending one request after another.

    The clients use aiohttp: httpx costs about 2.5 ms of CPU per request, which on two cores would starve
    the server it measures; aiohttp costs about 0.1 ms.
    """
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
        warm_up = Result(name, 0, 0, WARM_UP_S, [])
        until = time.perf_counter() + WARM_UP_S
        await asyncio.gather(*(client(http, url, texts, i * 7, until, warm_up) for i in range(clients)))
        result = Result(name, 0, 0, seconds, [])
        until = time.perf_counter() + seconds
        await asyncio.gather(*(client(http, url, texts, i * 7, until, result) for i in range(clients)))
    return result


def measure(name: str, command: list[str], env: dict[str, str], port: int, args: argparse.Namespace) -> Result:
    texts = statements()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        process = start(command, env, log, port)
        try:
            # uvloop, like the server: the clients share its two cores, so their overhead counts.
            return uvloop.run(load(name, f"http://127.0.0.1:{port}/predict", texts, args.clients, args.seconds))
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="Model folder to serve.")
    parser.add_argument("--clients", type=int, default=32, help="Concurrent clients (default 32).")
    parser.add_argument("--seconds", type=float, default=20.0, help="Measured time per server (default 20).")
    parser.add_argument("--no-comparison", action="store_true", help="Measure our server only.")
    args = parser.parse_args()
    model = str(args.model.resolve())

    port = free_port()
    ours = [sys.executable, "-m", "cli", "serve", "--model", model, "--port", str(port)]
    results = [measure("stance serve", ours, {}, port, args)]
    if not args.no_comparison:
        port = free_port()
        plain = [sys.executable, "-m", "uvicorn", "--app-dir", "benchmarks", "pipeline_app:app", "--port", str(port)]
        results.append(measure("pipeline per request", plain, {"STANCE_BENCH_MODEL": model}, port, args))

    print(f"{args.clients} clients, {args.seconds:g} s each, {os.cpu_count()} CPUs shared by clients and server")
    for result in results:
        print(result.line())


if __name__ == "__main__":
    main()

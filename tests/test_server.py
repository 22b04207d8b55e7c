"""The HTTP server as its users meet it: a real `stance serve` process on loopback, driven over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from tests.conftest import REPO

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "test-admin-token"
SEED_ARTICLE = REPO.parent / "shared" / "seeds" / "ceasefire-article.txt"
SETTINGS = {
    # Small limits, so that every limit can be crossed with a small request.
    "STANCE_MAX_TEXT_CHARS": 300,
    "STANCE_MAX_ITEMS": 16,
    "STANCE_MAX_BODY_BYTES": 200_000,
    "STANCE_MAX_ARTICLE_CHARS": 120_000,
    # One text per forward pass (the default): a text's scores then never depend on its batch companions,
    # which int8 quantization of the padded batch would change in the second decimal.
    "STANCE_INFERENCE_BATCH": 1,
}


@dataclass
class Server:
    url: str
    model_dir: Path  # a private copy, which the reload tests replace in place as `stance train` does
    log: Path
    process: subprocess.Popen

    def get(self, path: str, timeout: float = 60, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=timeout, **kwargs)

    def post(self, path: str, timeout: float = 60, **kwargs) -> httpx.Response:
        return httpx.post(self.url + path, timeout=timeout, **kwargs)

    def reload(self, token: str | None = ADMIN_TOKEN, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.post("/admin/reload", headers=headers, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copy_model(source: Path, target: Path, version: str) -> Path:
    """A model folder like `source` whose stance.json says `version`; weights hard-linked, not copied."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link_or_copy)
    stance_file = target / "stance.json"
    info = json.loads(stance_file.read_text(encoding="utf-8")) | {"version": version}
    stance_file.unlink()  # a hard link: writing through it would change the source folder too
    stance_file.write_text(json.dumps(info), encoding="utf-8")
    return target


def start_server(model_dir: Path, log: Path, env: dict[str, str]) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "cli", "serve", "--model", str(model_dir), "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO, env=os.environ | env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", model_dir, log, process)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with status {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if server.get("/ready").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"the server was not ready within 120 s:\n{log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    server.process.wait(timeout=30)


@pytest.fixture(scope="session")
def server(served_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("served")
    model_dir = copy_model(served_model_dir, folder / "model", "v1")
    env = {name: str(value) for name, value in SETTINGS.items()} | {"STANCE_ADMIN_TOKEN": ADMIN_TOKEN}
    running = start_server(model_dir, folder / "server.log", env)
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def labels(server: Server) -> list[str]:
    return server.get("/model").json()["labels"]


def assert_prediction(prediction: dict, labels: list[str]) -> None:
    assert set(prediction["scores"]) == set(labels)
    assert sum(prediction["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    assert prediction["label"] == max(prediction["scores"], key=prediction["scores"].get)
    assert prediction["truncated"] is False


def version_served(server: Server) -> str:
    return server.get("/model").json()["version"]


# Status endpoints ---------------------------------------------------------------------------------------


def test_health_ready_and_model_describe_the_loaded_folder(server: Server) -> None:
    assert server.get("/health").json() == {"status": "ok"}
    assert server.get("/ready").json() == {"status": "ready", "model_version": version_served(server)}
    model = server.get("/model").json()
    stance_info = json.loads((server.model_dir / "stance.json").read_text())
    assert model["labels"] == stance_info["labels"]
    assert model["trained_at"] == stance_info["trained_at"]
    assert model["metrics"] == json.loads((server.model_dir / "metrics.json").read_text())
    assert model["backend"] in ("onnx-int8", "pytorch")


def test_openapi_docs_are_served(server: Server) -> None:
    schema = server.get("/openapi.json").json()
    assert {"/predict", "/articles", "/health", "/ready", "/model", "/metrics", "/admin/reload"} <= set(schema["paths"])
    assert server.get("/docs").status_code == 200


# Prediction -----------------------------------------------------------------------------------------------


def test_predict_one_text_gives_label_scores_and_version(server: Server, labels: list[str]) -> None:
    response = server.post("/predict", json={"text": "The guns must go silent."})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == version_served(server) == response.headers["X-Model-Version"]
    [prediction] = body["predictions"]
    assert_prediction(prediction, labels)


def test_predict_scores_are_the_models_own(server: Server, served_model_dir: Path) -> None:
    from model import StancePredictor

    texts = ["Enough death and destruction.", "We never do that.", "Only after Russia withdraws its troops."]
    expected = StancePredictor(served_model_dir, batch_size=SETTINGS["STANCE_INFERENCE_BATCH"]).classify(texts)
    predictions = server.post("/predict", json={"texts": texts}).json()["predictions"]
    for got, want in zip(predictions, expected, strict=True):
        assert got["label"] == want["label"]
        assert got["scores"] == pytest.approx(want["scores"], abs=1e-5)


def test_concurrent_requests_share_batches_and_keep_their_own_answers(server: Server) -> None:
    texts = [f"Statement {i}: the ceasefire must hold {'only if the troops leave' * (i % 3)}." for i in range(48)]
    alone = {text: server.post("/predict", json={"text": text}).json()["predictions"][0] for text in texts}
    batches_before = metric(server, "stance_batch_size_count")
    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(lambda text: server.post("/predict", json={"text": text}), texts))
    batches = metric(server, "stance_batch_size_count") - batches_before
    assert all(answer.status_code == 200 for answer in answers)
    for text, answer in zip(texts, answers, strict=True):
        assert answer.json()["predictions"][0]["scores"] == pytest.approx(alone[text]["scores"], abs=1e-5)
    assert batches < len(texts), "24 clients at once never shared a model call"


def test_hugging_face_shape_is_ranked_label_scores(server: Server, labels: list[str]) -> None:
    response = server.post("/predict", json={"inputs": "Peace has never been closer."})
    assert response.status_code == 200
    [ranked] = response.json()
    assert [item["label"] for item in ranked] != [] and {item["label"] for item in ranked} == set(labels)
    scores = [item["score"] for item in ranked]
    assert scores == sorted(scores, reverse=True)
    own = server.post("/predict", json={"text": "Peace has never been closer."}).json()["predictions"][0]
    assert {item["label"]: item["score"] for item in ranked} == pytest.approx(own["scores"], abs=1e-5)
    assert response.headers["X-Model-Version"] == version_served(server)

    two = server.post("/predict", json={"inputs": ["Yes.", "No."], "parameters": {"top_k": 2}}).json()
    assert [len(ranked) for ranked in two] == [2, 2]


def test_huggingface_hub_inference_client_works_unchanged(server: Server, labels: list[str]) -> None:
    from huggingface_hub import InferenceClient

    result = InferenceClient(server.url).text_classification("The guns must go silent.")
    assert {item.label for item in result} == set(labels)
    scores = [item.score for item in result]
    assert scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1.0, abs=1e-4)
    top_two = InferenceClient(server.url).text_classification("The guns must go silent.", top_k=2)
    assert [item.label for item in top_two] == [item.label for item in result[:2]]


# Articles ------------------------------------------------------------------------------------------------


def test_article_statements_are_attributed_labelled_and_summarized(server: Server, labels: list[str]) -> None:
    article = SEED_ARTICLE.read_text(encoding="utf-8")
    response = server.post("/articles", content=article.encode(), headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == version_served(server)
    statements = body["statements"]
    for statement in statements:
        assert article[statement["start"] : statement["end"]] == statement["text"]
        assert_prediction({key: statement[key] for key in ("label", "scores", "truncated")}, labels)
    assert [s["start"] for s in statements] == sorted(s["start"] for s in statements)
    speakers = {s["speaker"] for s in statements}
    for name in ("Donald Trump", "Volodymyr Zelensky", "Emmanuel Macron", "David Lammy", "Karoline Leavitt"):
        assert name in speakers
    quote = next(s for s in statements if s["text"] == "Enough death and destruction. The guns must go silent")
    assert (quote["speaker"], quote["kind"]) == ("Emmanuel Macron", "quote")
    summary = {entry["speaker"]: entry for entry in body["speakers"]}
    trump = [s for s in statements if s["speaker"] == "Donald Trump"]
    assert summary["Donald Trump"]["statements"] == len(trump)
    assert sum(summary["Donald Trump"]["label_counts"].values()) == len(trump)
    assert summary["Donald Trump"]["stance"] in labels

    as_json = server.post("/articles", json={"text": article}).json()
    assert as_json["statements"] == statements


def test_health_answers_while_a_long_batch_runs(server: Server) -> None:
    article = (SEED_ARTICLE.read_text(encoding="utf-8") + "\n") * 30  # about a thousand statements
    finished: dict[str, float] = {}

    def label_article() -> None:
        response = server.post("/articles", json={"text": article})
        assert response.status_code == 200
        finished["article"] = time.monotonic()

    worker = threading.Thread(target=label_article)
    worker.start()
    time.sleep(0.3)  # the article's batch is on the model by now
    assert server.get("/health", timeout=2).status_code == 200
    finished["health"] = time.monotonic()
    worker.join()
    assert finished["health"] < finished["article"]


# Bad input: always a 4xx with a JSON error that says what is wrong ---------------------------------------------

TOO_LONG = "x" * (SETTINGS["STANCE_MAX_TEXT_CHARS"] + 1)
BAD_REQUESTS = {
    "empty text": ("/predict", {"json": {"text": ""}}, 422, "at least 1 character"),
    "whitespace text": ("/predict", {"json": {"text": " \n\t "}}, 422, "empty or only whitespace"),
    "whitespace in a list": ("/predict", {"json": {"texts": ["fine", "  "]}}, 422, "texts[1]"),
    "empty list": ("/predict", {"json": {"texts": []}}, 422, "at least 1 item"),
    "text too long": ("/predict", {"json": {"text": TOO_LONG}}, 422, "at most 300 characters"),
    "too many texts": ("/predict", {"json": {"texts": ["a"] * 17}}, 422, "at most 16 items"),
    "too many HF inputs": ("/predict", {"json": {"inputs": ["a"] * 17}}, 422, "at most 16 items"),
    "number for text": ("/predict", {"json": {"text": 5}}, 422, "valid string"),
    "string for texts": ("/predict", {"json": {"texts": "one"}}, 422, "valid list"),
    "list body": ("/predict", {"json": ["a", "b"]}, 422, "JSON object"),
    "no known field": ("/predict", {"json": {"statement": "a"}}, 422, "'text', 'texts' or 'inputs'"),
    "unknown field": ("/predict", {"json": {"text": "a", "lang": "en"}}, 422, "body.lang: Extra inputs"),
    "unknown HF parameter": ("/predict", {"json": {"inputs": "a", "parameters": {"x": 1}}}, 422, "Extra inputs"),
    "top_k zero": ("/predict", {"json": {"inputs": "a", "parameters": {"top_k": 0}}}, 422, "greater than"),
    "sigmoid scores": (
        "/predict", {"json": {"inputs": "a", "parameters": {"function_to_apply": "sigmoid"}}}, 422, "softmax"
    ),
    "broken JSON": ("/predict", {"content": b'{"text": "a"', "headers": {"Content-Type": "application/json"}}, 422,
                    "invalid JSON"),
    "invalid UTF-8": ("/predict", {"content": b'{"text": "\xff\xfe"}', "headers": {"Content-Type": "application/json"}},
                      400, "UTF-8"),
    "form body": ("/predict", {"data": {"text": "a"}}, 422, "Content-Type: application/json"),
    "body too large": ("/predict", {"json": {"text": "a" * 250_000}}, 413, "larger than the limit of 200000"),
    "empty article": ("/articles", {"json": {"text": ""}}, 422, "at least 1 character"),
    "whitespace article": ("/articles", {"content": b"  \n ", "headers": {"Content-Type": "text/plain"}}, 422,
                           "whitespace"),
    "article too long": ("/articles", {"json": {"text": "Word. " * 25_000}}, 422, "at most 120000 characters"),
    "article not UTF-8": ("/articles", {"content": b"Trump said \xff.", "headers": {"Content-Type": "text/plain"}},
                          422, "unicode"),
    "article unknown field": ("/articles", {"json": {"text": "A.", "title": "x"}}, 422, "Extra inputs"),
    "unknown path": ("/predictions", {"json": {"text": "a"}}, 404, "nothing at /predictions"),
}  # fmt: skip


@pytest.mark.parametrize("path, request_kwargs, status, says", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_input_is_a_4xx_that_says_what_is_wrong(server: Server, path, request_kwargs, status, says) -> None:
    response = server.post(path, **request_kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert says in body["message"] + json.dumps(body["details"]), body
    assert body["error"] and "Traceback" not in response.text


def test_a_chunked_body_over_the_limit_is_cut_off(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(30):
            yield b"a" * 10_000
        yield b'"}'

    response = server.post("/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


def test_wrong_method_is_a_json_405(server: Server) -> None:
    response = server.get("/predict")
    assert response.status_code == 405
    assert response.json()["message"] == "GET is not allowed on /predict"


def test_an_unexpected_failure_is_a_json_500_without_traceback(served_model_dir: Path) -> None:
    """In-process, to make the model fail on purpose: what any bug behind a route would look like."""
    from fastapi.testclient import TestClient

    from serve.main import create_app

    app = create_app(served_model_dir)
    with TestClient(app, raise_server_exceptions=False) as client:

        async def broken_model(model, texts):
            raise RuntimeError("secret internals")

        app.state.services.batcher.classify = broken_model
        response = client.post("/predict", json={"text": "Anything."})
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "secret internals" not in response.text and "Traceback" not in response.text


def serve_and_fail(model_dir: Path) -> str:
    """Start `stance serve` on a folder that cannot be served; its stderr, once it has exited with status 1."""
    result = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--model", str(model_dir), "--port", str(free_port())],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    return result.stderr.strip()


def test_serving_a_folder_that_is_no_model_fails_in_one_line(tmp_path: Path) -> None:
    assert serve_and_fail(tmp_path / "missing") == f"error: {tmp_path / 'missing'}: no such model folder"


def test_serving_broken_weights_fails_in_one_line_before_listening(served_model_dir: Path, tmp_path: Path) -> None:
    broken = copy_model(served_model_dir, tmp_path / "broken", "broken")
    for weights in (broken / "model.safetensors", broken / "onnx" / "model.int8.onnx"):
        weights.unlink()  # a hard link to the served model's weights: overwrite a new file, not those
        weights.write_bytes(b"not a model")
    stderr = serve_and_fail(broken)
    assert stderr.startswith(f"error: {broken}: cannot load the model (") and "\n" not in stderr


# Reload ----------------------------------------------------------------------------------------------------


def test_reload_needs_the_token(server: Server) -> None:
    assert server.reload(token=None).status_code == 401
    refused = server.reload(token="wrong")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"


def test_reload_of_a_bad_folder_keeps_the_old_model_serving(server: Server, tmp_path: Path) -> None:
    before = version_served(server)
    missing = server.reload(json={"model_dir": str(tmp_path / "nothing-here")})
    assert missing.status_code == 422
    assert missing.json()["error"] == "model_load_failed"
    assert f"version {before} is still served" in missing.json()["message"]

    broken = copy_model(server.model_dir, tmp_path / "broken", "broken")
    for weights in (broken / "model.safetensors", broken / "onnx" / "model.int8.onnx"):
        weights.unlink()
        weights.write_bytes(b"not a model")
    refused = server.reload(json={"model_dir": str(broken)})
    assert refused.status_code == 422 and "cannot load the model" in refused.json()["message"]

    assert version_served(server) == before
    assert server.post("/predict", json={"text": "Still here?"}).json()["model_version"] == before


def test_reload_switches_to_the_retrained_folder_while_requests_keep_flowing(server: Server, tmp_path: Path) -> None:
    before = version_served(server)
    # What `stance train` does: the new folder replaces the old one by renaming, at the same path.
    retrained = copy_model(server.model_dir, server.model_dir.with_name("model.new"), "v2")
    server.model_dir.rename(tmp_path / "model.old")
    retrained.rename(server.model_dir)

    with ThreadPoolExecutor(max_workers=8) as pool:
        during = [pool.submit(server.post, "/predict", json={"text": f"Request {i}."}) for i in range(40)]
        reloaded = server.reload()
        answers = [future.result() for future in during]

    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["previous_version"] == before
    assert reloaded.json()["model"]["version"] == "v2" == version_served(server)
    assert all(answer.status_code == 200 for answer in answers)
    assert {answer.json()["model_version"] for answer in answers} <= {before, "v2"}
    assert server.post("/predict", json={"text": "And now?"}).json()["model_version"] == "v2"
    assert 'stance_model_info{version="v2"} 1.0' in server.get("/metrics").text


def test_reload_is_disabled_without_a_configured_token(server: Server, tmp_path: Path) -> None:
    env = {"STANCE_ADMIN_TOKEN": ""}  # empty is unset: an empty token must not open the door
    without_token = start_server(server.model_dir, tmp_path / "server.log", env)
    try:
        refused = without_token.reload(token="anything")
        assert refused.status_code == 403
        assert refused.json()["error"] == "reload_disabled"
    finally:
        stop_server(without_token)


# Observability ------------------------------------------------------------------------------------------------


def metric(server: Server, name: str) -> float:
    """The value of an unlabelled sample in /metrics (0 if absent)."""
    for line in server.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_requests_latencies_batches_and_errors(server: Server) -> None:
    server.post("/predict", json={"texts": ["One.", "Two.", "Three."]})
    server.post("/predict", json={"text": ""})
    text = server.get("/metrics").text
    assert 'stance_requests_total{method="POST",path="/predict",status="200"}' in text
    assert 'stance_requests_total{method="POST",path="/predict",status="422"}' in text
    assert 'stance_request_seconds_bucket{le="0.1",path="/predict"}' in text
    assert 'stance_errors_total{error="invalid_request"}' in text
    assert metric(server, "stance_batch_size_sum") >= 3
    assert metric(server, "stance_texts_labelled_total") >= 3


def test_each_request_is_one_json_log_line(server: Server) -> None:
    server.post("/predict", json={"texts": ["Log me.", "And me."]})
    time.sleep(0.2)  # the log is written after the answer
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["event"] == "request"]
    assert any(
        line["method"] == "POST" and line["path"] == "/predict" and line["status"] == 200 and line["items"] == 2
        for line in requests
    )
    assert all(isinstance(line["duration_ms"], float | int) for line in requests)


# Fuzzing the whole API from its OpenAPI schema ----------------------------------------------------------------


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(server: Server, mode: GenerationMode) -> None:
    # schemathesis' own pytest loader (`from_fixture`) breaks on this pytest, so its strategies run under `given`.
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not operation.body:
            continue  # a GET without parameters: nothing to get wrong

        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: schemathesis.Case) -> None:
            # A wrong token: reload attempts are refused, not run (each would load a model for seconds).
            case.call_and_validate(checks=[not_a_server_error], headers={"Authorization": "Bearer wrong"})

        call()

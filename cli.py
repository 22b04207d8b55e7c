"""`stance`: each command a thin layer over a library function; failures are one line and a non-zero exit."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Label statements with their stance on a ceasefire.")


def one_line_errors(command: Callable) -> Callable:
    """Known failures become one sentence on stderr and exit status 1, never a traceback."""

    @wraps(command)
    def run(*args, **kwargs):
        from data.records import DataError
        from model.folder import ModelFolderError
        from training.config import ConfigError

        try:
            return command(*args, **kwargs)
        except (DataError, ConfigError, ModelFolderError) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: nothing was written, and any previous model is untouched", err=True)
            raise typer.Exit(130) from None

    return run


@app.command()
@one_line_errors
def train(
    config: Annotated[Optional[Path], typer.Option(help="TOML file overriding training/default.toml.")] = None,
    data: Annotated[
        Optional[list[str]], typer.Option(help="Training folder (train.jsonl, dev.jsonl) or JSON Lines file; repeatable.")
    ] = None,
    dev: Annotated[Optional[str], typer.Option(help="Dev file; by default found beside --data or split off it.")] = None,
    eval: Annotated[Optional[list[str]], typer.Option("--eval", help="Extra evaluation file; repeatable.")] = None,
    output: Annotated[Optional[str], typer.Option(help="Model folder to write.")] = None,
    base_model: Annotated[Optional[str], typer.Option(help="Local model folder to fine-tune.")] = None,
    epochs: Annotated[Optional[int], typer.Option()] = None,
    batch_size: Annotated[Optional[int], typer.Option()] = None,
    learning_rate: Annotated[Optional[float], typer.Option()] = None,
    max_length: Annotated[Optional[int], typer.Option()] = None,
    seed: Annotated[Optional[int], typer.Option()] = None,
    precision: Annotated[Optional[str], typer.Option(help="auto, bf16 (mixed) or fp32.")] = None,
    export_onnx: Annotated[Optional[bool], typer.Option("--onnx/--no-onnx", help="Write the int8 ONNX graph.")] = None,
) -> None:
    """Fine-tune a stance model and write a self-describing model folder."""
    from training.config import load_config
    from training.train import fit, is_main_process

    overrides = dict(
        data=data, dev=dev, eval=eval, output=output, base_model=base_model, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, max_length=max_length, seed=seed, precision=precision, export_onnx=export_onnx,
    )  # fmt: skip
    if data is not None:
        # Other data: the bundled dev and evaluation sets would not fit its labels.
        overrides["dev"] = dev or ""
        overrides["eval"] = eval or []
    folder = fit(load_config(config, overrides))
    if is_main_process():
        typer.echo(f"model written to {folder}")


@app.command()
@one_line_errors
def evaluate(
    model: Annotated[Path, typer.Option(help="Model folder.")],
    data: Annotated[Path, typer.Option(help="Labelled JSON Lines file.")],
    report: Annotated[Optional[Path], typer.Option(help="Write the full report here as JSON.")] = None,
    baselines: Annotated[bool, typer.Option(help="Also score TF-IDF and frozen-encoder baselines.")] = False,
    backend: Annotated[str, typer.Option(help="auto, onnx or pytorch.")] = "auto",
) -> None:
    """Score a model on labelled data: macro-F1, accuracy, per-label scores, confusion matrix, ECE."""
    from training.evaluate import evaluate as run_evaluation
    from training.metrics import format_report

    result = run_evaluation(model, data, baselines=baselines, backend=backend)
    typer.echo(format_report(result, f"{model} ({result['backend']}) on {data}"))
    for name, scores in result.get("baselines", {}).items():
        typer.echo(format_report(scores, f"baseline {name}"))
    if report is not None:
        report.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {report}")


@app.command()
@one_line_errors
def baseline(
    train: Annotated[list[str], typer.Option(help="Training file(s); corpus:NAME for a bundled split.")] = [
        "corpus:train"
    ],
    data: Annotated[str, typer.Option(help="File to score on.")] = "corpus:test",
) -> None:
    """TF-IDF + logistic regression: is the corpus learnable, and how far do keywords go?"""
    from training.evaluate import tfidf_baseline
    from training.metrics import format_report

    typer.echo(format_report(tfidf_baseline(train, data), f"TF-IDF + logistic regression on {data}"))


@app.command()
@one_line_errors
def predict(
    model: Annotated[Path, typer.Option(help="Model folder.")],
    input: Annotated[str, typer.Option("--input", help=".jsonl (text field), .csv (text column), .txt, or - for stdin.")],
    output: Annotated[str, typer.Option(help="Output .jsonl or .csv, or - for stdout.")] = "-",
    input_format: Annotated[Optional[str], typer.Option(help="jsonl, csv or txt, when the name does not say.")] = None,
    backend: Annotated[str, typer.Option(help="auto, onnx or pytorch.")] = "auto",
) -> None:
    """Label every statement in a file; bad lines are kept in the output with an error field."""
    from model.labelling import label_file
    from model.predictor import StancePredictor

    counts = label_file(StancePredictor(model, backend=backend), input, output, input_format)
    typer.echo(f"labelled {counts['labelled']} statements; {counts['errors']} bad lines kept with an 'error' field", err=True)


@app.command()
@one_line_errors
def export(model: Annotated[Path, typer.Option(help="Model folder.")]) -> None:
    """Write the int8-quantized ONNX graph into a model folder (the fast CPU backend)."""
    from model.export import export_onnx

    typer.echo(f"ONNX graph written to {export_onnx(model)}")


@app.command()
@one_line_errors
def serve(
    model: Annotated[Path, typer.Option(help="Model folder to serve.")] = Path("models/default"),
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Serve a model over HTTP: POST /predict, POST /articles, /health, /ready, /model, /metrics, /docs."""
    from serve.main import run

    run(model, host=host, port=port)


@app.command("build-corpus")
@one_line_errors
def build_corpus() -> None:
    """Assemble data/ceasefire splits from data/ceasefire/sources and redraw the label chart."""
    from data.build import build, describe, plot_labels
    from data.records import CORPUS_DIR

    splits = build()
    plot_labels(splits, CORPUS_DIR / "label_distribution.png")
    typer.echo(describe(splits))


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())

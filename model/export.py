"""Export a model folder's classifier to an int8-quantized ONNX graph for the fast CPU backend."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from model.folder import ONNX_DIR, ONNX_INT8_FILE, read_stance_info

if TYPE_CHECKING:
    import onnx
    from onnxruntime.transformers.fusion_options import FusionOptions

# Model types whose attention, LayerNorm and GELU subgraphs ONNX Runtime's optimizer knows how to fuse.
FUSABLE_MODEL_TYPES = {"bert", "roberta", "distilbert", "xlm-roberta", "electra", "deberta-v2", "mpnet"}


def embedding_attention(graph: onnx.GraphProto) -> list[str]:
    """The fused attention node that reads the embeddings, the one most sensitive to quantization."""
    nodes = graph.node
    embedded = {output for node in nodes if node.op_type == "EmbedLayerNormalization" for output in node.output}
    return [node.name for node in nodes if node.op_type == "Attention" and node.input[0] in embedded]


def classification_head(graph: onnx.GraphProto) -> list[str]:
    """The matrix products after the encoder's last LayerNorm: the pooler and output layer.

    Their inputs are quantized per batch, and the output layer multiplies that error by its weights, which a
    linear-probe start makes large: on such a model, quantizing them cost 0.19 points of label agreement with PyTorch
    on the test split. In float they cost nothing measurable: two products per statement, not per word piece.
    """
    norms = [i for i, node in enumerate(graph.node) if node.op_type in ("LayerNormalization", "SkipLayerNormalization")]
    after = graph.node[norms[-1] + 1 :] if norms else []
    names = [node.name for node in after if node.op_type == "MatMul"]
    # Dynamic quantization first rewrites each Gemm as a MatMul named after it, then quantizes that.
    return names + [f"{node.name}_MatMul" for node in after if node.op_type == "Gemm"]


def unfused_norms() -> FusionOptions:
    """Fuse attention and embeddings, but leave residual adds, LayerNorm and GELU as their own nodes.

    On CPU, ORT's SkipLayerNormalization kernel took 4.5 ms on a 64 x 42 x 384 batch where Add + LayerNormalization
    take 1.4 ms: a quarter of the whole int8 graph's time. An unfused bias Add is also what lets ORT fold the bias
    into the quantized matmul's epilogue, which BiasGelu would take from it. `OnnxBackend` keeps ORT from fusing
    them back when it loads the graph.
    """
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    options.enable_bias_gelu = False
    return options


def export_onnx(model_dir: str | Path) -> Path:
    """Write `onnx/model.int8.onnx` into the model folder and return its path."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model_dir = Path(model_dir)
    read_stance_info(model_dir)  # a clear error if this is not a stance model folder
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sample = tokenizer(["a ceasefire now", "talks resume on Thursday in Geneva"], padding=True, return_tensors="pt")
    input_names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]
    out_dir = model_dir / ONNX_DIR
    out_dir.mkdir(exist_ok=True)
    target = out_dir / ONNX_INT8_FILE
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the TorchScript exporter's tracer warnings are about shapes we keep dynamic
            torch.onnx.export(
                model,
                tuple(sample[name] for name in input_names),
                str(fp32),
                input_names=input_names,
                output_names=["logits"],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in input_names} | {"logits": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        graph = fp32
        config = model.config
        if config.model_type in FUSABLE_MODEL_TYPES:
            optimized = optimize_model(
                str(fp32),
                model_type="bert",
                num_heads=config.num_attention_heads,
                hidden_size=config.hidden_size,
                optimization_options=unfused_norms(),
            )
            graph = Path(tmp) / "model.opt.onnx"
            optimized.save_model_to_file(str(graph))
            keep_in_float = embedding_attention(optimized.model.graph) + classification_head(optimized.model.graph)
        else:  # without fusion there is no Attention node to leave out
            keep_in_float = classification_head(onnx.load(str(fp32)).graph)
        partial = Path(tmp) / ONNX_INT8_FILE
        quantize_dynamic(
            str(graph),
            str(partial),
            weight_type=QuantType.QInt8,
            # The dense layers and the fused attention's projections, with one scale per output channel: one
            # scale per matrix changed 2-2.5% of labels on the test split, per channel costs no speed. Quantizing
            # attention is ~25% faster than dense layers alone, but the first layer's, fed by the embeddings,
            # moved another 0.7% of labels; in float it keeps agreement with PyTorch at 99.6% for 8% of the gain.
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=keep_in_float,
            per_channel=True,
            # Shape inference cannot type the fused contrib ops' outputs; they are all float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        partial.replace(target)  # the graph appears whole or not at all
    return target

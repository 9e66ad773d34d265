#!/usr/bin/env python3
"""Checkpoints in other libraries' own layouts, with their reference outputs, written under
Tests/Fixtures/layouts.

Small random-initialised models are built with the real libraries (DINOv2's own code, Hugging
Face transformers, timm), saved in each library's own on-disk format, and run by the same
library on one sample photo at two sizes: `square` (224x224) and `wide` (224 high, 308 wide for
patch 14, 320 wide for patch 16).

`inputs.safetensors` holds the photo once per size, as the RGB bytes of the PIL bicubic resize
(uint8 [H, W, 3]): `square.p14` 224x224, `wide.p14` 224x308, `square.p16` 224x224, `wide.p16`
224x320. Every model is fed (x / 255 - mean) / std in float32, computed from exactly these bytes.

For every model `<name>.reference.safetensors` holds, with T = square or wide,

    T.block<i>.cls   [heads, tokens]   the [CLS] query's attention row of every head of block i,
                                       over all tokens in the model's own order
    square.final     [tokens, width]   the tokens after the model's final norm (square only)
    T.logits         [classes]         where the model has a classifier

and, as its safetensors metadata (strings): `input_square` and `input_wide` (the names of its
inputs in inputs.safetensors), `mean` and `std` (comma-separated decimals, e.g.
"0.485,0.456,0.406"), `heads`, `prefix_tokens` (the tokens before the patches: [CLS], DeiT's
distillation token, any registers). manifest.json describes every file (constructor arguments,
token order, mean/std, the same metadata, the position-embedding interpolation the library
applied).

Position interpolation, as the libraries do it (pos_embed holds one row for [CLS] and a square
M x M grid of patch rows, M = 37 for the DINOv2 models, 14 for the patch-16 ones; h, w = grid of
the input, H // patch by W // patch):

- DINOv2 `DinoVisionTransformer.interpolate_pos_encoding` (dinov2/models/vision_transformer.py),
  always run unless the grid is M x M; the [CLS] row is kept as is:
    * interpolate_offset = 0.1 (hub without registers, training): the grid is resampled by
      nn.functional.interpolate(grid, mode="bicubic", antialias=False,
                                scale_factor=((h + 0.1) / M, (w + 0.1) / M))
      so the output is h x w, but the source coordinate of output cell d is
      (d + 0.5) * M / (h + 0.1) - 0.5 (the given scale, not M / h), align_corners=False,
      cubic coefficient a = -0.75.
    * interpolate_offset = 0.0 (hub with registers): nn.functional.interpolate(grid,
      mode="bicubic", antialias=True, size=(h, w)): the antialiased bicubic resampler
      (cubic a = -0.5, support widened by M / h when shrinking), align_corners=False.
  Registers are inserted after the position embedding is added: [CLS], registers, patches.
- transformers 5.23.0 `ViTEmbeddings.interpolate_pos_encoding` (only when called with
  interpolate_pos_encoding=True; skipped when the grid is M x M and H == W):
      nn.functional.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
  DeiT: the same call, with two prefix rows ([CLS], distillation) kept as they are.
- transformers 5.23.0 `Dinov2Embeddings.interpolate_pos_encoding` (always run; skipped when the
  grid is M x M and H == W):
      nn.functional.interpolate(grid.to(torch.float32), size=(h, w), mode="bicubic",
                                align_corners=False)
- transformers 5.23.0 `Dinov2WithRegistersEmbeddings.interpolate_pos_encoding` (always run;
  skipped when the grid is M x M and H == W):
      nn.functional.interpolate(grid.to(torch.float32), size=(h, w), mode="bicubic",
                                align_corners=False, antialias=True)
  then registers are inserted after [CLS]: [CLS], registers, patches.
- timm 1.0.31 `resample_abs_pos_embed` (VisionTransformer with dynamic_img_size=True; skipped
  when the grid matches):
      F.interpolate(grid.float(), size=(h, w), mode="bicubic", align_corners=None,
                    antialias=True)

    python3 Tools/make_layout_fixtures.py --dinov2 PATH   # PATH: a facebookresearch/dinov2 checkout
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import ROOT, ensure_venv  # noqa: E402

ensure_venv()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import timm  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Fixtures", "layouts")
SAMPLES = os.path.join(ROOT, "Samples", "images")
PHOTO = "owl.jpg"
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
HALF = [0.5, 0.5, 0.5]
# The [CLS] row of every head must peak at this many times its mean, so that a wrong layout
# (heads, token order, positions) shows up in the maps.
STRUCTURE = 3.0


# --------------------------------------------------------------------- helpers ----

def sizes(patch):
    """(tag, height, width): a square input and a wide one, both multiples of the patch."""
    return [("square", 224, 224), ("wide", 224, 308 if patch == 14 else 320)]


def input_name(tag, patch):
    """The name of an input in inputs.safetensors: square.p14, wide.p14, square.p16, wide.p16."""
    return "%s.p%d" % (tag, patch)


def photo_rgb(height, width):
    """The sample photo, PIL bicubic resize of its RGB to exactly height x width: uint8 [H, W, 3]."""
    with Image.open(os.path.join(SAMPLES, PHOTO)) as image:
        rgb = np.array(image.convert("RGB").resize((width, height), Image.BICUBIC), dtype=np.uint8)
    assert rgb.shape == (height, width, 3), rgb.shape
    return np.ascontiguousarray(rgb)


def make_inputs():
    """inputs.safetensors: the resized photo of every size the models are run at."""
    inputs = {input_name(tag, patch): torch.from_numpy(photo_rgb(height, width))
              for patch in (14, 16) for tag, height, width in sizes(patch)}
    path = os.path.join(OUT, "inputs.safetensors")
    save_file(inputs, path)
    reloaded = load_file(path)
    assert sorted(reloaded) == sorted(inputs)
    for k, v in inputs.items():
        assert reloaded[k].dtype == torch.uint8 and torch.equal(reloaded[k], v), k
    return reloaded


def photo_input(inputs, tag, patch, mean, std):
    """The model input computed from the stored bytes: (x / 255 - mean) / std in float32, [1, 3, H, W]."""
    rgb = inputs[input_name(tag, patch)].numpy().astype(np.float32) / np.float32(255)
    x = (rgb - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    assert x.dtype == np.float32
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def decimals(values):
    """Comma-separated decimals, the shortest that read back as the same float: "0.485,0.456,0.406"."""
    return ",".join(repr(float(v)) for v in values)


def reference_metadata(patch, mean, std, heads, prefix_tokens):
    """The safetensors metadata of a reference file (all strings)."""
    return {"input_square": input_name("square", patch), "input_wide": input_name("wide", patch),
            "mean": decimals(mean), "std": decimals(std), "heads": str(heads), "prefix_tokens": str(prefix_tokens)}


def sort_metadata(path):
    """safetensors writes __metadata__ in hash order, which changes from run to run; this rewrites
    the header with the metadata keys sorted, the tensors' entries and the data unchanged (same
    length, same space padding to a multiple of 8)."""
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    text = blob[8:8 + n].decode("utf-8")
    header = json.loads(text)
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    ordered = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    assert len(ordered) == len(text.rstrip(" ")), (len(ordered), len(text))
    ordered = ordered.ljust(n).encode("utf-8")
    assert len(ordered) == n
    with open(path, "wb") as f:
        f.write(blob[:8] + ordered + blob[8 + n:])


def save_reference(name, reference, metadata):
    """Writes <name>.reference.safetensors with its metadata and checks that both read back."""
    path = os.path.join(OUT, name + ".reference.safetensors")
    save_file(reference, path, metadata=metadata)
    sort_metadata(path)
    with safetensors.safe_open(path, "pt") as sf:
        assert sf.metadata() == metadata, sf.metadata()
    reloaded = load_file(path)
    assert sorted(reloaded) == sorted(reference)
    for k, v in reference.items():
        assert torch.equal(reloaded[k], v), k
    heads = int(metadata["heads"])
    for k, v in reloaded.items():
        if k.endswith(".cls"):
            assert v.shape[0] == heads, (name, k, v.shape)
    return path


def is_layer_scale(module):
    return type(module).__name__ in ("LayerScale", "Dinov2LayerScale", "Dinov2WithRegistersLayerScale")


def randomise(model, seed):
    """Random weights with a spread that makes every parameter matter: linear and conv weights
    randn / sqrt(fan_in), biases 0.1 randn, norm weights 1 + 0.1 randn, LayerScale uniform in
    [0.25, 1.25), tokens and position embeddings 0.5 randn."""
    g = torch.Generator().manual_seed(seed)

    def randn(shape):
        return torch.randn(shape, generator=g)

    with torch.no_grad():
        for module in model.modules():
            for name, p in module.named_parameters(recurse=False):
                if isinstance(module, nn.LayerNorm):
                    p.copy_(1 + 0.1 * randn(p.shape) if name == "weight" else 0.1 * randn(p.shape))
                elif isinstance(module, (nn.Linear, nn.Conv2d)):
                    if name == "weight":
                        p.copy_(randn(p.shape) / math.sqrt(p[0].numel()))
                    else:
                        p.copy_(0.1 * randn(p.shape))
                elif is_layer_scale(module):
                    p.copy_(0.25 + torch.rand(p.shape, generator=g))
                else:
                    p.copy_(0.5 * randn(p.shape))


def sharpen_qkv(linear, dim, gain):
    """Scales the query and key rows of a fused qkv Linear ([3·dim, dim], q then k then v)."""
    with torch.no_grad():
        linear.weight[: 2 * dim] *= gain
        if linear.bias is not None:
            linear.bias[: 2 * dim] *= gain


def sharpen_linear(linear, gain):
    with torch.no_grad():
        linear.weight *= gain
        if linear.bias is not None:
            linear.bias *= gain


def check_structure(name, tag, rows):
    """Every [CLS] row must have a peak of at least STRUCTURE times its mean."""
    for i, row in enumerate(rows):
        ratio = (row.max(dim=-1).values / row.mean(dim=-1)).min().item()
        sums = row.sum(dim=-1)
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5), (name, tag, i, sums)
        assert ratio >= STRUCTURE, "%s %s block %d: [CLS] peak only %.2f x mean" % (name, tag, i, ratio)
        print("  %-16s %-6s block%d  tokens %4d  min peak/mean %6.1f  max prob %.3f"
              % (name, tag, i, row.shape[-1], ratio, row.max().item()))


def reference_entries(tag, rows, final, logits=None):
    """The [CLS] rows of every block, the final tokens (square only) and the logits of one input."""
    for row in rows:
        assert row.shape[-1] == final.shape[0], (tag, row.shape, final.shape)
    out = {}
    for i, row in enumerate(rows):
        out["%s.block%d.cls" % (tag, i)] = row.contiguous()
    if tag == "square":
        out[tag + ".final"] = final.contiguous()
    if logits is not None:
        out[tag + ".logits"] = logits.contiguous()
    return out


def shapes(state):
    return {k: list(state[k].shape) for k in sorted(state)}


def file_size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    return os.path.getsize(path)


# ---------------------------------------------------------------------- DINOv2 ----

def dinov2_blocks(model):
    from dinov2.layers.block import Block
    return [m for m in model.modules() if isinstance(m, Block)]


def capture_dinov2(model, x):
    """[CLS] attention rows of every block and the final normalised tokens of a DINOv2 ViT.

    Its attention calls F.scaled_dot_product_attention, so the probabilities never exist; a
    pre-hook on each block's `attn` recomputes them from the module's input with its own qkv,
    num_heads and scale, exactly as Attention.forward splits them, and a forward hook checks
    that proj(attention @ v) is the module's own output."""
    rows, hooks, pending = [], [], {}

    def pre(module, args):
        t = args[0]
        B, N, C = t.shape
        qkv = module.qkv(t).reshape(B, N, 3, module.num_heads, C // module.num_heads)
        q, k, v = [s.transpose(1, 2) for s in torch.unbind(qkv, 2)]
        attention = torch.softmax((q @ k.transpose(-2, -1)) * module.scale, dim=-1)
        pending[module] = (attention, v)

    def post(module, args, output):
        attention, v = pending.pop(module)
        B, N, C = output.shape
        mine = module.proj((attention @ v).transpose(1, 2).reshape(B, N, C))
        assert torch.allclose(mine, output, rtol=1e-4, atol=1e-5), (mine - output).abs().max()
        rows.append(attention[0, :, 0, :].clone())

    for block in dinov2_blocks(model):
        hooks.append(block.attn.register_forward_pre_hook(pre))
        hooks.append(block.attn.register_forward_hook(post))
    with torch.no_grad():
        features = model.forward_features(x)
    for hook in hooks:
        hook.remove()
    final = torch.cat([features["x_norm_clstoken"][:, None], features["x_norm_regtokens"],
                       features["x_norm_patchtokens"]], dim=1)[0]
    assert torch.allclose(final, model.norm(features["x_prenorm"])[0], atol=1e-6)
    return rows, final


def interpolation_effects(model, height, width):
    """How far the resampled position rows of the wide input are apart under the neighbouring
    rules (largest absolute difference), so that a loader using the wrong one fails."""
    M = int(math.sqrt(model.pos_embed.shape[1] - 1))
    dim = model.pos_embed.shape[-1]
    grid = model.pos_embed[:, 1:].detach().reshape(1, M, M, dim).permute(0, 3, 1, 2)
    h, w = height // model.patch_size, width // model.patch_size
    by_scale = nn.functional.interpolate(grid, mode="bicubic", antialias=False,
                                         scale_factor=((h + 0.1) / M, (w + 0.1) / M))
    by_size = nn.functional.interpolate(grid, mode="bicubic", antialias=False, size=(h, w))
    by_size_aa = nn.functional.interpolate(grid, mode="bicubic", antialias=True, size=(h, w))
    return {"offset_0.1_scale_factor_vs_size": (by_scale - by_size).abs().max().item(),
            "antialias_vs_not_at_size": (by_size_aa - by_size).abs().max().item()}


def make_dinov2(dinov2_path, revision, inputs):
    sys.path.insert(0, os.path.abspath(dinov2_path))
    from dinov2.layers import DINOHead, MemEffAttention, NestedTensorBlock
    from dinov2.models.vision_transformer import DinoVisionTransformer

    common = dict(img_size=518, patch_size=14, embed_dim=128, num_heads=2, mlp_ratio=2, init_values=1.0,
                  qkv_bias=True, ffn_bias=True, proj_bias=True)
    cases = [
        ("dinov2_hub", dict(depth=2, block_chunks=0, num_register_tokens=0, interpolate_antialias=False,
                            interpolate_offset=0.1, mlp_ratio=1), "state_dict"),
        ("dinov2_hub_reg4", dict(depth=2, block_chunks=0, num_register_tokens=4, interpolate_antialias=True,
                                 interpolate_offset=0.0, mlp_ratio=1), "state_dict"),
        # Two chunks of one block each: blocks.0.0 and blocks.1.1 (blocks.1.0 is an empty Identity).
        ("dinov2_teacher", dict(depth=2, block_chunks=2, num_register_tokens=0, interpolate_antialias=False,
                                interpolate_offset=0.1, mlp_ratio=1), "teacher"),
        ("dinov2_swiglu", dict(depth=2, block_chunks=0, num_register_tokens=0, interpolate_antialias=False,
                               interpolate_offset=0.1, ffn_layer="swiglufused", mlp_ratio=4), "state_dict"),
    ]
    entries = []
    for seed, (name, extra, kind) in enumerate(cases, start=1):
        kwargs = dict(common, **extra)
        torch.manual_seed(seed)
        # As the hub builds them (vit_small & co.): NestedTensorBlock with MemEffAttention,
        # which falls back to Attention without xFormers.
        model = DinoVisionTransformer(block_fn=partial(NestedTensorBlock, attn_class=MemEffAttention), **kwargs).eval()
        randomise(model, seed)
        for block in dinov2_blocks(model):
            sharpen_qkv(block.attn.qkv, kwargs["embed_dim"], 1.6)
        state = model.state_dict()
        path = os.path.join(OUT, name + ".pth")
        if kind == "teacher":
            head = DINOHead(in_dim=kwargs["embed_dim"], out_dim=256, nlayers=2, hidden_dim=64, bottleneck_dim=64)
            randomise(head, 100 + seed)
            teacher = {"backbone." + k: v for k, v in state.items()}
            teacher.update({"dino_head." + k: v for k, v in head.state_dict().items()})
            torch.save({"teacher": teacher, "iteration": 1234}, path)
        else:
            torch.save(state, path)

        # The saved file, loaded back as the hub would, is what the references come from.
        loaded = torch.load(path, map_location="cpu", weights_only=True)
        if kind == "teacher":
            loaded = {k[len("backbone."):]: v for k, v in loaded["teacher"].items() if k.startswith("backbone.")}
        model.load_state_dict(loaded, strict=True)

        if kind == "teacher":
            blocks = sorted({".".join(k.split(".")[:3]) for k in state if k.startswith("blocks.")})
            assert blocks == ["blocks.0.0", "blocks.1.1"], blocks

        registers = kwargs["num_register_tokens"]
        reference, grids = {}, {}
        for tag, height, width in sizes(14):
            x = photo_input(inputs, tag, 14, IMAGENET_MEAN, IMAGENET_STD)
            rows, final = capture_dinov2(model, x)
            assert len(rows) == kwargs["depth"], len(rows)
            assert final.shape[0] == 1 + registers + (height // 14) * (width // 14), final.shape
            check_structure(name, tag, rows)
            reference.update(reference_entries(tag, rows, final))
            grids[tag] = [height, width, height // 14, width // 14]
        metadata = reference_metadata(14, IMAGENET_MEAN, IMAGENET_STD, kwargs["num_heads"], 1 + registers)
        save_reference(name, reference, metadata)

        if kwargs["interpolate_offset"]:
            rule = ("dinov2 interpolate_pos_encoding: nn.functional.interpolate(grid[1, C, 37, 37], mode='bicubic', "
                    "antialias=False, scale_factor=((h + 0.1) / 37, (w + 0.1) / 37)); output h x w, source "
                    "coordinate (d + 0.5) * 37 / (h + 0.1) - 0.5, align_corners=False, cubic a=-0.75; [CLS] row kept")
        else:
            rule = ("dinov2 interpolate_pos_encoding: nn.functional.interpolate(grid[1, C, 37, 37], mode='bicubic', "
                    "antialias=True, size=(h, w)); antialiased bicubic (a=-0.5), align_corners=False; [CLS] row kept")
        entries.append({
            "name": name,
            "file": name + ".pth",
            "reference": name + ".reference.safetensors",
            "library": "dinov2 (facebookresearch/dinov2 %s), torch %s" % (revision, torch.__version__),
            "class": "dinov2.models.vision_transformer.DinoVisionTransformer",
            "constructor": dict(kwargs, block_fn="partial(NestedTensorBlock, attn_class=MemEffAttention)",
                                act_layer="nn.GELU", norm_layer="partial(nn.LayerNorm, eps=1e-6)"),
            "saved_as": ("torch.save({'teacher': {'backbone.' + k: v} + dino_head.*, 'iteration': 1234})"
                         if kind == "teacher" else "torch.save(model.state_dict())"),
            "heads": kwargs["num_heads"], "width": kwargs["embed_dim"], "depth": kwargs["depth"],
            "head_dim": kwargs["embed_dim"] // kwargs["num_heads"],
            "mlp_hidden": (state["blocks.0.mlp.w12.weight"].shape[0] // 2 if "ffn_layer" in kwargs
                           else model.blocks[0].mlp.fc1.out_features if not kwargs["block_chunks"]
                           else state["blocks.0.0.mlp.fc1.weight"].shape[0]),
            "registers": registers, "patch": 14, "pos_grid": 37, "layer_norm_eps": 1e-6,
            "layer_scale": True, "ffn": "swiglu (w12 = [x1; x2], silu(x1) * x2, w3)" if "ffn_layer" in kwargs else "mlp gelu",
            "token_order": ["cls"] + (["registers x%d" % registers] if registers else []) + ["patches (row-major)"],
            "positions": "pos_embed [1, 1 + 37*37, C] added to [CLS] + patches before the registers are inserted",
            "mean": IMAGENET_MEAN, "std": IMAGENET_STD,
            "reference_metadata": metadata,
            "interpolation": rule,
            "interpolation_effects_wide": interpolation_effects(model, 224, 308),
            "inputs": grids,
            "classifier": None,
            "keys": shapes(teacher if kind == "teacher" else state),
        })
    return entries


# ---------------------------------------------------------------- transformers ----

def hf_capture(model, x, final_norm, **kwargs):
    """[CLS] rows of the eager attention probabilities, final normalised tokens, logits."""
    captured = []
    hook = final_norm.register_forward_hook(lambda m, i, o: captured.append(o[0].detach().clone()))
    with torch.no_grad():
        out = model(pixel_values=x, output_attentions=True, **kwargs)
    hook.remove()
    rows = [a[0, :, 0, :].clone() for a in out.attentions]
    logits = out.logits[0].clone() if hasattr(out, "logits") else None
    return rows, captured[0], logits


def hf_keys(directory):
    """Names and shapes of the tensors in every .safetensors file of a folder, as saved."""
    keys = {}
    for f in sorted(os.listdir(directory)):
        if f.endswith(".safetensors"):
            with safetensors.safe_open(os.path.join(directory, f), "pt") as sf:
                keys.update({k: sf.get_slice(k).get_shape() for k in sf.keys()})
    return {k: list(keys[k]) for k in sorted(keys)}


def make_hf(inputs):
    from transformers import (BitImageProcessor, DeiTConfig, DeiTForImageClassificationWithTeacher, DeiTImageProcessor,
                              Dinov2WithRegistersConfig, Dinov2WithRegistersModel, ViTConfig, ViTForImageClassification,
                              ViTImageProcessor)
    from transformers.image_utils import PILImageResampling
    entries = []

    # ViT with a 5-class head on [CLS].
    name = "hf_vit"
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    labels = {0: "apple", 1: "banana", 2: "cherry", 3: "date", 4: "elderberry"}
    config_args = dict(hidden_size=96, num_attention_heads=3, num_hidden_layers=2, intermediate_size=192, image_size=224,
                       patch_size=16, num_labels=5, id2label=labels, label2id={v: k for k, v in labels.items()})
    torch.manual_seed(5)
    model = ViTForImageClassification(ViTConfig(**config_args)).eval()
    randomise(model, 5)
    for layer in model.vit.layers:
        sharpen_linear(layer.attention.q_proj, 1.4)
        sharpen_linear(layer.attention.k_proj, 1.4)
    model.save_pretrained(directory)
    processor = ViTImageProcessor(image_mean=HALF, image_std=HALF)
    processor.save_pretrained(directory)
    loaded = ViTForImageClassification.from_pretrained(directory, attn_implementation="eager").eval()
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    reference = {}
    for tag, height, width in sizes(16):
        x = photo_input(inputs, tag, 16, processor.image_mean, processor.image_std)
        rows, final, logits = hf_capture(loaded, x, loaded.vit.layernorm, interpolate_pos_encoding=(tag == "wide"))
        assert final.shape[0] == 1 + (height // 16) * (width // 16), final.shape
        check_structure(name, tag, rows)
        reference.update(reference_entries(tag, rows, final, logits))
    metadata = reference_metadata(16, processor.image_mean, processor.image_std, 3, 1)
    save_reference(name, reference, metadata)
    entries.append({
        "name": name, "file": name + "/", "reference": name + ".reference.safetensors",
        "library": "transformers %s, torch %s" % (transformers.__version__, torch.__version__),
        "class": "transformers.ViTForImageClassification", "constructor": dict(config_args, id2label={str(k): v for k, v in labels.items()}),
        "saved_as": "model.save_pretrained(dir) + ViTImageProcessor(image_mean=[0.5]*3, image_std=[0.5]*3).save_pretrained(dir)",
        "heads": 3, "width": 96, "depth": 2, "head_dim": 32, "mlp_hidden": 192, "registers": 0, "patch": 16, "pos_grid": 14,
        "layer_norm_eps": model.config.layer_norm_eps, "layer_scale": False, "ffn": "mlp gelu",
        "token_order": ["cls", "patches (row-major)"],
        "positions": "position_embeddings [1, 1 + 14*14, C] added to [CLS] + patches",
        "mean": list(processor.image_mean), "std": list(processor.image_std),
        "reference_metadata": metadata,
        "interpolation": ("square: none (native 224, interpolate_pos_encoding=False). wide: interpolate_pos_encoding=True: "
                          "nn.functional.interpolate(grid[1, C, 14, 14], size=(h, w), mode='bicubic', align_corners=False) "
                          "(no antialias, no float32 cast); [CLS] row kept"),
        "inputs": {t: [h, w, h // 16, w // 16] for t, h, w in sizes(16)},
        "classifier": "classifier.weight [5, 96] on the final-norm [CLS] token (last_hidden_state[:, 0])",
        "keys": hf_keys(directory),
    })

    # Distilled DeiT: [CLS], distillation token, patches; a 3-class head on each of the two tokens,
    # the logits their average.
    name = "hf_deit"
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    labels = {0: "ant", 1: "bee", 2: "cicada"}
    config_args = dict(hidden_size=64, num_attention_heads=2, num_hidden_layers=2, intermediate_size=128, image_size=224,
                       patch_size=16, num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()})
    torch.manual_seed(9)
    model = DeiTForImageClassificationWithTeacher(DeiTConfig(**config_args)).eval()
    randomise(model, 9)
    for layer in model.deit.layers:
        sharpen_linear(layer.attention.q_proj, 1.4)
        sharpen_linear(layer.attention.k_proj, 1.4)
    model.save_pretrained(directory)
    # What the facebook/deit-*-distilled-* checkpoints ship: ImageNet mean and std.
    processor = DeiTImageProcessor(image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD)
    processor.save_pretrained(directory)
    loaded = DeiTForImageClassificationWithTeacher.from_pretrained(directory, attn_implementation="eager").eval()
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    reference = {}
    for tag, height, width in sizes(16):
        x = photo_input(inputs, tag, 16, processor.image_mean, processor.image_std)
        rows, final, logits = hf_capture(loaded, x, loaded.deit.layernorm, interpolate_pos_encoding=(tag == "wide"))
        assert final.shape[0] == 2 + (height // 16) * (width // 16), final.shape
        with torch.no_grad():
            mine = (loaded.cls_classifier(final[0]) + loaded.distillation_classifier(final[1])) / 2
        assert torch.allclose(mine, logits, rtol=1e-5, atol=1e-6), (mine - logits).abs().max()
        check_structure(name, tag, rows)
        reference.update(reference_entries(tag, rows, final, logits))
    metadata = reference_metadata(16, processor.image_mean, processor.image_std, 2, 2)
    save_reference(name, reference, metadata)
    entries.append({
        "name": name, "file": name + "/", "reference": name + ".reference.safetensors",
        "library": "transformers %s, torch %s" % (transformers.__version__, torch.__version__),
        "class": "transformers.DeiTForImageClassificationWithTeacher",
        "constructor": dict(config_args, id2label={str(k): v for k, v in labels.items()}),
        "saved_as": ("model.save_pretrained(dir) + DeiTImageProcessor(image_mean=[0.485, 0.456, 0.406], "
                     "image_std=[0.229, 0.224, 0.225]).save_pretrained(dir)"),
        "heads": 2, "width": 64, "depth": 2, "head_dim": 32, "mlp_hidden": 128, "registers": 0, "patch": 16, "pos_grid": 14,
        "layer_norm_eps": model.config.layer_norm_eps, "layer_scale": False, "ffn": "mlp gelu",
        "token_order": ["cls", "distillation", "patches (row-major)"],
        "positions": "position_embeddings [1, 2 + 14*14, C] added to [CLS] + distillation + patches",
        "mean": list(processor.image_mean), "std": list(processor.image_std),
        "reference_metadata": metadata,
        "interpolation": ("square: none (native 224, interpolate_pos_encoding=False). wide: interpolate_pos_encoding=True: "
                          "nn.functional.interpolate(grid[1, C, 14, 14], size=(h, w), mode='bicubic', align_corners=False) "
                          "(no antialias, no float32 cast); [CLS] and distillation rows kept"),
        "inputs": {t: [h, w, h // 16, w // 16] for t, h, w in sizes(16)},
        "classifier": ("cls_classifier.weight [3, 64] on the final-norm [CLS] token (last_hidden_state[:, 0]) and "
                       "distillation_classifier.weight [3, 64] on the final-norm distillation token (last_hidden_state[:, 1]); "
                       "logits = (cls_logits + distillation_logits) / 2"),
        "keys": hf_keys(directory),
    })

    # DINOv2 with 4 registers, 4 heads of 32, saved in shards.
    name = "hf_dinov2_reg"
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    config_args = dict(hidden_size=128, num_attention_heads=4, num_hidden_layers=2, mlp_ratio=2, num_register_tokens=4,
                       image_size=518, patch_size=14, layerscale_value=1.0)
    torch.manual_seed(6)
    model = Dinov2WithRegistersModel(Dinov2WithRegistersConfig(**config_args)).eval()
    randomise(model, 6)
    for layer in model.encoder.layer:
        sharpen_linear(layer.attention.q_proj, 1.4)
        sharpen_linear(layer.attention.k_proj, 1.4)
    model.save_pretrained(directory, max_shard_size="700KB")
    # What the facebook/dinov2-with-registers-* checkpoints ship.
    processor = BitImageProcessor(size={"shortest_edge": 256}, crop_size={"height": 224, "width": 224},
                                  resample=PILImageResampling.BICUBIC, image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD)
    processor.save_pretrained(directory)
    shards = sorted(f for f in os.listdir(directory) if f.endswith(".safetensors"))
    assert 2 <= len(shards) <= 4 and os.path.exists(os.path.join(directory, "model.safetensors.index.json")), shards
    loaded = Dinov2WithRegistersModel.from_pretrained(directory, attn_implementation="eager").eval()
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    reference = {}
    for tag, height, width in sizes(14):
        x = photo_input(inputs, tag, 14, processor.image_mean, processor.image_std)
        rows, final, _ = hf_capture(loaded, x, loaded.layernorm)
        assert final.shape[0] == 1 + 4 + (height // 14) * (width // 14), final.shape
        check_structure(name, tag, rows)
        reference.update(reference_entries(tag, rows, final))
    metadata = reference_metadata(14, processor.image_mean, processor.image_std, 4, 1 + 4)
    save_reference(name, reference, metadata)
    entries.append({
        "name": name, "file": name + "/", "reference": name + ".reference.safetensors",
        "library": "transformers %s, torch %s" % (transformers.__version__, torch.__version__),
        "class": "transformers.Dinov2WithRegistersModel", "constructor": config_args,
        "saved_as": "model.save_pretrained(dir, max_shard_size='700KB') (%d shards + model.safetensors.index.json) "
                    "+ BitImageProcessor(...).save_pretrained(dir)" % len(shards),
        "shards": shards,
        "heads": 4, "width": 128, "depth": 2, "head_dim": 32, "mlp_hidden": 256, "registers": 4, "patch": 14, "pos_grid": 37,
        "layer_norm_eps": model.config.layer_norm_eps, "layer_scale": True, "ffn": "mlp gelu",
        "token_order": ["cls", "registers x4", "patches (row-major)"],
        "positions": "position_embeddings [1, 1 + 37*37, C] added to [CLS] + patches before the registers are inserted",
        "mean": list(processor.image_mean), "std": list(processor.image_std),
        "reference_metadata": metadata,
        "interpolation": ("always (grid is never 37x37 here): nn.functional.interpolate(grid[1, C, 37, 37].to(torch.float32), "
                          "size=(h, w), mode='bicubic', align_corners=False, antialias=True); [CLS] row kept"),
        "inputs": {t: [h, w, h // 14, w // 14] for t, h, w in sizes(14)},
        "classifier": None,
        "keys": hf_keys(directory),
    })
    return entries


# ------------------------------------------------------------------------ timm ----

def capture_timm(model, x):
    rows, hooks = [], []
    for block in model.blocks:
        block.attn.fused_attn = False
        hooks.append(block.attn.attn_drop.register_forward_hook(lambda m, i, o: rows.append(o[0, :, 0, :].detach().clone())))
    with torch.no_grad():
        features = model.forward_features(x)
        logits = model.forward_head(features)
    for hook in hooks:
        hook.remove()
    return rows, features[0].clone(), logits[0].clone()


def make_timm(inputs):
    from timm.models import save_for_hf
    from timm.models.vision_transformer import VisionTransformer
    entries = []

    name = "timm_hub_vit"
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    # The augreg tiny checkpoints' pretrained_cfg: mean = std = 0.5.
    arch = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
    args = dict(depth=2, num_classes=4, mlp_ratio=1)
    torch.manual_seed(7)
    model = timm.create_model(arch, pretrained=False, **args).eval()
    randomise(model, 7)
    for block in model.blocks:
        sharpen_qkv(block.attn.qkv, model.embed_dim, 1.4)
    save_for_hf(model, directory, safe_serialization=True)
    weights = os.path.join(directory, "model.safetensors")
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    mean, std = list(config["pretrained_cfg"]["mean"]), list(config["pretrained_cfg"]["std"])
    assert mean == HALF and std == HALF, (mean, std)
    assert config["model_args"]["mlp_ratio"] == 1, config["model_args"]
    reference = {}
    for tag, height, width in sizes(16):
        # timm's own loader reads the saved folder (config.json, model.safetensors); the wide
        # input needs dynamic_img_size.
        extra = dict(dynamic_img_size=True) if tag == "wide" else {}
        loaded = timm.create_model("local-dir:" + directory, pretrained=True, **extra).eval()
        for k, v in model.state_dict().items():
            assert torch.equal(v, loaded.state_dict()[k]), k
        x = photo_input(inputs, tag, 16, mean, std)
        rows, final, logits = capture_timm(loaded, x)
        assert final.shape[0] == 1 + (height // 16) * (width // 16), final.shape
        check_structure(name, tag, rows)
        reference.update(reference_entries(tag, rows, final, logits))
    metadata = reference_metadata(16, mean, std, model.blocks[0].attn.num_heads, 1)
    save_reference(name, reference, metadata)
    entries.append({
        "name": name, "file": name + "/", "reference": name + ".reference.safetensors",
        "library": "timm %s, torch %s" % (timm.__version__, torch.__version__),
        "class": "timm VisionTransformer via timm.create_model(%r, depth=2, num_classes=4, mlp_ratio=1)" % arch,
        "constructor": dict(model_name=arch, **args, wide_extra={"dynamic_img_size": True}),
        "saved_as": "timm.models.save_for_hf(model, dir, safe_serialization=True): config.json + model.safetensors",
        "heads": 3, "width": 192, "depth": 2, "head_dim": 64, "mlp_hidden": model.blocks[0].mlp.fc1.out_features,
        "registers": 0, "patch": 16, "pos_grid": 14,
        "layer_norm_eps": 1e-6, "layer_scale": False, "ffn": "mlp gelu",
        "token_order": ["cls", "patches (row-major)"],
        "positions": "pos_embed [1, 1 + 14*14, C] added to [CLS] + patches (no_embed_class=False)",
        "mean": mean, "std": std,
        "reference_metadata": metadata,
        "interpolation": ("square: none. wide (dynamic_img_size=True): timm.layers.resample_abs_pos_embed: "
                          "F.interpolate(grid[1, C, 14, 14].float(), size=(h, w), mode='bicubic', align_corners=None, "
                          "antialias=True); [CLS] row kept"),
        "inputs": {t: [h, w, h // 16, w // 16] for t, h, w in sizes(16)},
        "classifier": "head.weight [4, 192] on the final-norm [CLS] token (global_pool='token', fc_norm Identity)",
        "config_json": config,
        "keys": shapes(load_file(weights)),
    })

    name = "timm_qknorm"
    kwargs = dict(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=1, qk_norm=True, num_classes=0)
    torch.manual_seed(8)
    model = VisionTransformer(**kwargs).eval()
    randomise(model, 8)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(OUT, name + ".safetensors"))
    entries.append({
        "name": name, "file": name + ".safetensors", "reference": None,
        "library": "timm %s, torch %s" % (timm.__version__, torch.__version__),
        "class": "timm.models.vision_transformer.VisionTransformer", "constructor": kwargs,
        "saved_as": "safetensors.torch.save_file(model.state_dict())",
        "heads": 1, "width": 32, "depth": 1, "head_dim": 32, "mlp_hidden": 128, "registers": 0, "patch": 8, "pos_grid": 4,
        "layer_norm_eps": 1e-6, "layer_scale": False, "ffn": "mlp gelu", "qk_norm": True,
        "token_order": ["cls", "patches (row-major)"], "mean": None, "std": None,
        "interpolation": None, "classifier": None,
        "keys": shapes(model.state_dict()),
    })
    return entries


# ------------------------------------------------------------------------ main ----

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dinov2", required=True, help="a checkout of facebookresearch/dinov2")
    parser.add_argument("--dinov2-revision", default="unknown revision", help="its commit, recorded in the manifest")
    args = parser.parse_args()

    # Everything under OUT is this script's: start from an empty folder so nothing stale remains.
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    inputs = make_inputs()
    entries = make_dinov2(args.dinov2, args.dinov2_revision, inputs) + make_hf(inputs) + make_timm(inputs)
    for entry in entries:
        paths = [os.path.join(OUT, entry["file"].rstrip("/"))] + ([os.path.join(OUT, entry["reference"])] if entry["reference"] else [])
        entry["bytes"] = sum(file_size(p) for p in paths)
        if entry["reference"]:
            entry["reference_tensors"] = shapes(load_file(os.path.join(OUT, entry["reference"])))
            with safetensors.safe_open(os.path.join(OUT, entry["reference"]), "pt") as sf:
                assert sf.metadata() == entry["reference_metadata"], (entry["name"], sf.metadata())
    manifest = {
        "photo": "Samples/images/" + PHOTO,
        "preprocessing": ("PIL Image.resize((W, H), Image.BICUBIC) of the RGB photo to exactly H x W, stored as uint8 "
                          "[H, W, 3] in inputs.safetensors; the models are fed (x / 255 - mean) / std in float32, "
                          "[1, 3, H, W], computed from exactly those bytes"),
        "inputs": "square 224x224; wide 224x308 (patch 14) or 224x320 (patch 16)",
        "inputs_file": "inputs.safetensors",
        "inputs_tensors": {k: {"dtype": "uint8", "shape": list(v.shape)} for k, v in sorted(inputs.items())},
        "reference_keys": ("T.block<i>.cls [heads, tokens] (T = square, wide); square.final [tokens, width]; "
                           "T.logits [classes] where the model has a classifier"),
        "reference_metadata": ("safetensors __metadata__ (strings): input_square, input_wide (names in inputs.safetensors), "
                               "mean, std (comma-separated decimals), heads, "
                               "prefix_tokens ([CLS] + distillation token + registers)"),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "timm": timm.__version__,
                     "safetensors": safetensors.__version__, "dinov2": args.dinov2_revision},
        "fixtures": entries,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    for folder, _, files in os.walk(OUT):
        for f in files:
            os.chmod(os.path.join(folder, f), 0o644)
    total = 0
    for f in sorted(os.listdir(OUT)):
        size = file_size(os.path.join(OUT, f))
        total += size
        print("%10d  %s" % (size, f))
    print("%10d  total, layout fixtures written under Tests/Fixtures/layouts" % total)


if __name__ == "__main__":
    main()

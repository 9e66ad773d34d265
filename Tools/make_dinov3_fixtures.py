#!/usr/bin/env python3
"""DINOv3 checkpoints in their libraries' own layouts, with their reference outputs, written under
Tests/Fixtures/dinov3.

Small random-initialised DINOv3 ViTs are built with DINOv3's own code (facebookresearch/dinov3,
`DinoVisionTransformer` with exactly the settings its hub gives `dinov3_vits16` and
`dinov3_vits16plus`, only narrower and shallower) and with Hugging Face transformers
(`DINOv3ViTModel`), saved in each library's own on-disk format, and run by the same library on
one sample photo at three sizes, all multiples of the patch (16):

    square  224 x 224   14 x 14 patches   `square.p16` in ../layouts/inputs.safetensors
    wide    224 x 320   14 x 20 patches   `wide.p16`   in ../layouts/inputs.safetensors
    odd     208 x 272   13 x 17 patches   `odd.p16`    in inputs.safetensors (this folder)

The inputs are the RGB bytes of the PIL bicubic resize of Samples/images/owl.jpg (uint8
[H, W, 3]); every model is fed (x / 255 - mean) / std in float32 computed from exactly these
bytes, with the ImageNet mean and std the DINOv3 hub's transform uses (and transformers'
DINOv3ViTImageProcessor).

For every model `<name>.reference.safetensors` holds, with T = square, wide or odd,

    T.block<i>.cls   [heads, tokens]   the [CLS] query's attention row of every head of block i,
                                       over all tokens in the model's own order:
                                       [CLS], 4 storage tokens, patches (row-major)
    square.final     [tokens, width]   the tokens after the model's final norm (square only)

and, as its safetensors metadata (strings): `input_square`, `input_wide`, `input_odd` (the
names of its inputs; square.p16 and wide.p16 are in ../layouts/inputs.safetensors, odd.p16 in
this folder's inputs.safetensors), `mean` and `std` (comma-separated decimals), `heads`,
`prefix_tokens` ([CLS] + storage tokens = 5). manifest.json describes every file (constructor
arguments, the hub's own arguments, token order, the RoPE as the library computes it, how far
the attention moves under neighbouring RoPE variants, state-dict names and shapes).

DINOv3 has no position table: every block rotates the queries and keys of the patch tokens by
2-D axial RoPE (dinov3/layers/rope_position_encoding.py, dinov3/layers/attention.py). For an
h x w patch grid, head dimension D and base 100 (normalize_coords = "separate"):

    periods[i] = base ** (2 i / (D / 2)) = base ** (4 i / D),  i = 0 .. D/4 - 1   (buffer
                 `rope_embed.periods`, float32, stored in the state dict)
    y_r = 2 (r + 0.5) / h - 1,  x_c = 2 (c + 0.5) / w - 1   (patch centres in (-1, 1))
    angles[t] = 2 pi [y / periods, x / periods]             [D/2] for patch t = r w + c
    angles[t] = [angles[t], angles[t]]                      [D] ("tile(2)", half-half)
    sin, cos = sin(angles), cos(angles)                     [h w, D] float32
    rope(x) = x * cos + rotate_half(x) * sin,  rotate_half([a, b]) = [-b, a] (halves of D)

applied to q and k of the patch tokens only ([CLS] and storage tokens are not rotated), after
the qkv projection and before scaled_dot_product_attention's 1 / sqrt(D) scale. The hub's
pos_embed_rope_rescale_coords = 2 (and shift/jitter, None here) act only in training mode.

    python3 Tools/make_dinov3_fixtures.py --dinov3 PATH   # PATH: a facebookresearch/dinov3 checkout
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

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from make_layout_fixtures import (IMAGENET_MEAN, IMAGENET_STD, PHOTO, check_structure, decimals,  # noqa: E402
                                  file_size, photo_rgb, reference_entries, shapes, sharpen_linear, sharpen_qkv,
                                  sort_metadata)

OUT = os.path.join(ROOT, "Tests", "Fixtures", "dinov3")
LAYOUT_INPUTS = os.path.join(ROOT, "Tests", "Fixtures", "layouts", "inputs.safetensors")
PATCH = 16
# (tag, height, width, name of the input, the file that holds it relative to OUT)
SIZES = [
    ("square", 224, 224, "square.p16", "../layouts/inputs.safetensors"),
    ("wide", 224, 320, "wide.p16", "../layouts/inputs.safetensors"),
    ("odd", 208, 272, "odd.p16", "inputs.safetensors"),
]
WIDTH, HEADS, DEPTH = 128, 2, 2
STORAGE = 4
PREFIX = 1 + STORAGE


# --------------------------------------------------------------------- helpers ----

def make_inputs():
    """inputs.safetensors holds odd.p16; square.p16 and wide.p16 are read from the layout
    fixtures (and checked to be the same resize of the same photo)."""
    inputs = {"odd.p16": torch.from_numpy(photo_rgb(208, 272))}
    path = os.path.join(OUT, "inputs.safetensors")
    save_file(inputs, path)
    reloaded = load_file(path)
    assert sorted(reloaded) == ["odd.p16"]
    assert reloaded["odd.p16"].dtype == torch.uint8 and torch.equal(reloaded["odd.p16"], inputs["odd.p16"])
    layouts = load_file(LAYOUT_INPUTS)
    for tag, height, width, name, _ in SIZES:
        if name in layouts:
            assert layouts[name].dtype == torch.uint8 and list(layouts[name].shape) == [height, width, 3], name
            assert torch.equal(layouts[name], torch.from_numpy(photo_rgb(height, width))), name
            reloaded[name] = layouts[name]
    assert sorted(reloaded) == sorted(name for *_, name, _ in SIZES), sorted(reloaded)
    return reloaded


def photo_input(inputs, name, mean, std):
    """The model input computed from the stored bytes: (x / 255 - mean) / std in float32, [1, 3, H, W]."""
    rgb = inputs[name].numpy().astype(np.float32) / np.float32(255)
    x = (rgb - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    assert x.dtype == np.float32
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def reference_metadata(mean, std, heads, prefix_tokens):
    """The safetensors metadata of a reference file (all strings)."""
    names = {tag: name for tag, _, _, name, _ in SIZES}
    return {"input_square": names["square"], "input_wide": names["wide"], "input_odd": names["odd"],
            "mean": decimals(mean), "std": decimals(std), "heads": str(heads), "prefix_tokens": str(prefix_tokens)}


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
    return type(module).__name__ in ("LayerScale", "DINOv3ViTLayerScale")


def randomise(model, seed):
    """Random weights with a spread that makes every parameter matter, as for the layout fixtures:
    linear and conv weights randn / sqrt(fan_in), biases 0.1 randn, norm weights 1 + 0.1 randn,
    LayerScale uniform in [0.25, 1.25), tokens 0.5 randn. Buffers (DINOv3's rope periods and
    qkv bias_mask) keep what the library gave them."""
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


def rope_formula(h, w, head_dim, base):
    """sin, cos [h*w, head_dim] of DINOv3's RoPE (normalize_coords="separate", eval), computed
    here in float64 from the formula, to check the library's own."""
    periods = base ** (np.arange(head_dim // 4, dtype=np.float64) * 4 / head_dim)
    ys = 2 * (np.arange(h, dtype=np.float64) + 0.5) / h - 1
    xs = 2 * (np.arange(w, dtype=np.float64) + 0.5) / w - 1
    y, x = [a.reshape(-1) for a in np.meshgrid(ys, xs, indexing="ij")]
    half = 2 * math.pi * np.concatenate([y[:, None] / periods, x[:, None] / periods], axis=1)
    angles = np.concatenate([half, half], axis=1)
    return np.sin(angles), np.cos(angles), periods


# ---------------------------------------------------------------------- DINOv3 ----

def hub_arguments(function):
    """The keyword arguments a DINOv3 hub function passes to DinoVisionTransformer (its own
    code, called with pretrained=False; the constructor is intercepted before it builds)."""
    import dinov3.models.vision_transformer as vision_transformer

    class Intercepted(Exception):
        pass

    captured = {}

    def intercept(**kwargs):
        captured.update(kwargs)
        raise Intercepted

    original = vision_transformer.DinoVisionTransformer
    vision_transformer.DinoVisionTransformer = intercept
    try:
        function(pretrained=False)
    except Intercepted:
        pass
    finally:
        vision_transformer.DinoVisionTransformer = original
    assert captured, function
    return captured


def capture_dinov3(model, x):
    """[CLS] attention rows of every block, the final normalised tokens, and every block
    attention's input and rope (sin, cos) of a DINOv3 ViT.

    Its SelfAttention calls F.scaled_dot_product_attention, so the probabilities never exist; a
    pre-hook on each block's `attn` recomputes them from the module's input and the `rope`
    (sin, cos) the block passes it, with its own qkv (LinearKMaskedBias: the masked bias), its
    own apply_rope (dinov3.layers.attention.rope_apply on the patch tokens only, in the rope's
    dtype), num_heads and scale, exactly as compute_attention splits them; a forward hook checks
    that proj(attention @ v) is the module's own output."""
    rows, calls, hooks, pending = [], [], [], {}

    def pre(module, args, kwargs):
        assert len(args) == 1 and kwargs.get("attn_bias") is None, (len(args), kwargs.keys())
        t = args[0]
        rope = kwargs["rope"]
        B, N, C = t.shape
        qkv = module.qkv(t).reshape(B, N, 3, module.num_heads, C // module.num_heads)
        q, k, v = [s.transpose(1, 2) for s in torch.unbind(qkv, 2)]
        q, k = module.apply_rope(q, k, rope)
        attention = torch.softmax((q @ k.transpose(-2, -1)) * module.scale, dim=-1)
        pending[module] = (attention, v)
        calls.append((t.clone(), rope[0].clone(), rope[1].clone()))

    def post(module, args, kwargs, output):
        attention, v = pending.pop(module)
        B, N, C = output.shape
        mine = module.proj((attention @ v).transpose(1, 2).reshape(B, N, C))
        assert torch.allclose(mine, output, rtol=1e-4, atol=1e-5), (mine - output).abs().max()
        rows.append(attention[0, :, 0, :].clone())

    for block in model.blocks:
        hooks.append(block.attn.register_forward_pre_hook(pre, with_kwargs=True))
        hooks.append(block.attn.register_forward_hook(post, with_kwargs=True))
    with torch.no_grad():
        features = model.forward_features(x)
    for hook in hooks:
        hook.remove()
    final = torch.cat([features["x_norm_clstoken"][:, None], features["x_storage_tokens"],
                       features["x_norm_patchtokens"]], dim=1)[0]
    assert torch.allclose(final, model.norm(features["x_prenorm"])[0], atol=1e-6)
    return rows, final, calls


def check_rope(model, calls, h, w):
    """The rope every block was given is the library's rope_embed(H=h, W=w), and is the formula
    (float64) to float32 accuracy."""
    head_dim = WIDTH // HEADS
    sin64, cos64, periods64 = rope_formula(h, w, head_dim, model.rope_embed.base)
    periods = model.rope_embed.periods
    assert periods.dtype == torch.float32 and list(periods.shape) == [head_dim // 4], (periods.dtype, periods.shape)
    assert np.allclose(periods.numpy(), periods64, rtol=1e-6, atol=0), (periods.numpy(), periods64)
    with torch.no_grad():
        sin_lib, cos_lib = model.rope_embed(H=h, W=w)
    worst = 0.0
    for _, sin, cos in calls:
        assert sin.dtype == torch.float32 and list(sin.shape) == [h * w, head_dim], (sin.dtype, sin.shape)
        assert torch.equal(sin, sin_lib) and torch.equal(cos, cos_lib)
        worst = max(worst, float(np.abs(sin.numpy() - sin64).max()), float(np.abs(cos.numpy() - cos64).max()))
    assert worst < 2e-6, worst
    return worst


def rope_effects(model, call, h, w):
    """How far block 0's [CLS] rows move (largest absolute difference) when the RoPE is done the
    neighbouring wrong ways, so that an engine doing one of them fails the references."""
    from dinov3.layers.attention import rope_apply
    module = model.blocks[0].attn
    t, sin, cos = call
    B, N, C = t.shape
    D = C // module.num_heads
    prefix = N - sin.shape[0]

    def rows(q_k_fn, bias=None):
        with torch.no_grad():
            if bias is None:
                qkv = module.qkv(t)
            else:
                qkv = nn.functional.linear(t, module.qkv.weight, bias)
            qkv = qkv.reshape(B, N, 3, module.num_heads, D)
            q, k, _ = [s.transpose(1, 2) for s in torch.unbind(qkv, 2)]
            q, k = q_k_fn(q, k)
            return torch.softmax((q @ k.transpose(-2, -1)) * module.scale, dim=-1)[0, :, 0, :]

    def with_rope(s, c):
        def fn(q, k):
            return (torch.cat([q[:, :, :prefix], rope_apply(q[:, :, prefix:], s, c)], dim=2),
                    torch.cat([k[:, :, :prefix], rope_apply(k[:, :, prefix:], s, c)], dim=2))
        return fn

    def angles_sc(angles):
        return torch.sin(angles).float(), torch.cos(angles).float()

    true = rows(lambda q, k: module.apply_rope(q, k, (sin, cos)))
    periods = model.rope_embed.periods.double()
    ys = 2 * (torch.arange(h, dtype=torch.float64) + 0.5) / h - 1
    xs = 2 * (torch.arange(w, dtype=torch.float64) + 0.5) / w - 1
    y, x = [a.reshape(-1) for a in torch.meshgrid(ys, xs, indexing="ij")]

    def half(y, x):
        return 2 * math.pi * torch.cat([y[:, None] / periods, x[:, None] / periods], dim=1)

    a = half(y, x)
    m = max(h, w)
    ym, xm = [(2 * (torch.arange(n, dtype=torch.float64) + 0.5) / m - 1) for n in (h, w)]
    y_max, x_max = [t_.reshape(-1) for t_ in torch.meshgrid(ym, xm, indexing="ij")]
    y01, x01 = (y + 1) / 2, (x + 1) / 2
    pairs = torch.repeat_interleave(a, 2, dim=1)

    # the pairs layout rotates (x0, x1), (x2, x3), ...: rotate_half replaced by the pair rotation
    def pair_rope(q, k):
        s, c = angles_sc(pairs)

        def rot(v):
            v2 = torch.stack([-v[..., 1::2], v[..., 0::2]], dim=-1).reshape(v.shape)
            return v * c + v2 * s
        return (torch.cat([q[:, :, :prefix], rot(q[:, :, prefix:])], dim=2),
                torch.cat([k[:, :, :prefix], rot(k[:, :, prefix:])], dim=2))

    xy = torch.cat([x[:, None] / periods, y[:, None] / periods], dim=1) * 2 * math.pi
    full_bias = module.qkv.bias.detach()
    variants = {
        "no_rope": rows(lambda q, k: (q, k)),
        "pairs_interleaved_instead_of_half_half": rows(pair_rope),
        "x_before_y": rows(with_rope(*angles_sc(torch.cat([xy, xy], dim=1)))),
        "normalize_coords_max_instead_of_separate": rows(with_rope(*angles_sc(torch.cat([half(y_max, x_max)] * 2, dim=1)))),
        "coords_0_1_instead_of_minus1_1": rows(with_rope(*angles_sc(torch.cat([half(y01, x01)] * 2, dim=1)))),
        "angles_without_2pi": rows(with_rope(*angles_sc(torch.cat([a / (2 * math.pi)] * 2, dim=1)))),
        "k_bias_not_masked": rows(lambda q, k: module.apply_rope(q, k, (sin, cos)), bias=full_bias),
    }
    # the control: the same code with the library's own sin, cos is the library
    assert (rows(with_rope(sin, cos)) - true).abs().max() < 1e-6
    # and the formula's float64 angles, rounded to float32 at the end, give the same rows
    assert (rows(with_rope(*angles_sc(torch.cat([a, a], dim=1)))) - true).abs().max() < 1e-5
    return {k: (v - true).abs().max().item() for k, v in variants.items()}


def hub_to_hf(state, depth, swiglu):
    """A DINOv3 hub state dict under transformers' DINOv3ViTModel names (qkv split, the masked
    k bias dropped, rope periods dropped: transformers recomputes them as inv_freq)."""
    out = {
        "embeddings.cls_token": state["cls_token"],
        "embeddings.mask_token": state["mask_token"][None],
        "embeddings.register_tokens": state["storage_tokens"],
        "embeddings.patch_embeddings.weight": state["patch_embed.proj.weight"],
        "embeddings.patch_embeddings.bias": state["patch_embed.proj.bias"],
        "norm.weight": state["norm.weight"], "norm.bias": state["norm.bias"],
    }
    for i in range(depth):
        s, d = "blocks.%d." % i, "model.layer.%d." % i
        C = state[s + "attn.qkv.weight"].shape[1]
        w, b, mask = state[s + "attn.qkv.weight"], state[s + "attn.qkv.bias"], state[s + "attn.qkv.bias_mask"]
        assert torch.equal(mask[C:2 * C], torch.zeros(C)) and torch.equal(mask[:C], torch.ones(C))
        out.update({
            d + "norm1.weight": state[s + "norm1.weight"], d + "norm1.bias": state[s + "norm1.bias"],
            d + "attention.q_proj.weight": w[:C], d + "attention.q_proj.bias": b[:C],
            d + "attention.k_proj.weight": w[C:2 * C],
            d + "attention.v_proj.weight": w[2 * C:], d + "attention.v_proj.bias": b[2 * C:],
            d + "attention.o_proj.weight": state[s + "attn.proj.weight"],
            d + "attention.o_proj.bias": state[s + "attn.proj.bias"],
            d + "layer_scale1.lambda1": state[s + "ls1.gamma"], d + "layer_scale2.lambda1": state[s + "ls2.gamma"],
            d + "norm2.weight": state[s + "norm2.weight"], d + "norm2.bias": state[s + "norm2.bias"],
        })
        names = ({"w1": "gate_proj", "w2": "up_proj", "w3": "down_proj"} if swiglu
                 else {"fc1": "up_proj", "fc2": "down_proj"})
        for a, bname in names.items():
            out[d + "mlp.%s.weight" % bname] = state[s + "mlp.%s.weight" % a]
            out[d + "mlp.%s.bias" % bname] = state[s + "mlp.%s.bias" % a]
    return out


def hf_equivalence(model, kwargs, inputs):
    """Loads the hub model's weights into transformers' DINOv3ViTModel and compares what both
    compute (rope sin/cos, [CLS] rows, final tokens) on every input: the largest differences."""
    from transformers import DINOv3ViTConfig, DINOv3ViTModel
    swiglu = kwargs["ffn_layer"] == "swiglu"
    state = model.state_dict()
    config = DINOv3ViTConfig(hidden_size=kwargs["embed_dim"], num_attention_heads=kwargs["num_heads"],
                             num_hidden_layers=kwargs["depth"], patch_size=kwargs["patch_size"],
                             intermediate_size=(state["blocks.0.mlp.w1.weight"].shape[0] if swiglu
                                                else state["blocks.0.mlp.fc1.weight"].shape[0]),
                             use_gated_mlp=swiglu, hidden_act="silu" if swiglu else "gelu",
                             num_register_tokens=kwargs["n_storage_tokens"], key_bias=False,
                             rope_theta=float(kwargs["pos_embed_rope_base"]), layer_norm_eps=1e-5,
                             image_size=kwargs["img_size"])
    config._attn_implementation = "eager"
    hf = DINOv3ViTModel(config).eval()
    hf.load_state_dict(hub_to_hf(state, kwargs["depth"], swiglu), strict=True)
    worst = {"rope_sin_cos": 0.0, "cls_rows": 0.0, "final": 0.0}
    for tag, height, width, name, _ in SIZES:
        x = photo_input(inputs, name, IMAGENET_MEAN, IMAGENET_STD)
        rows, final, calls = capture_dinov3(model, x)
        with torch.no_grad():
            cos_hf, sin_hf = hf.rope_embeddings(x)
            out = hf(pixel_values=x, output_attentions=True)
        _, sin, cos = calls[0]
        worst["rope_sin_cos"] = max(worst["rope_sin_cos"], (sin_hf - sin).abs().max().item(),
                                    (cos_hf - cos).abs().max().item())
        worst["cls_rows"] = max([worst["cls_rows"]] + [(a[0, :, 0, :] - r).abs().max().item()
                                                        for a, r in zip(out.attentions, rows)])
        worst["final"] = max(worst["final"], (out.last_hidden_state[0] - final).abs().max().item())
    assert worst["rope_sin_cos"] < 1e-5 and worst["cls_rows"] < 1e-4 and worst["final"] < 1e-3, worst
    return worst


def make_dinov3(dinov3_path, revision, inputs):
    sys.path.insert(0, os.path.abspath(dinov3_path))
    from dinov3.hub import backbones
    from dinov3.models.vision_transformer import DinoVisionTransformer

    cases = [
        # The hub's ViT-S/16 (ffn "mlp", ffn_ratio 4), narrower: ffn_ratio 1.
        ("dinov3_hub", backbones.dinov3_vits16, dict(ffn_ratio=1.0)),
        # The hub's ViT-S+/16 (ffn "swiglu", ffn_ratio 6), narrower: ffn_ratio 1, so that the
        # SwiGLU hidden size int(128 * 2 / 3) = 85 is rounded up to a multiple of 8: 88.
        ("dinov3_hub_swiglu", backbones.dinov3_vits16plus, dict(ffn_ratio=1.0)),
    ]
    entries = []
    for seed, (name, hub_function, extra) in enumerate(cases, start=1):
        hub_kwargs = hub_arguments(hub_function)
        kwargs = dict(hub_kwargs, embed_dim=WIDTH, num_heads=HEADS, depth=DEPTH, **extra)
        assert kwargs["n_storage_tokens"] == STORAGE and kwargs["mask_k_bias"] and kwargs["patch_size"] == PATCH
        torch.manual_seed(seed)
        model = DinoVisionTransformer(**kwargs).eval()
        # As the hub does for pretrained=False: rope periods, bias_mask, then random weights.
        model.init_weights()
        randomise(model, seed)
        for block in model.blocks:
            sharpen_qkv(block.attn.qkv, WIDTH, 1.6)
        state = model.state_dict()
        path = os.path.join(OUT, name + ".pth")
        torch.save(state, path)

        # The saved file, loaded back as the hub would, into a fresh model, is what the
        # references come from.
        torch.manual_seed(seed)
        loaded_model = DinoVisionTransformer(**kwargs).eval()
        loaded = torch.load(path, map_location="cpu", weights_only=True)
        loaded_model.load_state_dict(loaded, strict=True)
        for k, v in state.items():
            assert torch.equal(v, loaded_model.state_dict()[k]), k
        model = loaded_model

        reference, grids, rope_error, effects = {}, {}, 0.0, None
        for tag, height, width, input_name, _ in SIZES:
            x = photo_input(inputs, input_name, IMAGENET_MEAN, IMAGENET_STD)
            rows, final, calls = capture_dinov3(model, x)
            h, w = height // PATCH, width // PATCH
            assert len(rows) == DEPTH and len(calls) == DEPTH, (len(rows), len(calls))
            assert final.shape[0] == PREFIX + h * w, final.shape
            rope_error = max(rope_error, check_rope(model, calls, h, w))
            if tag == "odd":
                effects = rope_effects(model, calls[0], h, w)
            check_structure(name, tag, rows)
            reference.update(reference_entries(tag, rows, final))
            grids[tag] = [height, width, h, w]
        for k, v in effects.items():
            assert v > 1e-3, (name, k, v)
        metadata = reference_metadata(IMAGENET_MEAN, IMAGENET_STD, HEADS, PREFIX)
        save_reference(name, reference, metadata)
        equivalence = hf_equivalence(model, kwargs, inputs)

        swiglu = kwargs["ffn_layer"] == "swiglu"
        hidden = state["blocks.0.mlp.w1.weight"].shape[0] if swiglu else state["blocks.0.mlp.fc1.weight"].shape[0]
        mask = state["blocks.0.attn.qkv.bias_mask"]
        entries.append({
            "name": name,
            "file": name + ".pth",
            "reference": name + ".reference.safetensors",
            "library": "dinov3 (facebookresearch/dinov3 %s), torch %s" % (revision, torch.__version__),
            "class": "dinov3.models.vision_transformer.DinoVisionTransformer",
            "hub_function": "dinov3.hub.backbones." + hub_function.__name__,
            "hub_constructor": hub_kwargs,
            "constructor": kwargs,
            "built_as": ("DinoVisionTransformer(**hub_constructor, embed_dim=128, num_heads=2, depth=2, ffn_ratio=1.0)"
                         ".init_weights(), then random weights (buffers kept)"),
            "saved_as": "torch.save(model.state_dict())",
            "loaded_as": "DinoVisionTransformer(**constructor).load_state_dict(torch.load(file, weights_only=True), strict=True)",
            "heads": HEADS, "width": WIDTH, "depth": DEPTH, "head_dim": WIDTH // HEADS,
            "mlp_hidden": hidden, "registers": STORAGE, "patch": PATCH, "pos_grid": None,
            "layer_norm_eps": model.norm.eps,
            "norm": ("norm_layer='layernormbf16' = partial(nn.LayerNorm, eps=1e-5): a plain float32 nn.LayerNorm "
                     "with weight and bias (the name does not change its dtype)"),
            "layer_scale": True, "layer_scale_names": "blocks.<i>.ls1.gamma, blocks.<i>.ls2.gamma [width]",
            "ffn": ("swiglu: w1, w2 [hidden, width], w3 [width, hidden], all with bias; w3(silu(w1 x) * w2 x); "
                    "hidden = d + (-d % 8), d = int(int(width * ffn_ratio) * 2 / 3)" if swiglu
                    else "mlp gelu: fc2(gelu(fc1 x)), fc1 [int(width * ffn_ratio), width]"),
            "qkv_bias_mask": ("blocks.<i>.attn.qkv.bias_mask [3 * width] float32 buffer (saved): 1 for the q rows "
                              "[0, width), 0 for the k rows [width, 2 width), 1 for the v rows [2 width, 3 width); "
                              "the qkv Linear uses bias * bias_mask, so the stored k bias (random here) is unused"),
            "qkv_bias_mask_values": {"q": sorted(set(mask[:WIDTH].tolist())), "k": sorted(set(mask[WIDTH:2 * WIDTH].tolist())),
                                     "v": sorted(set(mask[2 * WIDTH:].tolist()))},
            "token_order": ["cls", "storage tokens x%d" % STORAGE, "patches (row-major)"],
            "tokens": ("cls_token [1, 1, width] + 0 * mask_token, storage_tokens [1, 4, width], then the patch "
                       "embeddings (patch_embed.proj conv, no position table is added)"),
            "positions": "2-D axial RoPE on q and k of the patch tokens in every block (see rope)",
            "rope": {
                "periods": ("rope_embed.periods [head_dim / 4] float32 buffer, saved in the state dict: "
                            "base ** (2 * arange(head_dim / 4) / (head_dim / 2)) = base ** (4 i / head_dim), base = %r"
                            % kwargs["pos_embed_rope_base"]),
                "periods_values": model.rope_embed.periods.tolist(),
                "dtype": "float32 (pos_embed_rope_dtype='fp32' as the hub sets it; DinoVisionTransformer's own "
                         "default would be 'bf16')",
                "coords": ("normalize_coords='separate': y_r = (r + 0.5) / h, x_c = (c + 0.5) / w, then 2 * coord - 1 "
                           "(range (-1, 1)); patch t = r * w + c (meshgrid indexing='ij', row-major)"),
                "angles": ("angles = 2 * pi * coords[:, :, None] / periods[None, None, :] -> [h*w, 2, head_dim/4] -> "
                           "flatten -> [h*w, head_dim/2] = [y / periods, x / periods] -> tile(2) -> [h*w, head_dim]"),
                "sin_cos": "sin = sin(angles), cos = cos(angles): [h*w, head_dim] float32, the same for every head",
                "apply": ("rope_apply(x, sin, cos) = x * cos + rotate_half(x) * sin, rotate_half([a, b]) = [-b, a] "
                          "with a, b the two halves of head_dim (half-half, not interleaved pairs)"),
                "tokens": "patch tokens only: the first N - h*w tokens ([CLS] + 4 storage) are not rotated",
                "order": ("qkv = qkv(x) (masked bias) -> q, k, v [B, heads, N, head_dim] -> rope on q and k (computed "
                          "in the rope dtype, cast back) -> scaled_dot_product_attention (scale 1/sqrt(head_dim))"),
                "training_only": ("pos_embed_rope_shift_coords=%r, pos_embed_rope_jitter_coords=%r, "
                                  "pos_embed_rope_rescale_coords=%r act only when rope_embed.training; off in eval"
                                  % (kwargs["pos_embed_rope_shift_coords"], kwargs["pos_embed_rope_jitter_coords"],
                                     kwargs["pos_embed_rope_rescale_coords"])),
                "recomputed_per_block": "rope_embed(H=h, W=w) is called again before every block (same values)",
                "formula_vs_library_max_abs": rope_error,
            },
            "rope_effects_odd_block0": effects,
            "hf_equivalence_max_abs": equivalence,
            "mean": IMAGENET_MEAN, "std": IMAGENET_STD,
            "reference_metadata": metadata,
            "interpolation": None,
            "inputs": grids,
            "classifier": None,
            "keys": shapes(state),
        })
    return entries


# ---------------------------------------------------------------- transformers ----

def make_hf(inputs):
    from transformers import DINOv3ViTConfig, DINOv3ViTImageProcessor, DINOv3ViTModel
    entries = []
    name = "hf_dinov3"
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    # As transformers' converted facebook/dinov3-vits16-pretrain-lvd1689m (4 registers, no k bias,
    # LayerScale, eps 1e-5, rope_theta 100), narrower.
    config_args = dict(hidden_size=WIDTH, num_attention_heads=HEADS, num_hidden_layers=DEPTH, intermediate_size=WIDTH,
                       patch_size=PATCH, image_size=224, num_register_tokens=STORAGE, key_bias=False, query_bias=True,
                       value_bias=True, proj_bias=True, mlp_bias=True, layerscale_value=1.0, layer_norm_eps=1e-5,
                       rope_theta=100.0, use_gated_mlp=False, hidden_act="gelu")
    seed = 3
    torch.manual_seed(seed)
    model = DINOv3ViTModel(DINOv3ViTConfig(**config_args)).eval()
    randomise(model, seed)
    for layer in model.model.layer:
        sharpen_linear(layer.attention.q_proj, 1.6)
        sharpen_linear(layer.attention.k_proj, 1.6)
    model.save_pretrained(directory)
    processor = DINOv3ViTImageProcessor()
    assert list(processor.image_mean) == IMAGENET_MEAN and list(processor.image_std) == IMAGENET_STD
    processor.save_pretrained(directory)
    loaded = DINOv3ViTModel.from_pretrained(directory, attn_implementation="eager").eval()
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    reference, grids = {}, {}
    for tag, height, width, input_name, _ in SIZES:
        x = photo_input(inputs, input_name, processor.image_mean, processor.image_std)
        with torch.no_grad():
            out = loaded(pixel_values=x, output_attentions=True)
        rows = [a[0, :, 0, :].clone() for a in out.attentions]
        final = out.last_hidden_state[0].clone()
        h, w = height // PATCH, width // PATCH
        assert len(rows) == DEPTH and final.shape[0] == PREFIX + h * w, final.shape
        check_structure(name, tag, rows)
        reference.update(reference_entries(tag, rows, final))
        grids[tag] = [height, width, h, w]
    metadata = reference_metadata(processor.image_mean, processor.image_std, HEADS, PREFIX)
    save_reference(name, reference, metadata)
    inv_freq = loaded.rope_embeddings.inv_freq
    with open(os.path.join(directory, "config.json")) as f:
        saved_config = json.load(f)
    entries.append({
        "name": name, "file": name + "/", "reference": name + ".reference.safetensors",
        "library": "transformers %s, torch %s" % (transformers.__version__, torch.__version__),
        "class": "transformers.DINOv3ViTModel", "constructor": config_args,
        "saved_as": "model.save_pretrained(dir) + DINOv3ViTImageProcessor().save_pretrained(dir)",
        "loaded_as": "DINOv3ViTModel.from_pretrained(dir, attn_implementation='eager'), output_attentions=True",
        "heads": HEADS, "width": WIDTH, "depth": DEPTH, "head_dim": WIDTH // HEADS, "mlp_hidden": WIDTH,
        "registers": STORAGE, "patch": PATCH, "pos_grid": None,
        "layer_norm_eps": model.config.layer_norm_eps, "layer_scale": True,
        "layer_scale_names": "model.layer.<i>.layer_scale1.lambda1, model.layer.<i>.layer_scale2.lambda1 [width]",
        "ffn": "mlp gelu: down_proj(gelu(up_proj x)) (use_gated_mlp=True would be down_proj(act(gate_proj x) * up_proj x))",
        "qkv": "separate q_proj, k_proj (no bias: key_bias=False), v_proj; o_proj",
        "token_order": ["cls", "registers x%d" % STORAGE, "patches (row-major)"],
        "positions": "2-D axial RoPE on q and k of the patch tokens in every layer, as DINOv3's (see rope)",
        "rope": {
            "inv_freq": ("rope_embeddings.inv_freq [head_dim / 4] float32, NOT saved (persistent=False): "
                         "1 / rope_theta ** arange(0, 1, 4 / head_dim) = 1 / periods"),
            "inv_freq_values": inv_freq.tolist(),
            "coords": "get_patches_center_coordinates: (arange(0.5, n) / n) * 2 - 1 per axis, float32, meshgrid 'ij'",
            "angles": "2 * pi * coords[:, :, None] * inv_freq[None, None, :] -> flatten -> tile(2): [h*w, head_dim]",
            "returns": "(cos, sin) in the pixel_values dtype (DINOv3's rope_embed returns (sin, cos))",
            "apply": "apply_rotary_pos_emb: q * cos + rotate_half(q) * sin on the last h*w tokens only (half-half)",
            "training_only": "pos_embed_shift/jitter/rescale (rescale 2.0 by default) only when module.training",
        },
        "mean": list(processor.image_mean), "std": list(processor.image_std),
        "processor": {"class": "DINOv3ViTImageProcessor", "resample": "bilinear", "size": dict(processor.size)},
        "reference_metadata": metadata,
        "interpolation": None,
        "inputs": grids,
        "classifier": None,
        "config_json": saved_config,
        "keys": hf_keys(directory),
    })
    return entries


def hf_keys(directory):
    """Names and shapes of the tensors in every .safetensors file of a folder, as saved."""
    keys = {}
    for f in sorted(os.listdir(directory)):
        if f.endswith(".safetensors"):
            with safetensors.safe_open(os.path.join(directory, f), "pt") as sf:
                keys.update({k: sf.get_slice(k).get_shape() for k in sf.keys()})
    return {k: list(keys[k]) for k in sorted(keys)}


# ------------------------------------------------------------------------ main ----

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dinov3", required=True, help="a checkout of facebookresearch/dinov3")
    parser.add_argument("--dinov3-revision", default="unknown revision", help="its commit, recorded in the manifest")
    args = parser.parse_args()

    # Everything under OUT is this script's: start from an empty folder so nothing stale remains.
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    inputs = make_inputs()
    entries = make_dinov3(args.dinov3, args.dinov3_revision, inputs) + make_hf(inputs)
    for entry in entries:
        paths = [os.path.join(OUT, entry["file"].rstrip("/")), os.path.join(OUT, entry["reference"])]
        entry["bytes"] = sum(file_size(p) for p in paths)
        entry["reference_tensors"] = shapes(load_file(os.path.join(OUT, entry["reference"])))
        with safetensors.safe_open(os.path.join(OUT, entry["reference"]), "pt") as sf:
            assert sf.metadata() == entry["reference_metadata"], (entry["name"], sf.metadata())
    manifest = {
        "photo": "Samples/images/" + PHOTO,
        "preprocessing": ("PIL Image.resize((W, H), Image.BICUBIC) of the RGB photo to exactly H x W, stored as uint8 "
                          "[H, W, 3]; the models are fed (x / 255 - mean) / std in float32, [1, 3, H, W], computed "
                          "from exactly those bytes, ImageNet mean and std (the DINOv3 hub's transform)"),
        "inputs": "square 224x224 (14x14 patches); wide 224x320 (14x20); odd 208x272 (13x17)",
        "inputs_file": {name: where for _, _, _, name, where in SIZES},
        "inputs_tensors": {k: {"dtype": "uint8", "shape": list(v.shape)} for k, v in sorted(inputs.items())},
        "reference_keys": "T.block<i>.cls [heads, tokens] (T = square, wide, odd); square.final [tokens, width]",
        "reference_metadata": ("safetensors __metadata__ (strings): input_square, input_wide, input_odd (names of the "
                               "inputs: square.p16 and wide.p16 in ../layouts/inputs.safetensors, odd.p16 in "
                               "inputs.safetensors), mean, std (comma-separated decimals), heads, "
                               "prefix_tokens ([CLS] + 4 storage tokens)"),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "safetensors": safetensors.__version__, "dinov3": args.dinov3_revision},
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
    print("%10d  total, DINOv3 fixtures written under Tests/Fixtures/dinov3" % total)


if __name__ == "__main__":
    main()

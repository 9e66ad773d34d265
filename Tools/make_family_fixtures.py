#!/usr/bin/env python3
"""Checkpoints of more model families in their libraries' own layouts, with reference outputs,
written under Tests/Fixtures/families.

Small random-initialised models are built with the real libraries (OpenCLIP, Hugging Face
transformers, timm, torchvision), saved in each library's own on-disk format, loaded back through
that library, and run by it on the sample photo of Tests/Fixtures/layouts/inputs.safetensors
(read, never written here): `square.p16` (224x224) and `wide.p16` (224x320), uint8 [H, W, 3].
Every model is fed (x / 255 - mean) / std in float32, computed from exactly those bytes.

The fixtures:

- openclip_vit/                   OpenCLIP open_clip.model.CLIP in a hub folder:
                                  open_clip_config.json + open_clip_pytorch_model.bin (plain GELU)
- openai_clip_quickgelu.pt        the OpenAI state-dict layout (QuickGELU, no config, float16
                                  conv/linear weights as OpenAI's files carry them)
- hf_clip_vision/                 transformers CLIPVisionModel (quick_gelu) + CLIPImageProcessor
- timm_siglip_map.safetensors     timm ViT without [CLS], pooled by AttentionPoolLatent ('map');
  timm_siglip_map/                the same weights in timm's hub folder (config.json + model.safetensors)
- timm_convnext.safetensors       timm ConvNeXt, depths (1, 1, 2, 1), dims (16, 32, 48, 64)
- torchvision_convnext.pth        torchvision ConvNeXt of the same sizes

`<name>.reference.safetensors` holds, with T = square or wide,

    ViTs with [CLS] (openclip_vit, openai_clip_quickgelu, hf_clip_vision):
      T.block<i>.cls        [heads, tokens]  the [CLS] query's attention row of every head of block i
      square.final          [tokens, width]  every token after the final norm (ln_post / post_layernorm)
      T.pooled              [dim]            OpenCLIP: ln_post(x[:, 0]) @ proj; transformers: pooler_output
    timm_siglip_map (no [CLS]):
      T.block<i>.row0       [heads, tokens]  the first patch token's attention row of every head
      T.attn_pool.attention [heads, patches] the latent query's attention over the patch tokens
      T.attn_pool.pooled    [width]          the output of attn_pool (= forward_head(pre_logits=True))
      square.final          [tokens, width]  the normed tokens entering attn_pool
    ConvNeXt:
      T.stage<i>            [H*W, C]         the output of stage i's last block, channels last,
                                             pixels row-major (before the next stage's downsample)
      T.logits              [classes]

and, as safetensors metadata (strings): `input_square`, `input_wide` (names in inputs.safetensors),
`mean`, `std` (comma-separated decimals), and for the ViTs `heads` and `prefix_tokens`.
manifest.json describes every file (library versions, constructor arguments, state-dict names and
shapes, token order, mean/std, the position interpolation applied to each wide reference, the
attention-pool computation, the ConvNeXt stage boundaries).

Position interpolation of the wide references (pos grid 14 x 14, wide grid h x w = 14 x 20):

- transformers 5.23.0 CLIPVisionEmbeddings.interpolate_pos_encoding (interpolate_pos_encoding=True):
      nn.functional.interpolate(grid[1, C, 14, 14], size=(h, w), mode="bicubic", align_corners=False)
  no antialias, no float32 cast; the [CLS] row kept as it is.
- OpenCLIP has no interpolation of its own at run time: the wide references of openclip_vit and
  openai_clip_quickgelu are computed by resampling visual.positional_embedding with exactly
  transformers' CLIPVisionEmbeddings.interpolate_pos_encoding (the module itself is called, on a
  copy of the table) and running the open_clip model with that table in place.
- timm 1.0.31 resample_abs_pos_embed (dynamic_img_size=True), no prefix rows (no [CLS]):
      F.interpolate(grid.float(), size=(h, w), mode="bicubic", align_corners=None, antialias=True)
- ConvNeXt: fully convolutional, nothing to interpolate.

    python3 Tools/make_family_fixtures.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import ROOT, ensure_venv  # noqa: E402

ensure_venv()

import copy  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402

import numpy as np  # noqa: E402
import open_clip  # noqa: E402
import safetensors  # noqa: E402
import timm  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from make_layout_fixtures import decimals, file_size, input_name, shapes, sort_metadata  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Fixtures", "families")
INPUTS = os.path.join(ROOT, "Tests", "Fixtures", "layouts", "inputs.safetensors")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CLIP_MEAN = [float(v) for v in open_clip.constants.OPENAI_DATASET_MEAN]
CLIP_STD = [float(v) for v in open_clip.constants.OPENAI_DATASET_STD]
# Every attention row kept must peak at this many times its mean, so that a wrong layout (heads,
# token order, positions) shows up in the maps.
STRUCTURE = 3.0
PATCH = 16
SIZES = [("square", 224, 224), ("wide", 224, 320)]
HF_CLIP_RULE = ("transformers %s CLIPVisionEmbeddings.interpolate_pos_encoding: nn.functional.interpolate("
                "grid[1, C, 14, 14], size=(h, w), mode='bicubic', align_corners=False) (no antialias, no float32 "
                "cast); [CLS] row kept" % transformers.__version__)


# --------------------------------------------------------------------- helpers ----

def load_inputs():
    inputs = load_file(INPUTS)
    for tag, height, width in SIZES:
        v = inputs[input_name(tag, PATCH)]
        assert v.dtype == torch.uint8 and tuple(v.shape) == (height, width, 3), (tag, v.dtype, v.shape)
    return inputs


def photo_input(inputs, tag, mean, std):
    """(x / 255 - mean) / std in float32, [1, 3, H, W], from the stored bytes."""
    rgb = inputs[input_name(tag, PATCH)].numpy().astype(np.float32) / np.float32(255)
    x = (rgb - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    assert x.dtype == np.float32
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def reference_metadata(mean, std, heads=None, prefix_tokens=None, wide=True):
    metadata = {"input_square": input_name("square", PATCH), "mean": decimals(mean), "std": decimals(std)}
    if wide:
        metadata["input_wide"] = input_name("wide", PATCH)
    if heads is not None:
        metadata["heads"] = str(heads)
        metadata["prefix_tokens"] = str(prefix_tokens)
    return metadata


def save_reference(name, reference, metadata):
    """Writes <name>.reference.safetensors with sorted metadata and checks that both read back."""
    reference = {k: v.detach().to(torch.float32).contiguous() for k, v in reference.items()}
    path = os.path.join(OUT, name + ".reference.safetensors")
    save_file(reference, path, metadata=metadata)
    sort_metadata(path)
    with safetensors.safe_open(path, "pt") as sf:
        assert sf.metadata() == metadata, sf.metadata()
    reloaded = load_file(path)
    assert sorted(reloaded) == sorted(reference)
    for k, v in reference.items():
        assert torch.equal(reloaded[k], v), k
    if "heads" in metadata:
        heads = int(metadata["heads"])
        for k, v in reloaded.items():
            if k.endswith((".cls", ".row0", ".attention")):
                assert v.shape[0] == heads, (name, k, v.shape)
    return path


def is_layer_scale(module, name):
    if type(module).__name__ in ("LayerScale",):
        return True
    # timm ConvNeXtBlock.gamma [C], torchvision CNBlock.layer_scale [C, 1, 1]
    return (type(module).__name__ == "ConvNeXtBlock" and name == "gamma") or \
           (type(module).__name__ == "CNBlock" and name == "layer_scale")


def randomise(model, seed, keep=()):
    """Random weights with a spread that makes every parameter matter: linear and conv weights
    (nn.MultiheadAttention's in_proj_weight too) randn / sqrt(fan_in), biases 0.1 randn, norm
    weights 1 + 0.1 randn, LayerScale uniform in [0.25, 1.25), the right-multiplied projection
    matrices of OpenCLIP (x @ proj) randn / sqrt(rows), tokens and position embeddings 0.5 randn.
    Parameters named in `keep` keep the library's initial value."""
    g = torch.Generator().manual_seed(seed)

    def randn(shape):
        return torch.randn(shape, generator=g)

    with torch.no_grad():
        for module_name, module in model.named_modules():
            for name, p in module.named_parameters(recurse=False):
                full = (module_name + "." if module_name else "") + name
                if full in keep:
                    continue
                if isinstance(module, nn.LayerNorm):
                    p.copy_(1 + 0.1 * randn(p.shape) if name == "weight" else 0.1 * randn(p.shape))
                elif isinstance(module, (nn.Linear, nn.Conv2d)):
                    p.copy_(randn(p.shape) / math.sqrt(p[0].numel()) if name == "weight" else 0.1 * randn(p.shape))
                elif isinstance(module, nn.MultiheadAttention):
                    assert name in ("in_proj_weight", "in_proj_bias"), name
                    p.copy_(randn(p.shape) / math.sqrt(p.shape[1]) if name == "in_proj_weight" else 0.1 * randn(p.shape))
                elif is_layer_scale(module, name):
                    p.copy_(0.25 + torch.rand(p.shape, generator=g))
                elif name in ("proj", "text_projection") and p.ndim == 2:
                    p.copy_(randn(p.shape) / math.sqrt(p.shape[0]))
                else:
                    p.copy_(0.5 * randn(p.shape))


def scale_rows(weight, bias, rows, gain):
    with torch.no_grad():
        weight[rows] *= gain
        if bias is not None:
            bias[rows] *= gain


def check_structure(name, tag, label, rows):
    """Every kept attention row must sum to 1 and peak at least STRUCTURE times its mean."""
    ratio = (rows.max(dim=-1).values / rows.mean(dim=-1)).min().item()
    sums = rows.sum(dim=-1)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5), (name, tag, label, sums)
    assert ratio >= STRUCTURE, "%s %s %s: peak only %.2f x mean" % (name, tag, label, ratio)
    print("  %-22s %-6s %-18s tokens %4d  min peak/mean %6.1f  max prob %.3f"
          % (name, tag, label, rows.shape[-1], ratio, rows.max().item()))


def typed_shapes(state):
    """Names, shapes and dtypes: {name: [shape, dtype]} for tensors, {name: value} for other entries."""
    out = {}
    for k in sorted(state):
        v = state[k]
        out[k] = [list(v.shape), str(v.dtype).replace("torch.", "")] if isinstance(v, torch.Tensor) else v
    return out


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# -------------------------------------------------------------------- OpenCLIP ----

def openclip_capture(clip, x):
    """[CLS] attention rows of every resblock, every token after ln_post, and the image embedding.

    nn.MultiheadAttention is called with need_weights=False, so the probabilities never exist; a
    pre-hook on each block's `attn` recomputes them from its input with its own in_proj_weight,
    in_proj_bias and num_heads (q, k, v = thirds of in_proj, scale head_dim ** -0.5), and a
    forward hook checks that out_proj(attention @ v) is the module's own output."""
    visual = clip.visual
    rows, hooks, pending, finals = [], [], {}, []

    def pre(module, args):
        t = args[0]
        assert args[1] is t and args[2] is t, "self-attention expected"
        B, N, C = t.shape
        H = module.num_heads
        q, k, v = F.linear(t, module.in_proj_weight, module.in_proj_bias).chunk(3, dim=-1)
        q, k, v = [s.reshape(B, N, H, C // H).transpose(1, 2) for s in (q, k, v)]
        attention = torch.softmax((q @ k.transpose(-2, -1)) * (C // H) ** -0.5, dim=-1)
        pending[module] = (attention, v)

    def post(module, args, output):
        attention, v = pending.pop(module)
        out = output[0]
        B, N, C = out.shape
        mine = module.out_proj((attention @ v).transpose(1, 2).reshape(B, N, C))
        assert torch.allclose(mine, out, rtol=1e-4, atol=1e-5), (mine - out).abs().max()
        rows.append(attention[0, :, 0, :].clone())

    for block in visual.transformer.resblocks:
        hooks.append(block.attn.register_forward_pre_hook(pre))
        hooks.append(block.attn.register_forward_hook(post))
    hooks.append(visual.ln_post.register_forward_hook(lambda m, i, o: finals.append(o[0].detach().clone())))
    with torch.no_grad():
        pooled = clip.encode_image(x)[0].clone()
    for hook in hooks:
        hook.remove()
    assert len(finals) == 1 and len(rows) == len(visual.transformer.resblocks)
    final = finals[0]
    with torch.no_grad():
        mine = final[0] @ visual.proj
    assert torch.allclose(mine, pooled, rtol=1e-5, atol=1e-6), (mine - pooled).abs().max()
    return rows, final, pooled


def hf_clip_resample(table, height, width):
    """A [1 + 14*14, C] OpenCLIP position table resampled for a height x width input by calling
    transformers' own CLIPVisionEmbeddings.interpolate_pos_encoding on a copy of it."""
    from transformers import CLIPVisionConfig
    from transformers.models.clip.modeling_clip import CLIPVisionEmbeddings
    n, dim = table.shape
    M = int(round(math.sqrt(n - 1)))
    embeddings = CLIPVisionEmbeddings(CLIPVisionConfig(hidden_size=dim, num_attention_heads=1, image_size=M * PATCH,
                                                      patch_size=PATCH))
    with torch.no_grad():
        embeddings.position_embedding.weight.copy_(table.detach().float())
        h, w = height // PATCH, width // PATCH
        resampled = embeddings.interpolate_pos_encoding(torch.zeros(1, 1 + h * w, dim), height, width)[0]
        # The same call spelled out, as recorded in the manifest.
        grid = table.detach().float()[1:].reshape(1, M, M, dim).permute(0, 3, 1, 2)
        mine = nn.functional.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        mine = torch.cat([table.detach().float()[:1], mine.permute(0, 2, 3, 1).reshape(h * w, dim)])
    assert torch.equal(resampled, mine), (resampled - mine).abs().max()
    return resampled.clone()


def interpolation_effects(table, height, width):
    """How far the HF rule is from the neighbouring rules (largest absolute difference)."""
    n, dim = table.shape
    M = int(round(math.sqrt(n - 1)))
    h, w = height // PATCH, width // PATCH
    grid = table.detach().float()[1:].reshape(1, M, M, dim).permute(0, 3, 1, 2)
    plain = nn.functional.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
    aa = nn.functional.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False, antialias=True)
    bilinear = nn.functional.interpolate(grid, size=(h, w), mode="bilinear", align_corners=False)
    return {"hf_bicubic_vs_timm_antialias": (plain - aa).abs().max().item(),
            "hf_bicubic_vs_bilinear": (plain - bilinear).abs().max().item()}


def openclip_references(name, clip, inputs, mean, std):
    reference = {}
    for tag, height, width in SIZES:
        x = photo_input(inputs, tag, mean, std)
        if tag == "square":
            rows, final, pooled = openclip_capture(clip, x)
        else:
            visual = clip.visual
            native = visual.positional_embedding
            table = hf_clip_resample(native, height, width).to(native.dtype)
            visual.positional_embedding = nn.Parameter(table, requires_grad=False)
            try:
                rows, final, pooled = openclip_capture(clip, x)
            finally:
                visual.positional_embedding = native
        assert final.shape[0] == 1 + (height // PATCH) * (width // PATCH), final.shape
        for i, row in enumerate(rows):
            assert row.shape[-1] == final.shape[0]
            check_structure(name, tag, "block%d.cls" % i, row)
            reference["%s.block%d.cls" % (tag, i)] = row
        if tag == "square":
            reference["square.final"] = final
        reference[tag + ".pooled"] = pooled
    return reference


def openclip_keys_summary(prefix=""):
    return {
        "stem": ["visual.conv1.weight [width, 3, 16, 16] (no bias)", "visual.class_embedding [width]",
                 "visual.positional_embedding [1 + 14*14, width] (2-D, no batch axis)", "visual.ln_pre.{weight,bias}"],
        "block": ["visual.transformer.resblocks.N.ln_1.{weight,bias}",
                  "visual.transformer.resblocks.N.attn.in_proj_weight [3*width, width] (q rows, then k, then v)",
                  "visual.transformer.resblocks.N.attn.in_proj_bias [3*width]",
                  "visual.transformer.resblocks.N.attn.out_proj.{weight [width, width], bias}",
                  "visual.transformer.resblocks.N.ln_2.{weight,bias}",
                  "visual.transformer.resblocks.N.mlp.c_fc.{weight [mlp, width], bias}",
                  "visual.transformer.resblocks.N.mlp.c_proj.{weight [width, mlp], bias}"],
        "head": ["visual.ln_post.{weight,bias}", "visual.proj [width, embed_dim], used as x @ proj (not transposed)"],
        "text_tower": ["token_embedding.weight", "positional_embedding", "transformer.resblocks.N.*", "ln_final.*",
                       "text_projection", "logit_scale"],
    }


def make_openclip(inputs):
    from open_clip.model import CLIP
    entries = []

    # --- OpenCLIP hub folder, plain GELU.
    name = "openclip_vit"
    directory = os.path.join(OUT, name)
    os.makedirs(directory)
    model_cfg = {
        "embed_dim": 32,
        "quick_gelu": False,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "head_width": 32, "mlp_ratio": 2, "patch_size": 16},
        "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 32, "heads": 2, "layers": 1},
    }
    torch.manual_seed(21)
    model = CLIP(**copy.deepcopy(model_cfg)).eval()
    randomise(model, 21, keep=("logit_scale",))
    for block in model.visual.transformer.resblocks:
        attn = block.attn
        scale_rows(attn.in_proj_weight, attn.in_proj_bias, slice(0, 2 * 64), 1.4)
    assert isinstance(model.visual.transformer.resblocks[0].mlp.gelu, nn.GELU)
    weights = os.path.join(directory, open_clip.constants.HF_WEIGHTS_NAME)
    torch.save(model.state_dict(), weights)
    # What open_clip.push_to_hf_hub.save_config_for_hf writes (json.dump(..., indent=2)).
    hf_config = {"model_cfg": model_cfg, "preprocess_cfg": {"mean": CLIP_MEAN, "std": CLIP_STD}}
    with open(os.path.join(directory, open_clip.constants.HF_CONFIG_NAME), "w") as f:
        json.dump(hf_config, f, indent=2)

    loaded = open_clip.create_model("local-dir:" + directory, precision="fp32", device="cpu").eval()
    assert isinstance(loaded.visual.transformer.resblocks[0].mlp.gelu, nn.GELU)
    assert type(loaded).__name__ == "CLIP", type(loaded)
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    mean, std = [float(v) for v in loaded.visual.image_mean], [float(v) for v in loaded.visual.image_std]
    assert mean == CLIP_MEAN and std == CLIP_STD, (mean, std)
    reference = openclip_references(name, loaded, inputs, mean, std)
    metadata = reference_metadata(mean, std, 2, 1)
    save_reference(name, reference, metadata)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    entries.append({
        "name": name, "file": name + "/", "reference": name + ".reference.safetensors",
        "library": "open_clip_torch %s, torch %s" % (open_clip.__version__, torch.__version__),
        "class": "open_clip.model.CLIP (visual: open_clip.transformer.VisionTransformer)",
        "constructor": model_cfg,
        "saved_as": ("hub folder: torch.save(model.state_dict(), 'open_clip_pytorch_model.bin') + "
                     "'open_clip_config.json' = {'model_cfg': <constructor>, 'preprocess_cfg': {'mean', 'std'}} "
                     "(open_clip.push_to_hf_hub.save_config_for_hf's format); loaded back with "
                     "open_clip.create_model('local-dir:<folder>')"),
        "files": sorted(os.listdir(directory)),
        "config_json": hf_config,
        "heads": 2, "width": 64, "depth": 2, "head_dim": 32, "mlp_hidden": 128, "embed_dim": 32, "patch": 16,
        "pos_grid": 14, "layer_norm_eps": loaded.visual.ln_pre.eps,
        "activation": "nn.GELU (erf, approximate='none'): quick_gelu false in model_cfg",
        "heads_rule": "heads = vision_cfg.width // vision_cfg.head_width (64 // 32 = 2)",
        "token_order": ["cls", "patches (row-major)"],
        "positions": ("visual.positional_embedding [1 + 14*14, C] added to [CLS] + patches, then ln_pre; "
                      "blocks x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)); ln_post on every token"),
        "mean": mean, "std": std,
        "reference_metadata": metadata,
        "interpolation": ("square: none (native 224). wide: open_clip does not resample at run time; the table was "
                          "resampled by calling transformers' CLIPVisionEmbeddings.interpolate_pos_encoding: " + HF_CLIP_RULE +
                          "; the open_clip model was then run with that [1 + 14*20, C] table in place"),
        "interpolation_effects_wide": interpolation_effects(loaded.visual.positional_embedding, 224, 320),
        "inputs": {t: [h, w, h // 16, w // 16] for t, h, w in SIZES},
        "pooling": ("pool_type 'tok': pooled = ln_post(x)[:, 0] @ visual.proj (ln_post on all tokens, then [CLS]); "
                    "T.pooled is encode_image(x) (not L2-normalised)"),
        "final": "square.final = ln_post(x) over every token ([CLS] first); square.final[0] @ visual.proj == square.pooled",
        "keys_summary": openclip_keys_summary(),
        "keys": typed_shapes(state),
    })

    # --- OpenAI state-dict layout, QuickGELU. OpenAI's own builders (openai/CLIP build_model and
    # open_clip's build_model_from_openai_state_dict) infer heads = width // 64 for both towers
    # and mlp_ratio 4, so the file keeps those: vision width 128 (2 heads of 64), text width 64.
    name = "openai_clip_quickgelu"
    path = os.path.join(OUT, name + ".pt")
    openai_cfg = {
        "embed_dim": 32,
        "quick_gelu": True,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 128, "head_width": 64, "mlp_ratio": 4, "patch_size": 16},
        "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 64, "heads": 1, "layers": 1},
    }
    torch.manual_seed(22)
    model = CLIP(**copy.deepcopy(openai_cfg)).eval()
    randomise(model, 22, keep=("logit_scale",))
    for block in model.visual.transformer.resblocks:
        attn = block.attn
        scale_rows(attn.in_proj_weight, attn.in_proj_bias, slice(0, 2 * 128), 1.4)
    assert isinstance(model.visual.transformer.resblocks[0].mlp.gelu, open_clip.transformer.QuickGELU)
    # OpenAI's checkpoints hold conv, linear, attention and projection weights in float16
    # (openai/CLIP convert_weights; open_clip's convert_weights_to_lp is the same split), the
    # rest in float32, plus three integers at top level.
    open_clip.model.convert_weights_to_lp(model, torch.float16)
    state = dict(model.state_dict())
    state["input_resolution"] = torch.tensor(224)
    state["context_length"] = torch.tensor(openai_cfg["text_cfg"]["context_length"])
    state["vocab_size"] = torch.tensor(openai_cfg["text_cfg"]["vocab_size"])
    torch.save(state, path)

    loaded = open_clip.load_openai_model(path, precision="fp32", device="cpu").eval()
    assert isinstance(loaded.visual.transformer.resblocks[0].mlp.gelu, open_clip.transformer.QuickGELU)
    assert loaded.visual.transformer.resblocks[0].attn.num_heads == 2
    assert loaded.transformer.resblocks[0].attn.num_heads == 1
    saved = torch.load(path, map_location="cpu", weights_only=True)
    for k, v in model.state_dict().items():
        assert saved[k].dtype == v.dtype and torch.equal(saved[k], v), k
        assert torch.equal(v.float(), loaded.state_dict()[k]), k
    mean, std = [float(v) for v in loaded.visual.image_mean], [float(v) for v in loaded.visual.image_std]
    assert mean == CLIP_MEAN and std == CLIP_STD, (mean, std)
    reference = openclip_references(name, loaded, inputs, mean, std)
    # How much QuickGELU matters here: the pooled square embedding with nn.GELU instead.
    swapped = copy.deepcopy(loaded)
    for block in swapped.visual.transformer.resblocks:
        block.mlp.gelu = nn.GELU()
    with torch.no_grad():
        gelu_pooled = swapped.encode_image(photo_input(inputs, "square", mean, std))[0]
    quick_gelu_effect = (gelu_pooled - reference["square.pooled"]).abs().max().item()
    assert quick_gelu_effect > 1e-2, quick_gelu_effect
    metadata = reference_metadata(mean, std, 2, 1)
    save_reference(name, reference, metadata)
    halves = sorted(k for k, v in saved.items() if v.dtype == torch.float16)
    entries.append({
        "name": name, "file": name + ".pt", "reference": name + ".reference.safetensors",
        "library": "open_clip_torch %s, torch %s" % (open_clip.__version__, torch.__version__),
        "class": "open_clip.model.CLIP, saved in the OpenAI state-dict layout",
        "constructor": openai_cfg,
        "saved_as": ("torch.save(state_dict) after open_clip.model.convert_weights_to_lp(model, torch.float16), with "
                     "the top-level entries input_resolution, context_length, vocab_size (0-dim int64 tensors); no "
                     "config. Loaded back with open_clip.load_openai_model(path, precision='fp32') "
                     "(build_model_from_openai_state_dict: quick_gelu=True, heads = width // 64, mlp_ratio 4, "
                     "image_size = patch * sqrt(positions - 1); it deletes the three integer entries)"),
        "top_level_integers": {k: int(saved[k]) for k in ("input_resolution", "context_length", "vocab_size")},
        "float16_keys": halves,
        "heads": 2, "width": 128, "depth": 2, "head_dim": 64, "mlp_hidden": 512, "embed_dim": 32, "patch": 16,
        "pos_grid": 14, "layer_norm_eps": loaded.visual.ln_pre.eps,
        "activation": "QuickGELU x * sigmoid(1.702 x) (OpenAI files always: build_model_from_openai_state_dict quick_gelu=True)",
        "heads_rule": "heads = width // 64 (OpenAI's rule; no config): vision 128 // 64 = 2, text 64 // 64 = 1",
        "quick_gelu_effect_square_pooled": quick_gelu_effect,
        "token_order": ["cls", "patches (row-major)"],
        "positions": ("visual.positional_embedding [1 + 14*14, C] added to [CLS] + patches, then ln_pre; "
                      "blocks x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)); ln_post on every token"),
        "mean": mean, "std": std,
        "reference_metadata": metadata,
        "interpolation": ("square: none (native 224). wide: open_clip does not resample at run time; the table was "
                          "resampled by calling transformers' CLIPVisionEmbeddings.interpolate_pos_encoding: " + HF_CLIP_RULE +
                          "; the open_clip model was then run with that [1 + 14*20, C] table in place"),
        "interpolation_effects_wide": interpolation_effects(loaded.visual.positional_embedding, 224, 320),
        "inputs": {t: [h, w, h // 16, w // 16] for t, h, w in SIZES},
        "pooling": "pool_type 'tok': pooled = ln_post(x)[:, 0] @ visual.proj; T.pooled is encode_image(x) (not L2-normalised)",
        "final": "square.final = ln_post(x) over every token ([CLS] first); square.final[0] @ visual.proj == square.pooled",
        "keys_summary": openclip_keys_summary(),
        "keys": typed_shapes(saved),
    })
    return entries


# ---------------------------------------------------------------- transformers ----

def hf_keys(directory):
    keys = {}
    for f in sorted(os.listdir(directory)):
        if f.endswith(".safetensors"):
            with safetensors.safe_open(os.path.join(directory, f), "pt") as sf:
                keys.update({k: sf.get_slice(k).get_shape() for k in sf.keys()})
    return {k: list(keys[k]) for k in sorted(keys)}


def hf_clip_capture(model, x, **kwargs):
    """The library's own eager attention probabilities ([CLS] rows), checked against a
    recomputation from each layer's q_proj / k_proj; every token after post_layernorm; pooler_output."""
    recomputed, hooks = [], []

    def pre(module, args, kwargs_):
        t = kwargs_["hidden_states"] if "hidden_states" in kwargs_ else args[0]
        B, N, C = t.shape
        H, D = module.num_heads, module.head_dim
        q = module.q_proj(t).reshape(B, N, H, D).transpose(1, 2)
        k = module.k_proj(t).reshape(B, N, H, D).transpose(1, 2)
        recomputed.append(torch.softmax((q @ k.transpose(-2, -1)) * module.scale, dim=-1))

    for layer in model.encoder.layers:
        hooks.append(layer.self_attn.register_forward_pre_hook(pre, with_kwargs=True))
    with torch.no_grad():
        out = model(pixel_values=x, output_attentions=True, **kwargs)
        final = model.post_layernorm(out.last_hidden_state)[0].clone()
    for hook in hooks:
        hook.remove()
    assert len(out.attentions) == len(recomputed) == len(model.encoder.layers)
    for mine, theirs in zip(recomputed, out.attentions):
        assert torch.allclose(mine, theirs, rtol=1e-4, atol=1e-6), (mine - theirs).abs().max()
    pooled = out.pooler_output[0].clone()
    assert torch.allclose(final[0], pooled, rtol=1e-5, atol=1e-6), (final[0] - pooled).abs().max()
    return [a[0, :, 0, :].clone() for a in out.attentions], final, pooled


def make_hf(inputs):
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel
    name = "hf_clip_vision"
    directory = os.path.join(OUT, name)
    config_args = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                       image_size=224, patch_size=16, hidden_act="quick_gelu")
    torch.manual_seed(23)
    model = CLIPVisionModel(CLIPVisionConfig(**config_args)).eval()
    randomise(model, 23)
    for layer in model.encoder.layers:
        scale_rows(layer.self_attn.q_proj.weight, layer.self_attn.q_proj.bias, slice(None), 1.2)
        scale_rows(layer.self_attn.k_proj.weight, layer.self_attn.k_proj.bias, slice(None), 1.2)
    model.save_pretrained(directory)
    processor = CLIPImageProcessor(image_mean=CLIP_MEAN, image_std=CLIP_STD)
    processor.save_pretrained(directory)
    loaded = CLIPVisionModel.from_pretrained(directory, attn_implementation="eager").eval()
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    processor = CLIPImageProcessor.from_pretrained(directory)
    mean, std = [float(v) for v in processor.image_mean], [float(v) for v in processor.image_std]
    assert mean == CLIP_MEAN and std == CLIP_STD, (mean, std)
    reference = {}
    for tag, height, width in SIZES:
        x = photo_input(inputs, tag, mean, std)
        rows, final, pooled = hf_clip_capture(loaded, x, interpolate_pos_encoding=(tag == "wide"))
        assert final.shape[0] == 1 + (height // PATCH) * (width // PATCH), final.shape
        for i, row in enumerate(rows):
            check_structure(name, tag, "block%d.cls" % i, row)
            reference["%s.block%d.cls" % (tag, i)] = row
        if tag == "square":
            reference["square.final"] = final
        reference[tag + ".pooled"] = pooled
    metadata = reference_metadata(mean, std, 2, 1)
    save_reference(name, reference, metadata)
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    return [{
        "name": name, "file": name + "/", "reference": name + ".reference.safetensors",
        "library": "transformers %s, torch %s" % (transformers.__version__, torch.__version__),
        "class": "transformers.CLIPVisionModel", "constructor": config_args,
        "saved_as": ("model.save_pretrained(dir) (config.json + model.safetensors) + "
                     "CLIPImageProcessor(image_mean=OPENAI_CLIP_MEAN, image_std=OPENAI_CLIP_STD).save_pretrained(dir) "
                     "(preprocessor_config.json); loaded back with from_pretrained(dir, attn_implementation='eager')"),
        "files": sorted(os.listdir(directory)),
        "config_json": config,
        "heads": 2, "width": 64, "depth": 2, "head_dim": 32, "mlp_hidden": 128, "patch": 16, "pos_grid": 14,
        "layer_norm_eps": loaded.config.layer_norm_eps,
        "activation": "quick_gelu (config hidden_act): x * sigmoid(1.702 x)",
        "token_order": ["cls", "patches (row-major)"],
        "positions": ("embeddings.position_embedding.weight [1 + 14*14, C] (an nn.Embedding) added to [CLS] + patches, "
                      "then pre_layrnorm (sic); layers x = x + self_attn(layer_norm1(x)); x = x + mlp(layer_norm2(x)); "
                      "last_hidden_state is NOT normed"),
        "attention": "separate q_proj, k_proj, v_proj, out_proj (weight [out, in] + bias); scale head_dim ** -0.5",
        "mean": mean, "std": std,
        "reference_metadata": metadata,
        "interpolation": "square: none (interpolate_pos_encoding=False). wide: interpolate_pos_encoding=True: " + HF_CLIP_RULE,
        "inputs": {t: [h, w, h // 16, w // 16] for t, h, w in SIZES},
        "pooling": "pooler_output = post_layernorm(last_hidden_state[:, 0]); CLIPVisionModel has no projection",
        "final": ("square.final = post_layernorm applied to every token of last_hidden_state (the model itself applies "
                  "it to [CLS] only); square.final[0] == square.pooled"),
        "keys_note": ("transformers 5.23.0 save_pretrained writes CLIPVisionModel keys WITHOUT the 'vision_model.' prefix "
                      "(embeddings.*, pre_layrnorm.*, encoder.layers.N.*, post_layernorm.*); checkpoints written by "
                      "transformers 4.x and CLIPModel files carry 'vision_model.' (transformers 5 strips it on load: "
                      "conversion_mapping PrefixChange(prefix_to_remove='vision_model'))"),
        "keys": hf_keys(directory),
    }]


# ------------------------------------------------------------------------ timm ----

def timm_vit_capture(model, x):
    """First-token rows of every block, the latent query's attention in attn_pool, the pooled
    vector and the normed tokens entering attn_pool.

    timm's Attention and AttentionPoolLatent call F.scaled_dot_product_attention (fused_attn), so
    the probabilities never exist; pre-hooks recompute them from the modules' inputs with their own
    weights, exactly as their forward splits them, and forward hooks check the modules' outputs."""
    rows, hooks, pending, pool = [], [], {}, {}

    def pre(module, args, kwargs_):
        t = args[0]
        B, N, C = t.shape
        qkv = module.qkv(t).reshape(B, N, 3, module.num_heads, module.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = module.q_norm(q), module.k_norm(k)
        attention = torch.softmax((q * module.scale) @ k.transpose(-2, -1), dim=-1)
        pending[module] = (attention, v)

    def post(module, args, kwargs_, output):
        attention, v = pending.pop(module)
        B, N, C = output.shape
        mine = module.proj(module.norm((attention @ v).transpose(1, 2).reshape(B, N, module.attn_dim)))
        assert torch.allclose(mine, output, rtol=1e-4, atol=1e-5), (mine - output).abs().max()
        rows.append(attention[0, :, 0, :].clone())

    def pool_pre(module, args, kwargs_):
        t = args[0]
        B, N, C = t.shape
        q = module.q(module.latent.expand(B, -1, -1)).reshape(B, module.latent_len, module.num_heads, module.head_dim)
        q = q.transpose(1, 2)
        kv = module.kv(t).reshape(B, N, 2, module.num_heads, module.head_dim).permute(2, 0, 3, 1, 4)
        k, v = kv.unbind(0)
        q, k = module.q_norm(q), module.k_norm(k)
        attention = torch.softmax((q * module.scale) @ k.transpose(-2, -1), dim=-1)
        y = module.proj((attention @ v).transpose(1, 2).reshape(B, module.latent_len, C))
        y = y + module.mlp(module.norm(y))
        pool.update(input=t[0].clone(), attention=attention[0, :, 0, :].clone(), mine=y[:, 0])

    for block in model.blocks:
        hooks.append(block.attn.register_forward_pre_hook(pre, with_kwargs=True))
        hooks.append(block.attn.register_forward_hook(post, with_kwargs=True))
    hooks.append(model.attn_pool.register_forward_pre_hook(pool_pre, with_kwargs=True))
    with torch.no_grad():
        features = model.forward_features(x)
        pooled = model.forward_head(features, pre_logits=True)
        out = model(x)
    for hook in hooks:
        hook.remove()
    # forward_features + forward_head + forward: each ran the blocks / pool; keep the first pass.
    rows = rows[: len(model.blocks)]
    assert torch.allclose(pool["mine"], pooled, rtol=1e-4, atol=1e-5), (pool["mine"] - pooled).abs().max()
    assert torch.equal(out, pooled), "num_classes=0: forward is forward_head(pre_logits=True)"
    assert torch.equal(pool["input"], features[0]), "attn_pool sees the normed tokens (no prefix to drop)"
    return rows, features[0].clone(), pool["attention"], pooled[0].clone()


def make_timm_siglip(inputs):
    from timm.models import save_for_hf
    name = "timm_siglip_map"
    arch = "vit_base_patch16_siglip_224"
    args = dict(depth=2, embed_dim=64, num_heads=2, mlp_ratio=2, num_classes=0)
    torch.manual_seed(24)
    model = timm.create_model(arch, pretrained=False, **args).eval()
    randomise(model, 24)
    for block in model.blocks:
        scale_rows(block.attn.qkv.weight, block.attn.qkv.bias, slice(0, 2 * 64), 1.4)
    pool = model.attn_pool
    scale_rows(pool.q.weight, pool.q.bias, slice(None), 1.6)
    scale_rows(pool.kv.weight, pool.kv.bias, slice(0, 64), 1.6)
    path = os.path.join(OUT, name + ".safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    directory = os.path.join(OUT, name)
    save_for_hf(model, directory, safe_serialization=True)
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    assert all(config["model_args"][k] == v for k, v in args.items()), config["model_args"]
    assert load_file(path).keys() == load_file(os.path.join(directory, "model.safetensors")).keys()
    for k, v in load_file(os.path.join(directory, "model.safetensors")).items():
        assert torch.equal(v, load_file(path)[k]), k
    mean, std = [float(v) for v in config["pretrained_cfg"]["mean"]], [float(v) for v in config["pretrained_cfg"]["std"]]
    assert mean == [0.5] * 3 and std == [0.5] * 3, (mean, std)
    reference = {}
    for tag, height, width in SIZES:
        extra = dict(dynamic_img_size=True) if tag == "wide" else {}
        # timm's own loaders: the loose file through pretrained_cfg_overlay(file=...), the folder
        # through local-dir:.
        loaded = timm.create_model(arch, pretrained=True, pretrained_cfg_overlay=dict(file=path), **args, **extra).eval()
        from_dir = timm.create_model("local-dir:" + directory, pretrained=True, **extra).eval()
        for k, v in model.state_dict().items():
            assert torch.equal(v, loaded.state_dict()[k]), k
            assert torch.equal(v, from_dir.state_dict()[k]), k
        x = photo_input(inputs, tag, mean, std)
        rows, final, attention, pooled = timm_vit_capture(loaded, x)
        patches = (height // PATCH) * (width // PATCH)
        assert final.shape[0] == patches and attention.shape == (2, patches), (final.shape, attention.shape)
        with torch.no_grad():
            assert torch.equal(from_dir(x)[0], pooled)
        for i, row in enumerate(rows):
            check_structure(name, tag, "block%d.row0" % i, row)
            reference["%s.block%d.row0" % (tag, i)] = row
        check_structure(name, tag, "attn_pool.attention", attention)
        reference[tag + ".attn_pool.attention"] = attention
        reference[tag + ".attn_pool.pooled"] = pooled
        if tag == "square":
            reference["square.final"] = final
    metadata = reference_metadata(mean, std, 2, 0)
    save_reference(name, reference, metadata)
    grid = model.pos_embed.detach()[0].reshape(1, 14, 14, 64).permute(0, 3, 1, 2)
    aa = F.interpolate(grid, size=(14, 20), mode="bicubic", align_corners=None, antialias=True)
    plain = F.interpolate(grid, size=(14, 20), mode="bicubic", align_corners=False)
    return [{
        "name": name, "file": name + ".safetensors", "reference": name + ".reference.safetensors",
        "also": name + "/ (timm.models.save_for_hf(model, dir, safe_serialization=True): config.json + "
                       "model.safetensors, the same tensors)",
        "library": "timm %s, torch %s" % (timm.__version__, torch.__version__),
        "class": "timm VisionTransformer via timm.create_model(%r, pretrained=False, %s)"
                 % (arch, ", ".join("%s=%r" % kv for kv in args.items())),
        "constructor": dict(model_name=arch, **args, wide_extra={"dynamic_img_size": True},
                            implied_by_arch=dict(patch_size=16, class_token=False, global_pool="map", img_size=224,
                                                 qkv_bias=True, norm_layer="LayerNorm(eps=1e-6)", act_layer="nn.GELU")),
        "saved_as": ("safetensors.torch.save_file(model.state_dict()); loaded back with timm.create_model(arch, "
                     "pretrained=True, pretrained_cfg_overlay=dict(file=path), ...) and the folder with "
                     "timm.create_model('local-dir:<folder>', pretrained=True)"),
        "config_json": config,
        "heads": 2, "width": 64, "depth": 2, "head_dim": 32, "mlp_hidden": 128, "patch": 16, "pos_grid": 14,
        "layer_norm_eps": model.norm.eps,
        "activation": "nn.GELU (erf, approximate='none') in the blocks and in attn_pool.mlp",
        "token_order": ["patches (row-major)"],
        "prefix_tokens": 0,
        "positions": ("pos_embed [1, 14*14, C] (no [CLS] row) added to the patches; norm_pre Identity; "
                      "blocks x = x + attn(norm1(x)); x = x + mlp(norm2(x)); then norm; fc_norm Identity; head Identity"),
        "mean": mean, "std": std,
        "reference_metadata": metadata,
        "interpolation": ("square: none. wide (dynamic_img_size=True): timm.layers.resample_abs_pos_embed with "
                          "num_prefix_tokens=0: F.interpolate(grid[1, C, 14, 14].float(), size=(14, 20), mode='bicubic', "
                          "align_corners=None, antialias=True) (the whole table is the grid)"),
        "interpolation_effects_wide": {"timm_antialias_vs_hf_bicubic": (aa - plain).abs().max().item()},
        "inputs": {t: [h, w, h // 16, w // 16] for t, h, w in SIZES},
        "attn_pool": {
            "module": "timm.layers.attention_pool.AttentionPoolLatent(64, num_heads=2, mlp_ratio=2, norm_layer=LayerNorm, "
                      "act_layer=GELU), latent_len 1, pool_type 'token', q_proj True, qk_norm False, no pos_embed",
            "input": "x = model.norm(tokens) [N, C], all N tokens (pool_include_prefix False, and there is no prefix)",
            "computation": [
                "q = attn_pool.q(attn_pool.latent) -> [1, C] = latent [1, 1, C] @ q.weight^T + q.bias, split into heads [H, 1, D]",
                "kv = attn_pool.kv(x) -> [N, 2C]: k = kv[:, :C], v = kv[:, C:], each split into heads [H, N, D] "
                "(kv.weight rows 0..C-1 are k, C..2C-1 are v; head h uses columns h*D..h*D+D-1 of each)",
                "q_norm, k_norm Identity; attention = softmax((q * D ** -0.5) @ k^T) [H, 1, N]",
                "o = (attention @ v) heads concatenated [1, C]; y = attn_pool.proj(o) (proj_drop no-op)",
                "pooled = y + attn_pool.mlp(attn_pool.norm(y)) (mlp = fc1, GELU, fc2; norm LayerNorm eps 1e-6); "
                "token pool: pooled[0] [C]",
            ],
            "pooled": "T.attn_pool.pooled = attn_pool(x)[0] = forward_head(features, pre_logits=True) = model(x) (num_classes 0)",
            "attention": "T.attn_pool.attention = attention[:, 0, :] [heads, N] (probabilities; recomputed in a "
                         "pre-hook, the module's output checked)",
        },
        "final": "square.final = model.norm output [196, C] = what attn_pool receives",
        "keys": shapes(load_file(path)),
    }]


# ------------------------------------------------------------------ ConvNeXt ----

def cnn_reference(name, model, stage_modules, inputs, mean, std):
    reference, grids = {}, {}
    for tag, height, width in SIZES:
        x = photo_input(inputs, tag, mean, std)
        stages = []
        hooks = [m.register_forward_hook(lambda m, i, o: stages.append(o[0].detach().clone())) for m in stage_modules]
        with torch.no_grad():
            logits = model(x)[0].clone()
        for hook in hooks:
            hook.remove()
        assert len(stages) == 4
        grids[tag] = []
        for i, s in enumerate(stages):
            reduction = 4 * 2 ** i
            assert s.shape[1:] == (height // reduction, width // reduction), (i, s.shape)
            reference["%s.stage%d" % (tag, i)] = s.permute(1, 2, 0).reshape(-1, s.shape[0]).contiguous()
            grids[tag].append(list(s.shape))
        reference[tag + ".logits"] = logits
        print("  %-22s %-6s stages %s  logits %s" % (name, tag, [g[1:] for g in grids[tag]],
                                                     [round(v, 3) for v in logits.tolist()]))
    return reference, grids


def make_convnext(inputs):
    from timm.models.convnext import ConvNeXt
    from torchvision.models.convnext import CNBlockConfig
    from torchvision.models.convnext import ConvNeXt as TVConvNeXt
    entries = []

    name = "timm_convnext"
    kwargs = dict(depths=(1, 1, 2, 1), dims=(16, 32, 48, 64), num_classes=5, ls_init_value=1.0)
    torch.manual_seed(25)
    model = ConvNeXt(**kwargs).eval()
    randomise(model, 25)
    path = os.path.join(OUT, name + ".safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    loaded = ConvNeXt(**kwargs).eval()
    loaded.load_state_dict(load_file(path), strict=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    gammas = [b.gamma for s in loaded.stages for b in s.blocks]
    assert all(0.25 <= g.min() and g.max() < 1.25 and g.std() > 0.1 for g in gammas)
    reference, grids = cnn_reference(name, loaded, list(loaded.stages), inputs, IMAGENET_MEAN, IMAGENET_STD)
    with torch.no_grad():
        x = photo_input(inputs, "square", IMAGENET_MEAN, IMAGENET_STD)
        assert torch.equal(loaded.forward_head(loaded.forward_features(x))[0], reference["square.logits"])
    metadata = reference_metadata(IMAGENET_MEAN, IMAGENET_STD)
    save_reference(name, reference, metadata)
    entries.append({
        "name": name, "file": name + ".safetensors", "reference": name + ".reference.safetensors",
        "library": "timm %s, torch %s" % (timm.__version__, torch.__version__),
        "class": "timm.models.convnext.ConvNeXt", "constructor": dict(kwargs, depths=list(kwargs["depths"]),
                                                                      dims=list(kwargs["dims"])),
        "saved_as": "safetensors.torch.save_file(model.state_dict()); loaded back with ConvNeXt(**constructor).load_state_dict(strict=True)",
        "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "reference_metadata": metadata,
        "inputs": {t: [h, w] for t, h, w in SIZES},
        "stage_shapes": grids,
        "layer_norm_eps": loaded.stem[1].eps,
        "activation": "nn.GELU (erf) in the block MLPs",
        "structure": [
            "stem: stem.0 Conv2d(3, 16, k=4, s=4, bias) -> stem.1 LayerNorm2d(16, eps 1e-6) (over channels)",
            "stages.0: downsample Identity (same width, stride 1), blocks.0",
            "stages.i, i = 1..3: downsample = stages.i.downsample.0 LayerNorm2d(C_in) -> stages.i.downsample.1 "
            "Conv2d(C_in, C_out, k=2, s=2, bias), then blocks.0..",
            "block: shortcut = x; conv_dw Conv2d(C, C, k=7, pad 3, groups=C, bias) -> permute NHWC -> norm "
            "LayerNorm(C, eps 1e-6) -> mlp.fc1 Linear(C, 4C) -> GELU -> mlp.fc2 Linear(4C, C) -> permute NCHW -> "
            "* gamma[C] (per channel) -> + shortcut (shortcut Identity, drop_path Identity)",
            "head (head_norm_first False): norm_pre Identity; head.global_pool average over H, W -> head.norm "
            "LayerNorm2d(64, eps 1e-6) on the pooled [64, 1, 1] -> flatten -> pre_logits Identity -> head.fc Linear(64, 5)",
        ],
        "stage_boundaries": ("T.stage<i> = output of model.stages[i] (forward hook on the ConvNeXtStage): its own "
                             "downsample (for i >= 1) and all its blocks, i.e. the output of its last block; the "
                             "downsample that follows belongs to stages[i+1] and is NOT included. Strides 4, 8, 16, 32"),
        "keys": shapes(load_file(path)),
    })

    name = "torchvision_convnext"
    settings = [CNBlockConfig(16, 32, 1), CNBlockConfig(32, 48, 1), CNBlockConfig(48, 64, 2), CNBlockConfig(64, None, 1)]
    tv_kwargs = dict(layer_scale=1.0, num_classes=5)
    torch.manual_seed(26)
    model = TVConvNeXt(settings, **tv_kwargs).eval()
    randomise(model, 26)
    path = os.path.join(OUT, name + ".pth")
    torch.save(model.state_dict(), path)
    loaded = TVConvNeXt(settings, **tv_kwargs).eval()
    loaded.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    layer_scales = [m.layer_scale for m in loaded.modules() if type(m).__name__ == "CNBlock"]
    assert len(layer_scales) == 5 and all(0.25 <= g.min() and g.max() < 1.25 and g.std() > 0.1 for g in layer_scales)
    stage_modules = [loaded.features[i] for i in (1, 3, 5, 7)]
    assert all(type(m[0]).__name__ == "CNBlock" for m in stage_modules)
    reference, grids = cnn_reference(name, loaded, stage_modules, inputs, IMAGENET_MEAN, IMAGENET_STD)
    metadata = reference_metadata(IMAGENET_MEAN, IMAGENET_STD)
    save_reference(name, reference, metadata)
    entries.append({
        "name": name, "file": name + ".pth", "reference": name + ".reference.safetensors",
        "library": "torchvision %s, torch %s" % (torchvision.__version__, torch.__version__),
        "class": "torchvision.models.convnext.ConvNeXt",
        "constructor": {"block_setting": ["CNBlockConfig(16, 32, 1)", "CNBlockConfig(32, 48, 1)", "CNBlockConfig(48, 64, 2)",
                                          "CNBlockConfig(64, None, 1)"], **tv_kwargs,
                        "stochastic_depth_prob": 0.0, "norm_layer": "partial(LayerNorm2d, eps=1e-6) (default)"},
        "saved_as": "torch.save(model.state_dict()); loaded back with torch.load(weights_only=True) + load_state_dict(strict=True)",
        "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "reference_metadata": metadata,
        "inputs": {t: [h, w] for t, h, w in SIZES},
        "stage_shapes": grids,
        "layer_norm_eps": loaded.features[0][1].eps,
        "activation": "nn.GELU (erf) in the block MLPs",
        "structure": [
            "features.0 (stem, Conv2dNormActivation): features.0.0 Conv2d(3, 16, k=4, s=4, bias) -> features.0.1 "
            "LayerNorm2d(16, eps 1e-6)",
            "features.1: stage 0 blocks (features.1.0); features.2: downsample features.2.0 LayerNorm2d(16) -> "
            "features.2.1 Conv2d(16, 32, k=2, s=2)",
            "features.3: stage 1 blocks; features.4: downsample 32 -> 48; features.5: stage 2 blocks (features.5.0, "
            "features.5.1); features.6: downsample 48 -> 64; features.7: stage 3 blocks",
            "block (CNBlock): features.S.B.block.0 Conv2d(C, C, k=7, pad 3, groups=C, bias) -> Permute NHWC -> "
            "block.2 LayerNorm(C, eps 1e-6) -> block.3 Linear(C, 4C) -> GELU -> block.5 Linear(4C, C) -> Permute NCHW; "
            "result = layer_scale [C, 1, 1] * that + input (stochastic depth no-op in eval)",
            "head: avgpool AdaptiveAvgPool2d(1) -> classifier.0 LayerNorm2d(64, eps 1e-6) -> classifier.1 Flatten -> "
            "classifier.2 Linear(64, 5)",
        ],
        "stage_boundaries": ("T.stage<i> = output of features[1], features[3], features[5], features[7] (forward hooks on "
                             "the nn.Sequential of a stage's CNBlocks): the output of the stage's last block. torchvision "
                             "keeps each downsample as its own features entry (2, 4, 6) BEFORE the stage it feeds, so "
                             "T.stage<i> for i >= 1 includes features[2i] applied first (as timm's stages[i].downsample) "
                             "and never the next downsample. Strides 4, 8, 16, 32"),
        "keys": shapes(torch.load(path, map_location="cpu", weights_only=True)),
    })
    return entries


# ------------------------------------------------------------------------ main ----

def main():
    # Everything under OUT is this script's: start from an empty folder so nothing stale remains.
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    inputs = load_inputs()
    entries = make_openclip(inputs) + make_hf(inputs) + make_timm_siglip(inputs) + make_convnext(inputs)
    for entry in entries:
        paths = [os.path.join(OUT, entry["file"].rstrip("/")), os.path.join(OUT, entry["reference"])]
        entry["bytes"] = sum(file_size(p) for p in paths)
        entry["reference_tensors"] = shapes(load_file(os.path.join(OUT, entry["reference"])))
        with safetensors.safe_open(os.path.join(OUT, entry["reference"]), "pt") as sf:
            assert sf.metadata() == entry["reference_metadata"], (entry["name"], sf.metadata())
    manifest = {
        "inputs_file": "../layouts/inputs.safetensors (Tests/Fixtures/layouts/inputs.safetensors, read only)",
        "inputs_sha256": sha256(INPUTS),
        "inputs_used": {input_name(t, PATCH): [h, w, 3] for t, h, w in SIZES},
        "preprocessing": ("the uint8 [H, W, 3] bytes of inputs.safetensors, fed as (x / 255 - mean) / std in float32, "
                          "[1, 3, H, W], with each model's own mean/std"),
        "reference_keys": {
            "T.block<i>.cls": "[heads, tokens] the [CLS] query's attention probabilities of every head of block i over "
                              "all tokens ([CLS] first, then patches row-major); T = square, wide",
            "T.block<i>.row0": "[heads, tokens] timm_siglip_map: the first patch token's attention row (no [CLS])",
            "T.attn_pool.attention": "[heads, patches] timm_siglip_map: the latent query's attention in attn_pool",
            "T.attn_pool.pooled": "[width] timm_siglip_map: attn_pool output = forward_head(features, pre_logits=True)",
            "square.final": ("[tokens, width] every token after the final norm: OpenCLIP ln_post, transformers "
                             "post_layernorm (applied here to every token), timm model.norm (the tokens attn_pool gets)"),
            "T.pooled": "[dim] OpenCLIP: ln_post(x[:, 0]) @ visual.proj (encode_image, not normalised); transformers: pooler_output",
            "T.stage<i>": "[H*W, C] ConvNeXt: output of stage i's last block, channels last, pixels row-major",
            "T.logits": "[classes] ConvNeXt logits",
        },
        "reference_metadata": ("safetensors __metadata__ (strings): input_square, input_wide (names in inputs.safetensors), "
                               "mean, std (comma-separated decimals); ViTs also heads, prefix_tokens"),
        "interpolation_rules": {
            "transformers_clip": HF_CLIP_RULE,
            "open_clip": ("none at run time; the wide references resample visual.positional_embedding with transformers' "
                          "CLIPVisionEmbeddings.interpolate_pos_encoding (the module called on a copy of the table): "
                          "bicubic, align_corners=False, no antialias, [CLS] row kept; the engine resamples OpenCLIP "
                          "positions the transformers way"),
            "timm": ("resample_abs_pos_embed: F.interpolate(grid.float(), size=(h, w), mode='bicubic', align_corners=None, "
                     "antialias=True); prefix rows kept (none for timm_siglip_map)"),
            "convnext": "none (fully convolutional)",
        },
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "timm": timm.__version__,
                     "transformers": transformers.__version__, "open_clip_torch": open_clip.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__},
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
    print("%10d  total, family fixtures written under Tests/Fixtures/families" % total)


if __name__ == "__main__":
    main()

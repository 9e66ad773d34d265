#!/usr/bin/env python3
"""Reference outputs for the forward passes, written under Tests/Fixtures/backbones.

- Small random-initialised timm models (ViT with [CLS], ViT without [CLS] with registers
  and LayerScale, a ViT run at a grid it was not trained for, ResNet-18): weights as
  checkpoints, and every block's tokens and attention probabilities (stage outputs for
  the ResNet) and the logits, from timm itself.
- The bundled DINOv2 ViT-S/14 against ONNX Runtime running the original ONNX file on a
  sample photo: the input tensor, [CLS] attention rows and sampled rows of every block,
  sampled tokens of every block, the final normalised tokens.
- EfficientNet-Lite0 (real weights) top-5 classes on sample photos, from the
  efficientnet-lite-pytorch reference implementation.

    python3 Tools/make_backbone_fixtures.py   # after convert_default_model.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import ROOT, ensure_venv  # noqa: E402

ensure_venv()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Fixtures", "backbones")
SAMPLES = os.path.join(ROOT, "Samples", "images")


def capture_vit(model, x):
    """Block outputs and attention probabilities of a timm ViT (non-fused attention)."""
    blocks, attentions = [], []
    hooks = []
    for block in model.blocks:
        block.attn.fused_attn = False
        hooks.append(block.attn.attn_drop.register_forward_hook(lambda m, i, o: attentions.append(o[0].detach().clone())))
        hooks.append(block.register_forward_hook(lambda m, i, o: blocks.append(o[0].detach().clone())))
    with torch.no_grad():
        features = model.forward_features(x)
        logits = model.forward_head(features)
    for hook in hooks:
        hook.remove()
    out = {"input": x[0].clone(), "final": features[0].clone(), "logits": logits[0].clone()}
    for i, (tokens, attention) in enumerate(zip(blocks, attentions)):
        out["block%d.tokens" % i] = tokens.contiguous()
        out["block%d.attention" % i] = attention.contiguous()
    return out


def randomise(model, seed):
    """Random weights with enough spread that every parameter matters (LayerScale too)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.3 if p.ndim > 1 else 0.5) + (1.0 if name.endswith(("norm1.weight", "norm2.weight", "norm.weight")) else 0.0))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.2)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) + 0.5)


def make_timm():
    import timm
    from timm.models.vision_transformer import VisionTransformer
    from timm.models.resnet import BasicBlock, Bottleneck, ResNet

    torch.manual_seed(0)
    cases = {
        # [CLS], non-square native grid 4×6, 10-class head.
        "vit_cls": (dict(img_size=(32, 48), patch_size=8, embed_dim=48, depth=2, num_heads=3, num_classes=10), (32, 48), False),
        # No [CLS], 2 registers, LayerScale, positions for patches only, mean-pooled head with fc_norm.
        "vit_reg": (dict(img_size=(28, 42), patch_size=14, embed_dim=32, depth=3, num_heads=2, num_classes=5,
                         class_token=False, reg_tokens=2, no_embed_class=True, init_values=0.5, global_pool="avg"), (28, 42), False),
        # Trained for a 4×4 grid, run on 5×6: positions resampled (timm: antialiased bicubic).
        "vit_resample": (dict(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, num_classes=0,
                              dynamic_img_size=True), (40, 48), True),
    }
    for seed, (name, (kwargs, size, dynamic)) in enumerate(cases.items()):
        model = VisionTransformer(**kwargs).eval()
        randomise(model, seed + 1)
        x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(100 + seed))
        # Head counts below 64 channels per head are not the timm default: the file says so.
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(OUT, name + ".safetensors"),
                  metadata={"num_heads": str(kwargs["num_heads"])})
        save_file(capture_vit(model, x), os.path.join(OUT, name + ".reference.safetensors"))

    # The vit_cls weights as DINO saves them: teacher and student, prefixed, with args.
    import argparse
    from safetensors.torch import load_file
    vit_cls = load_file(os.path.join(OUT, "vit_cls.safetensors"))
    backbone = {k: v for k, v in vit_cls.items() if not k.startswith("head.")}
    torch.save({"teacher": {"backbone." + k: v for k, v in backbone.items()},
                "student": {"module.backbone." + k: v + 1 for k, v in backbone.items()},
                "epoch": 3, "args": argparse.Namespace(arch="vit_tiny", patch_size=8)},
               os.path.join(OUT, "dino_teacher.pth"))

    # An official-SimPool-style ViT: no [CLS], 196 position rows, head under gp.pool.*.
    model = VisionTransformer(img_size=112, patch_size=8, embed_dim=48, depth=1, num_heads=3, num_classes=0,
                              class_token=False, global_pool="")
    randomise(model, 9)
    state = dict(model.state_dict())
    g = torch.Generator().manual_seed(10)
    state.update({"gp.pool.wq.weight": torch.randn(48, 48, generator=g), "gp.pool.wk.weight": torch.randn(48, 48, generator=g),
                  "gp.pool.norm_patches.weight": 1 + 0.1 * torch.randn(48, generator=g),
                  "gp.pool.norm_patches.bias": 0.1 * torch.randn(48, generator=g)})
    torch.save({"epoch": 1, "state_dict": state, "args": argparse.Namespace(model="vit_tiny_patch16_224", gamma=1.25)},
               os.path.join(OUT, "simpool_vit.pth.tar"))

    # ResNet-18's layout (basic blocks, [2, 2, 2, 2]) at a quarter of the width, so that
    # the committed checkpoint stays small; a ResNet-50-layout one covers bottlenecks and,
    # saved in the legacy format, the other reader.
    save_resnet("resnet18", ResNet(block=BasicBlock, layers=(2, 2, 2, 2), stem_width=16, channels=(16, 32, 64, 128),
                                   num_classes=10), seed=7, size=(64, 80), legacy=False)
    save_resnet("resnet50_layout", ResNet(block=Bottleneck, layers=(3, 4, 6, 3), stem_width=8, channels=(8, 16, 32, 64),
                                          num_classes=7), seed=8, size=(48, 56), legacy=True)


def save_resnet(name, model, seed, size, legacy):
    """Random weights as a .pth checkpoint, and the four stage outputs ([h·w, C]) and logits."""
    model = model.eval()
    randomise(model, seed)
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(100 + seed))
    stages = []
    hooks = [getattr(model, "layer%d" % i).register_forward_hook(lambda m, i, o: stages.append(o[0].detach().clone())) for i in range(1, 5)]
    with torch.no_grad():
        logits = model(x)
    for h in hooks:
        h.remove()
    torch.save(model.state_dict(), os.path.join(OUT, name + ".pth"), _use_new_zipfile_serialization=not legacy)
    reference = {"input": x[0].contiguous(), "logits": logits[0].contiguous()}
    for i, s in enumerate(stages):
        reference["stage%d" % i] = s.permute(1, 2, 0).reshape(-1, s.shape[0]).contiguous()
    save_file(reference, os.path.join(OUT, name + ".reference.safetensors"))


def make_dinov2():
    import onnx
    import onnxruntime as ort
    onnx_path = os.path.join(ROOT, ".downloads", "vit_s_focus.onnx")
    model = onnx.load(onnx_path)
    wanted = []
    for i in range(12):
        wanted += ["/backbone/encoder/layer.%d/attention/attention/Softmax_output_0" % i,
                   "/backbone/encoder/layer.%d/Add_1_output_0" % i]
    wanted.append("/backbone/layernorm/Add_1_output_0")
    for name in wanted:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    with Image.open(os.path.join(SAMPLES, "chelsea.png")) as image:
        rgb = np.asarray(image.convert("RGB").resize((224, 224), Image.BICUBIC), dtype=np.float32) / 255
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    x = ((rgb - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
    outputs = dict(zip(wanted, session.run(wanted, {"input_image": x})))

    rng = np.random.default_rng(11)
    rows = np.sort(rng.choice(np.arange(1, 257), 12, replace=False))
    tokens = np.sort(rng.choice(np.arange(0, 257), 16, replace=False))
    reference = {"input": torch.from_numpy(x[0].copy()),
                 "attention_rows": torch.from_numpy(rows.astype(np.int64)),
                 "token_rows": torch.from_numpy(tokens.astype(np.int64))}
    for i in range(12):
        attention = outputs[wanted[2 * i]][0]            # [heads, 257, 257]
        reference["block%d.attention_cls" % i] = torch.from_numpy(attention[:, 0, :].copy())
        reference["block%d.attention_sampled" % i] = torch.from_numpy(attention[:, rows, :].copy())
        reference["block%d.tokens_sampled" % i] = torch.from_numpy(outputs[wanted[2 * i + 1]][0][tokens].copy())
    reference["final"] = torch.from_numpy(outputs[wanted[-1]][0].copy())
    save_file(reference, os.path.join(OUT, "dinov2_ort.reference.safetensors"))


def make_efficientnet():
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(os.path.join(ROOT, ".downloads", "efficientnet-lite0.pth"), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    photos = ["cat.bmp", "bird.bmp", "hot_dog.jpg", "owl.jpg", "parrot.jpg", "sunflower.bmp", "chelsea.png", "rocket.jpg"]
    reference = {}
    for photo in photos:
        with Image.open(os.path.join(SAMPLES, photo)) as image:
            rgb = np.asarray(image.convert("RGB").resize((224, 224), Image.BICUBIC), dtype=np.float32)
        x = torch.from_numpy(((rgb - 127.0) / 128.0).transpose(2, 0, 1)[None].copy())
        with torch.no_grad():
            logits = model(x)[0]
        top = torch.topk(logits, 5)
        reference[photo + ".top5"] = top.indices.to(torch.int64)
        reference[photo + ".top5_logits"] = top.values.contiguous()
    save_file(reference, os.path.join(OUT, "efficientnet_lite0.reference.safetensors"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_timm()
    make_dinov2()
    make_efficientnet()
    print("backbone fixtures written under Tests/Fixtures/backbones")

#!/usr/bin/env python3
"""Writes the reference fixtures the Swift tests compare against.

Run once (it installs its own virtual environment with the pinned packages below) and
commit what it writes under Tests/Fixtures. Every expected value comes from PyTorch,
safetensors or Pillow themselves, never from our own code.

    python3 Tools/make_fixtures.py            # creates Tools/.venv on first use
"""
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "Tools", ".venv")
REQUIREMENTS = os.path.join(ROOT, "Tools", "requirements-fixtures.txt")


def ensure_venv():
    """Re-runs this script inside Tools/.venv with the pinned packages installed."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(python):
        venv.create(VENV, with_pip=True)
    subprocess.check_call([python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS])
    os.execv(python, [python] + sys.argv)


ensure_venv()

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os as _os  # noqa: E402
import pickle  # noqa: E402
import shutil  # noqa: E402
import subprocess as _subprocess  # noqa: E402
import subprocess  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

CHECKPOINTS = os.path.join(ROOT, "Tests", "Fixtures", "checkpoints")
IMAGES = os.path.join(ROOT, "Tests", "Fixtures", "images")
SAMPLES = os.path.join(ROOT, "Samples", "images")


# --------------------------------------------------------------------- helpers ----

def json_number(value):
    """Floats as exact hexadecimal text ("0x1.8p+1", "inf"): decimal JSON numbers are not
    parsed with correct rounding by every reader, and these comparisons are exact."""
    return float(value).hex()


def describe(tensor):
    """Name-independent expected content: dtype, shape and every value exactly."""
    t = tensor.detach()
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        values = [json_number(float(v)) for v in t.to(torch.float64).flatten().tolist()]
    elif t.dtype == torch.bool:
        values = [int(v) for v in t.flatten().tolist()]
    else:
        values = [int(v) for v in t.flatten().tolist()]
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": values}


def write_json(path, payload, compact=False):
    with open(path, "w") as f:
        if compact:
            json.dump(payload, f, separators=(",", ":"), sort_keys=True)
        else:
            json.dump(payload, f, indent=1, sort_keys=True)
        f.write("\n")


def rezip(source, target, prefix):
    """Copies a torch ZIP checkpoint, renaming its top folder to `prefix`."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            rest = info.filename.split("/", 1)[1]
            zout.writestr(prefix + rest, zin.read(info.filename))


def zip_with_pickle(target, pickle_bytes, storages=None):
    """A torch-layout archive with a hand-made data.pkl (for hostile pickles)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        for key, data in (storages or {}).items():
            z.writestr("archive/data/" + key, data)


# ----------------------------------------------------------------- checkpoints ----

def dtype_tensors():
    return {
        "f32": torch.tensor([[0.1, -2.5, 3.14159274], [1e-30, -0.0, float("inf")]], dtype=torch.float32),
        "f16": torch.arange(-3, 3, 0.375, dtype=torch.float16).reshape(4, 4),
        "bf16": torch.tensor([1.5, -2.25, 1e20, 3.0e-3, 7.0], dtype=torch.bfloat16),
        "f64": torch.tensor([1 / 3, -1e-300, 12345.678], dtype=torch.float64),
        "i64": torch.tensor([-(2 ** 40), 0, 2 ** 62, -1], dtype=torch.int64),
        "i32": torch.tensor([[-(2 ** 31), 2 ** 31 - 1], [7, -7]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 5], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 7, 128], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True], dtype=torch.bool),
        "scalar": torch.tensor(5.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }


def view_tensors():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    half = torch.arange(12, dtype=torch.float16).reshape(3, 4)
    return {
        "base": base,
        "shared_flat": base.view(24),           # same storage as base
        "transposed": base.t(),                  # strides (1, 6)
        "sliced": base[1:3, 2:5],                # storage offset 8
        "stepped": base[:, ::2],                 # stride 2 on the last axis
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(4, 3),  # stride 0
        "half_transposed": half.t(),
        "row_of_shared": base[3],                # offset 18
    }


def timm_container():
    g = torch.Generator().manual_seed(0)
    def r(*shape):
        return torch.randn(*shape, generator=g)
    state = {
        "patch_embed.proj.weight": r(8, 3, 2, 2), "patch_embed.proj.bias": r(8),
        "pos_embed": r(1, 4, 8),
        "blocks.0.norm1.weight": r(8), "blocks.0.attn.qkv.weight": r(24, 8),
        "gp.pool.wq.weight": r(8, 8), "gp.pool.wk.weight": r(8, 8), "gp.pool.norm.weight": r(8),
    }
    ema = {k: v * 0.5 for k, v in state.items()}
    optimizer = {"state": {0: {"step": torch.tensor(10.0), "exp_avg": r(8, 3, 2, 2)}},
                 "param_groups": [{"lr": 5e-4, "params": [0]}]}
    args = argparse.Namespace(model="vit_small_patch16_224", gamma=1.25, lr=5e-4, epochs=100,
                              batch_size=256, pretrained=False, model_ema=True, mean=(0.485, 0.456, 0.406),
                              name=None)
    return {"epoch": 99, "arch": "vit_small_patch16_224", "state_dict": state, "optimizer": optimizer,
            "version": 2, "args": args, "state_dict_ema": ema, "metric": 72.5}, ema


def dino_container():
    g = torch.Generator().manual_seed(1)
    teacher = {"backbone.cls_token": torch.randn(1, 1, 4, generator=g),
               "backbone.blocks.0.attn.qkv.weight": torch.randn(12, 4, generator=g),
               "head.last_layer.weight_g": torch.ones(1, 16)}
    student = {"module." + k: v + 1 for k, v in teacher.items()}
    return {"student": student, "teacher": teacher, "epoch": 100,
            "dino_loss": {"center": torch.zeros(1, 16)}}, teacher


class Evil:
    """Pickles as a call of `target(*arguments)`: exactly what an attacker ships."""
    def __init__(self, target, arguments):
        self.target, self.arguments = target, arguments

    def __reduce__(self):
        return (self.target, self.arguments)


def make_checkpoints():
    os.makedirs(CHECKPOINTS, exist_ok=True)
    expected = {}

    tensors = dtype_tensors()
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(CHECKPOINTS, "dtypes.safetensors"),
              metadata={"format": "pt", "source": "make_fixtures.py"})
    torch.save(tensors, os.path.join(CHECKPOINTS, "dtypes.pt"))
    torch.save(tensors, os.path.join(CHECKPOINTS, "dtypes_legacy.pt"), _use_new_zipfile_serialization=False)
    shutil.copy(os.path.join(CHECKPOINTS, "dtypes.pt"), os.path.join(CHECKPOINTS, "pytorch_model.bin"))
    rezip(os.path.join(CHECKPOINTS, "dtypes.pt"), os.path.join(CHECKPOINTS, "dtypes_prefixed.pth"),
          "exported/model_v2/")
    expected["dtypes"] = {k: describe(v) for k, v in tensors.items()}

    views = view_tensors()
    torch.save(views, os.path.join(CHECKPOINTS, "views.pt"))
    torch.save(views, os.path.join(CHECKPOINTS, "views_legacy.pt"), _use_new_zipfile_serialization=False)
    expected["views"] = {k: describe(v) for k, v in views.items()}
    with zipfile.ZipFile(os.path.join(CHECKPOINTS, "views.pt")) as z:
        expected["views_storage_count"] = sum(1 for n in z.namelist() if "/data/" in n and not n.endswith("serialization_id"))

    container, ema = timm_container()
    torch.save(container, os.path.join(CHECKPOINTS, "timm_train.pth.tar"))
    torch.save(container, os.path.join(CHECKPOINTS, "timm_train_legacy.pth.tar"), _use_new_zipfile_serialization=False)
    expected["timm_train"] = {"entry": "state_dict_ema", "tensors": {k: describe(v) for k, v in ema.items()},
                              "args": {"model": "vit_small_patch16_224", "gamma": 1.25, "epochs": 100,
                                       "pretrained": False, "name": None},
                              "others": ["epoch", "arch", "state_dict", "optimizer", "version", "args", "metric"]}

    container, teacher = dino_container()
    torch.save(container, os.path.join(CHECKPOINTS, "dino.pth"))
    expected["dino"] = {"entry": "teacher", "tensors": {k: describe(v) for k, v in teacher.items()}}

    nested = [{"weight": torch.ones(2, 2), "bias": torch.zeros(2)}, (torch.ones(3),)]
    torch.save(nested, os.path.join(CHECKPOINTS, "nested_list.pt"))
    expected["nested_list"] = {"entry": "0", "names": ["weight", "bias"]}

    # Hostile files: each must be refused with the global it names, and never run.
    marker = "/tmp/simpool-explorer-pwned"
    hostile = {
        "hostile_os_system.pt": (Evil(_os.system, ("touch " + marker,)), "posix.system"),
        "hostile_eval.pt": (Evil(eval, ("__import__('os').system('touch %s')" % marker,)), "builtins.eval"),
        "hostile_popen.pt": (Evil(_subprocess.Popen, (["touch", marker],)), "subprocess.Popen"),
        "hostile_exec_legacy.pt": (Evil(exec, ("import os",)), "builtins.exec"),
    }
    expected["hostile"] = {}
    for name, (payload, global_name) in hostile.items():
        obj = {"weight": torch.ones(2), "payload": payload}
        torch.save(obj, os.path.join(CHECKPOINTS, name), _use_new_zipfile_serialization=not name.endswith("legacy.pt"))
        expected["hostile"][name] = global_name
    # Protocol 4 (STACK_GLOBAL) and a nested call chain: getattr(__import__('os'), 'system').
    stack_global = pickle.dumps({"w": Evil(_os.system, ("true",))}, protocol=4)
    zip_with_pickle(os.path.join(CHECKPOINTS, "hostile_stack_global.pt"), stack_global)
    expected["hostile"]["hostile_stack_global.pt"] = "posix.system"
    chain = (b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\nX\x02\x00\x00\x00os\x85R"
             b"X\x06\x00\x00\x00system\x86RX\x04\x00\x00\x00true\x85R.")
    zip_with_pickle(os.path.join(CHECKPOINTS, "hostile_reduce_chain.pt"), chain)
    expected["hostile"]["hostile_reduce_chain.pt"] = "builtins.getattr"
    # An unknown but harmless-looking callable is refused too: only rebuilders are called.
    counter = pickle.dumps({"w": Evil(__import__("collections").Counter, ("abc",))}, protocol=2)
    zip_with_pickle(os.path.join(CHECKPOINTS, "hostile_counter.pt"), counter)
    expected["hostile"]["hostile_counter.pt"] = "collections.Counter"

    write_json(os.path.join(CHECKPOINTS, "expected.json"), expected)


# ---------------------------------------------------------------------- images ----

def rgb_bytes(image):
    return np.asarray(image.convert("RGB"), dtype=np.uint8).tobytes()


def fnv1a64(data):
    """FNV-1a, 64-bit, as a hex string: a whole-image checksum simple enough to write
    again in the tests without a crypto library."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % value


def sample_positions(width, height, count=1000, seed=7):
    rng = np.random.default_rng(seed)
    return rng.integers(0, width, count).tolist(), rng.integers(0, height, count).tolist()


def make_images():
    os.makedirs(IMAGES, exist_ok=True)
    expected = {"samples": {}, "synthetic": {}, "resize": []}

    # The bundled samples as PIL decodes them (what the models' references see).
    for folder in ("images", "masks"):
        directory = os.path.join(ROOT, "Samples", folder)
        for name in sorted(os.listdir(directory)):
            with Image.open(os.path.join(directory, name)) as image:
                rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
            xs, ys = sample_positions(rgb.shape[1], rgb.shape[0])
            expected["samples"][folder + "/" + name] = {
                "width": rgb.shape[1], "height": rgb.shape[0],
                "fnv1a64": fnv1a64(rgb.tobytes()),
                "mean": float(rgb.astype(np.float64).mean()),
                "xs": xs, "ys": ys, "pixels": rgb[ys, xs].reshape(-1).tolist(),
            }

    # Small synthetic images in every layout the decoders claim to handle.
    rng = np.random.default_rng(3)
    w, h = 37, 23
    gradient = np.zeros((h, w, 3), dtype=np.uint8)
    gradient[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    gradient[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    gradient[..., 2] = rng.integers(0, 256, (h, w), dtype=np.uint8)
    rgb = Image.fromarray(gradient, "RGB")
    rgba = Image.fromarray(np.dstack([gradient, rng.integers(0, 256, (h, w), dtype=np.uint8)]), "RGBA")
    gray = rgb.convert("L")
    palette = rgb.quantize(colors=16)
    palette_trns = palette.copy()
    palette_trns.info["transparency"] = 3
    rgb16 = (gradient.astype(np.uint16) * 257 + rng.integers(0, 256, (h, w, 3))).astype(">u2")
    gray16 = (np.asarray(gray, dtype=np.uint16) * 257 + rng.integers(0, 256, (h, w))).astype(np.uint16)

    cases = {
        "rgb.png": (rgb, {}),
        "rgba.png": (rgba, {}),
        "gray.png": (gray, {}),
        "gray_alpha.png": (Image.merge("LA", (gray, rgba.getchannel("A"))), {}),
        "palette.png": (palette, {}),
        "palette_trns.png": (palette_trns, {"transparency": 3}),
        "baseline.jpg": (rgb, {"quality": 90}),
        "progressive.jpg": (rgb, {"quality": 90, "progressive": True}),
        "gray.jpg": (gray, {"quality": 90}),
        "cmyk.jpg": (rgb.convert("CMYK"), {"quality": 95}),
        "palette8.bmp": (palette, {}),
        "rgb24.bmp": (rgb, {}),
        "rgba32.bmp": (rgba, {}),
        "gray8.bmp": (gray, {}),
        "rgb.ppm": (rgb, {}),
        "gray.pgm": (gray, {}),
    }
    for name, case in cases.items():
        if case is None:
            continue
        image, options = case
        path = os.path.join(IMAGES, name)
        image.save(path, **options)
        with Image.open(path) as reopened:
            expected_rgb = rgb_bytes(reopened)
        with open(path + ".rgb", "wb") as f:
            f.write(expected_rgb)
        expected["synthetic"][name] = {"width": w, "height": h, "exact": not name.endswith(".jpg")}

    # 16-bit PNGs: written with raw big-endian rows. Expected 8-bit values keep the high
    # byte of each sample (value >> 8), computed here from the 16-bit source data.
    for name, array, mode in (("rgb16.png", rgb16, "RGB"), ("gray16.png", gray16, "I;16")):
        path = os.path.join(IMAGES, name)
        if mode == "RGB":
            write_png16_rgb(path, array)
            high = (array.astype(np.uint16) >> 8).astype(np.uint8)
            assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), high)
        else:
            Image.fromarray(array.astype("<u2")).save(path)
            high = np.repeat((array >> 8).astype(np.uint8)[..., None], 3, axis=2)
        with open(path + ".rgb", "wb") as f:
            f.write(high.tobytes())
        expected["synthetic"][name] = {"width": w, "height": h, "exact": True}

    # Adam7-interlaced PNG (Pillow cannot write one; pypng can).
    import png as pypng
    path = os.path.join(IMAGES, "interlaced.png")
    with open(path, "wb") as f:
        pypng.Writer(w, h, greyscale=False, interlace=True).write(f, gradient.reshape(h, w * 3).tolist())
    with Image.open(path) as reopened:
        assert reopened.info.get("interlace") == 1
        expected_rgb = rgb_bytes(reopened)
    with open(path + ".rgb", "wb") as f:
        f.write(expected_rgb)
    expected["synthetic"]["interlaced.png"] = {"width": w, "height": h, "exact": True}

    # Binary and ASCII netpbm with maxval 255 and a 16-bit PGM.
    with open(os.path.join(IMAGES, "ascii.ppm"), "w") as f:
        f.write("P3\n# a comment\n3 2\n255\n255 0 0  0 255 0  0 0 255\n10 20 30  40 50 60  70 80 90\n")
    with open(os.path.join(IMAGES, "ascii.ppm.rgb"), "wb") as f:
        f.write(bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]))
    expected["synthetic"]["ascii.ppm"] = {"width": 3, "height": 2, "exact": True}

    # Resizes as PIL computes them: these are what the models' preprocessing produces.
    resizes = [
        ("images/chelsea.png", 112, 75, "bicubic"),
        ("images/rocket.jpg", 96, 64, "bilinear"),
        ("images/dog_segmentation.bmp", 200, 150, "bicubic"),
        ("images/astronaut.png", 224, 224, "bicubic"),
        ("images/grace_hopper.bmp", 147, 173, "bilinear"),
    ]
    filters = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
    for source, width, height, method in resizes:
        with Image.open(os.path.join(ROOT, "Samples", source)) as image:
            resized = image.convert("RGB").resize((width, height), filters[method])
        name = "resize_%s_%dx%d_%s.rgb" % (os.path.basename(source).split(".")[0], width, height, method)
        with open(os.path.join(IMAGES, name), "wb") as f:
            f.write(rgb_bytes(resized))
        expected["resize"].append({"source": source, "width": width, "height": height,
                                   "method": method, "expected": name})
    write_json(os.path.join(IMAGES, "expected.json"), expected, compact=True)


def write_png16_rgb(path, array):
    """A 16-bit RGB PNG written by hand (Pillow cannot save one)."""
    import struct
    import zlib
    h, w, _ = array.shape
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def make_real_checkpoint_expectations():
    """Facts about a real third-party legacy checkpoint, read with torch.load."""
    subprocess.check_call([os.path.join(ROOT, "Tools", "fetch-downloads.sh")])
    path = os.path.join(ROOT, ".downloads", "efficientnet-lite0.pth")
    state = torch.load(path, map_location="cpu", weights_only=True)
    names = list(state.keys())
    picks = [names[0], names[1], "_blocks.3._depthwise_conv.weight", names[-1]]
    expected = {
        "format": "pytorch-legacy",
        "tensor_count": len(state),
        "parameter_count": sum(v.numel() for v in state.values() if v.is_floating_point()),
        "names": names,
        "tensors": {n: {"dtype": str(state[n].dtype).replace("torch.", ""), "shape": list(state[n].shape),
                        "first": [float(v).hex() for v in state[n].flatten()[:8].to(torch.float64).tolist()],
                        "sum": float(state[n].to(torch.float64).sum()).hex()} for n in picks},
    }
    write_json(os.path.join(CHECKPOINTS, "efficientnet_lite0.json"), expected)


if __name__ == "__main__":
    make_real_checkpoint_expectations()
    make_checkpoints()
    make_images()
    print("fixtures written under Tests/Fixtures")

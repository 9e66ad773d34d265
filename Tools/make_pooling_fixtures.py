#!/usr/bin/env python3
"""Reference results for every pooling method, written under Tests/Fixtures/pooling.

Each method is implemented here again, independently, from the formulas in docs/METHODS.md
(NumPy, float64), and SimPool as a PyTorch module that follows the official SimPool
module step by step (raw-mean query, LayerNorm'd keys and values, one global minimum
before the power, β after it). Inputs and expected outputs go into one safetensors file;
cases.json says which tensors belong to which case.

    python3 Tools/make_pooling_fixtures.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import ROOT, ensure_venv  # noqa: E402

ensure_venv()

import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Fixtures", "pooling")


def softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def gap(x):
    return x.mean(0), np.full(len(x), 1 / len(x))


def max_pool(x):
    winners = x.argmax(0)
    counts = np.bincount(winners, minlength=len(x)).astype(np.float64)
    return x.max(0), counts / counts.sum()


def gem(x, p, eps=1e-6):
    powered = np.maximum(x, eps) ** p
    pooled = powered.mean(0) ** (1 / p)
    shares = powered / powered.sum(0, keepdims=True)
    return pooled, shares.mean(1)


def lse(x, r):
    m = x.max(0)
    pooled = m + np.log(np.exp(r * (x - m)).mean(0)) / r
    return pooled, softmax(r * x, axis=0).mean(1)


def gmp(x, lam):
    n = len(x)
    alpha = np.linalg.solve(x @ x.T + lam * np.eye(n), np.ones(n))
    positive = np.maximum(alpha, 0)
    weights = positive / positive.sum() if positive.sum() > 0 else np.full(n, 1 / n)
    return x.T @ alpha, weights, alpha


def how(x):
    norms = np.linalg.norm(x, axis=1)
    a = norms / norms.sum()
    return a @ x, a


def cls(attention, prefix, head):
    """The [CLS] row over the patches: one head's, or the heads' raw rows averaged
    (attn[:, 0, prefix:].mean(0), as timm's examples and vit-explain do), then
    renormalised once."""
    rows = attention[:, 0, prefix:]
    a = rows.mean(0) if head is None else rows[head]
    return a / a.sum()


def cls_fused(attention, prefix, fusion):
    """vit-explain's head_fusion on the [CLS] row: elementwise max or min over the heads'
    raw rows, then renormalised over the patches."""
    rows = attention[:, 0, prefix:]
    a = rows.max(0) if fusion == "max" else rows.min(0)
    return a / a.sum()


def rollout_options(stack, prefix, discard, fusion):
    """vit-explain's rollout with its options, written again from its definition: per block
    the heads fused elementwise, the smallest `discard` fraction of the fused matrix's
    entries zeroed except the [CLS]->[CLS] one (flat index 0), (A + I) / 2 with each row
    divided by its own sum (the keepdim its issue #16 reports, corrected), the product
    taken from the first block on, and the [CLS] row over the patches renormalised."""
    tokens = stack[0].shape[1]
    result = np.eye(tokens)
    for attention in stack:
        fused = {"mean": attention.mean(0), "max": attention.max(0), "min": attention.min(0)}[fusion]
        flat = fused.reshape(-1).copy()
        drop = np.argsort(flat, kind="stable")[:int(flat.size * discard)]
        flat[drop[drop != 0]] = 0
        a = (flat.reshape(tokens, tokens) + np.eye(tokens)) / 2
        a = a / a.sum(axis=-1, keepdims=True)
        result = a @ result
    row = np.maximum(result[0, prefix:], 0)
    return row / row.sum()


def rollout(stack, prefix):
    tokens = stack[0].shape[1]
    result = np.eye(tokens)
    for attention in stack:
        a = 0.5 * attention.mean(0) + 0.5 * np.eye(tokens)
        a = a / a.sum(1, keepdims=True)
        result = a @ result
    row = np.maximum(result[0, prefix:], 0)
    return row / row.sum()


class ReferenceSimPool(torch.nn.Module):
    """SimPool as the official module computes it, in float64."""

    def __init__(self, dim, heads, gamma, beta, learned, wq=None, wk=None, norm_w=None, norm_b=None, temperature=1.0):
        super().__init__()
        self.heads, self.gamma, self.beta, self.temperature = heads, gamma, beta, temperature
        self.norm = torch.nn.LayerNorm(dim, eps=1e-6, elementwise_affine=learned, dtype=torch.float64)
        self.wq = torch.nn.Linear(dim, dim, bias=False, dtype=torch.float64)
        self.wk = torch.nn.Linear(dim, dim, bias=False, dtype=torch.float64)
        with torch.no_grad():
            if learned:
                self.wq.weight.copy_(torch.from_numpy(wq))
                self.wk.weight.copy_(torch.from_numpy(wk))
                self.norm.weight.copy_(torch.from_numpy(norm_w))
                self.norm.bias.copy_(torch.from_numpy(norm_b))
            else:
                self.wq.weight.copy_(torch.eye(dim, dtype=torch.float64))
                self.wk.weight.copy_(torch.eye(dim, dtype=torch.float64))

    def forward(self, x):                                  # x: [N, d]
        n, d = x.shape
        h, dh = self.heads, d // self.heads
        q = self.wq(x.mean(0, keepdim=True)).reshape(1, h, dh).permute(1, 0, 2)       # [h, 1, dh]
        normed = self.norm(x)
        k = self.wk(normed).reshape(n, h, dh).permute(1, 0, 2)                         # [h, N, dh]
        v = normed.reshape(n, h, dh).permute(1, 0, 2)
        attention = ((q @ k.transpose(-2, -1)) * dh ** -0.5 / self.temperature).softmax(-1)   # [h, 1, N]
        if self.gamma is not None:
            out = (attention @ (v - v.min() + 1e-6) ** self.gamma) ** (1 / self.gamma)
            if self.beta is not None:
                out = out + self.beta
        else:
            out = attention @ v
        return out.reshape(-1), attention[:, 0, :].mean(0)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2023)
    tensors, cases = {}, []

    def add(name, array):
        tensors[name] = np.ascontiguousarray(array, dtype=np.float32)
        return name

    feature_sets = {"single": (1, 4, (1, 1)), "grid3x4": (12, 6, (3, 4)), "grid7x7": (49, 16, (7, 7)),
                    "grid2x3wide": (6, 24, (2, 3))}
    for key, (n, d, grid) in feature_sets.items():
        x = (rng.standard_normal((n, d)) * 1.5 + 0.3).astype(np.float32)
        add(key + ".features", x)
        x64 = x.astype(np.float64)

        def case(method, pooled, weights, signed=None, **extra):
            name = "%s|%s" % (key, method) + ("|beta=%g" % extra["beta"] if extra.get("beta") is not None else "")
            entry = {"id": name, "method": method, "features": key + ".features", "grid": list(grid),
                     "pooled": add(name + ".pooled", pooled), "map": add(name + ".map", weights)}
            if signed is not None:
                entry["signed"] = add(name + ".signed", signed)
            entry.update(extra)
            cases.append(entry)

        case("gap", *gap(x64))
        case("max", *max_pool(x64))
        for p in (1, 3, 10):
            case("gem:p=%d" % p, *gem(x64, p))
        for r in (0.5, 10):
            case("lse:r=%g" % r, *lse(x64, r))
        for lam in (0.5, 1000):
            case("gmp:lambda=%g" % lam, *gmp(x64, lam))
        case("how", *how(x64))

        xt = torch.from_numpy(x64)
        for gamma in (None, 1.25, 2.0):
            text = "none" if gamma is None else "%g" % gamma
            for heads in ([1, 2] if d % 2 == 0 else [1]):
                pooled, weights = ReferenceSimPool(d, heads, gamma, None, learned=False)(xt)
                spec = "simpool-np:gamma=%s" % text + (",heads=%d" % heads if heads != 1 else "")
                case(spec, pooled.detach().numpy(), weights.detach().numpy())
            pooled, weights = ReferenceSimPool(d, 1, gamma, None, learned=False, temperature=0.5)(xt)
            case("simpool-np:gamma=%s,temperature=0.5" % text, pooled.detach().numpy(), weights.detach().numpy())
            for beta in ((None, 0.37) if gamma is not None else (None,)):
                for heads in ([1, 2] if d % 2 == 0 else [1]):
                    wq = rng.standard_normal((d, d)) / np.sqrt(d)
                    wk = rng.standard_normal((d, d)) / np.sqrt(d)
                    norm_w = 1 + 0.2 * rng.standard_normal(d)
                    norm_b = 0.1 * rng.standard_normal(d)
                    stem = "%s|simpool|%s|%s|%d" % (key, text, beta, heads)
                    head = {"wq": add(stem + ".wq", wq), "wk": add(stem + ".wk", wk),
                            "norm_weight": add(stem + ".norm_weight", norm_w), "norm_bias": add(stem + ".norm_bias", norm_b)}
                    # The reference reads the same float32-rounded weights the engine reads.
                    module = ReferenceSimPool(d, heads, gamma, beta, True,
                                              *(tensors[head[k]].astype(np.float64) for k in ("wq", "wk", "norm_weight", "norm_bias")))
                    pooled, weights = module(xt)
                    spec = "simpool:gamma=%s" % text + (",heads=%d" % heads if heads != 1 else "")
                    case(spec, pooled.detach().numpy(), weights.detach().numpy(), head=head, beta=beta)

    # Attention-based methods on random attention: 3 heads, 3×4 patches, 1 or 3 prefix tokens.
    for prefix in (1, 3):
        n, heads = 12, 3
        tokens = prefix + n
        stack = [softmax(rng.standard_normal((heads, tokens, tokens)) * 2) for _ in range(3)]
        features = rng.standard_normal((n, 8)).astype(np.float32)
        class_token = rng.standard_normal(8).astype(np.float32)
        key = "attention%d" % prefix
        names = [add("%s.block%d" % (key, i), a) for i, a in enumerate(stack)]
        add(key + ".features", features)
        add(key + ".class_token", class_token)
        f64 = features.astype(np.float64)
        stack32 = [tensors[name].astype(np.float64) for name in names]
        for head in (None, 1):
            weights = cls(stack32[-1], prefix, head)
            method = "cls" if head is None else "cls@head2"
            cases.append({"id": "%s|%s" % (key, method), "method": "cls", "head": head, "features": key + ".features",
                          "grid": [3, 4], "attention": names, "prefix": prefix, "class_token": key + ".class_token",
                          "pooled": key + ".class_token", "map": add("%s|%s.map" % (key, method), weights)})
        for fusion in ("max", "min"):
            weights = cls_fused(stack32[-1], prefix, fusion)
            method = "cls@" + fusion
            cases.append({"id": "%s|%s" % (key, method), "method": "cls", "head": None, "head_fusion": fusion,
                          "features": key + ".features", "grid": [3, 4], "attention": names, "prefix": prefix,
                          "class_token": key + ".class_token", "pooled": key + ".class_token",
                          "map": add("%s|%s.map" % (key, method), weights)})
        weights = rollout(stack32, prefix)
        cases.append({"id": key + "|rollout", "method": "rollout", "head": None, "features": key + ".features",
                      "grid": [3, 4], "attention": names, "prefix": prefix, "class_token": key + ".class_token",
                      "pooled": add(key + "|rollout.pooled", weights @ f64), "map": add(key + "|rollout.map", weights)})
        for discard, fusion in ((0.0, "max"), (0.9, "mean"), (0.9, "max"), (0.5, "min")):
            method = "rollout:discard=%g,fusion=%s" % (discard, fusion)
            weights = rollout_options(stack32, prefix, discard, fusion)
            cases.append({"id": "%s|%s" % (key, method), "method": method, "head": None, "features": key + ".features",
                          "grid": [3, 4], "attention": names, "prefix": prefix, "class_token": key + ".class_token",
                          "pooled": add("%s|%s.pooled" % (key, method), weights @ f64),
                          "map": add("%s|%s.map" % (key, method), weights)})
        # The defaults of rollout_options are plain rollout.
        assert np.allclose(rollout_options(stack32, prefix, 0.0, "mean"), rollout(stack32, prefix))

    assert len({c["id"] for c in cases}) == len(cases), "case ids must be unique"
    save_file(tensors, os.path.join(OUT, "cases.safetensors"))
    # One learned head as a checkpoint under the DINO variant's prefix (with β), for `pool --weights`.
    learned = next(c for c in cases if c["id"] == "grid3x4|simpool:gamma=1.25|beta=0.37")
    head = {"simpool.wq.weight": tensors[learned["head"]["wq"]], "simpool.wk.weight": tensors[learned["head"]["wk"]],
            "simpool.norm_patches.weight": tensors[learned["head"]["norm_weight"]],
            "simpool.norm_patches.bias": tensors[learned["head"]["norm_bias"]],
            "simpool.beta": np.array([0.37], dtype=np.float32)}
    save_file(head, os.path.join(OUT, "simpool_head_beta.safetensors"))

    # The 3×4 grid's features as NumPy writes them for users: float64, Fortran order, [h, w, d].
    grid = tensors["grid3x4.features"].astype(np.float64).reshape(3, 4, 6)
    np.save(os.path.join(OUT, "grid3x4_f64_fortran.npy"), np.asfortranarray(grid))
    np.save(os.path.join(OUT, "grid3x4_channels_first.npy"), np.ascontiguousarray(grid.transpose(2, 0, 1)).astype(np.float32))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print("%d pooling cases written under Tests/Fixtures/pooling" % len(cases))


if __name__ == "__main__":
    main()

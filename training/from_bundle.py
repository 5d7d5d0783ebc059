"""Rebuilds a training checkpoint from a bundle's ONNX files, so that a shipped bundle can be fine-tuned (or packed
for a lent GPU, training/gpu/pack) on a machine that never held the checkpoint it was exported from: training/runs
is not in git.

  /usr/bin/python3 training/from_bundle.py [BUNDLE] OUT.pt [--compare CKPT]
  (BUNDLE defaults to models/default)

How: the model is built from the manifest (dims, KAN grid, streams) and the initializers' names (the image
encoder's, decoder's and trunk's widths and depths, the backbone depths), its parameters are filled with distinct
random values, and every stage is exported as export.py exports it. Each parameter is then found in that export
as an initializer, as it is or transposed (a Linear on a sequence is a MatMul on its transposed weight), and takes
the bundle's initializer of the same name. A KAN layer's spline weight and spline scale are exported as their
product: the rebuilt layer carries the product in spline_weight with a scale of 1, the same function.

Checks, each fatal: the bundle's initializers are the fresh export's (names and shapes), every parameter is found,
the rebuilt model exports to the bundle's initializers value for value, and its outputs on the bundle's reference
cases (testdata/pipeline.json: the largest logit of every read-out slot, the reconstruction MSE) are the ones
stored there, to 1e-4 (sums run in another order on another machine or thread count). --compare CKPT also checks
that the rebuilt weights are CKPT's (the KAN pair by its product).
"""

import argparse
import json
import os
import re
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data.vocab import vocabs  # noqa: E402
from export import export_stage, stage_list  # noqa: E402
from models import M4SC  # noqa: E402
from models.kan import KANLinear  # noqa: E402
from reference import pipeline_cases  # noqa: E402


class BundleMismatch(SystemExit):
    pass


def initializers(path: str) -> dict:
    """name -> numpy array of an ONNX file's initializers."""
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}


def depth(names, pattern: str) -> int:
    return sum(1 for n in names if re.fullmatch(pattern, n))


def model_config(manifest: dict, inits: dict) -> dict:
    """M4SC's constructor arguments for the bundle: dims, projector and KAN grid from the manifest, the private
    stream's parts from manifest.streams, and the sizes from the initializers' names and shapes."""
    dims, kan = manifest["dims"], manifest["kan"]
    private = manifest.get("streams", {}).get("private", {})
    enc, dec = inits["image_encoder"], inits["image_decoder"]
    sizes = {"enc_width": enc["cnn.2.weight"].shape[0], "enc_blocks": depth(enc, r"cnn\.\d+\.c1\.weight"),
             "dec_width": dec["inp.weight"].shape[0], "dec_blocks": depth(dec, r"body\.\d+\.c1\.weight"),
             "public_depth": depth(inits["public_encoder"], r"stack\.blocks\.\d+\.n1\.weight"),
             "private_depth": depth(inits["private_encoder"], r"stack\.blocks\.\d+\.n1\.weight")}
    if "trunk" in private:
        tr = inits["private_trunk"]
        sizes.update(trunk_enc_width=tr["image_encoder.cnn.2.weight"].shape[0],
                     trunk_enc_blocks=depth(tr, r"image_encoder\.cnn\.\d+\.c1\.weight"))
    return dict(D=dims["D"], C=dims["C"], P=dims["P"], projector=kan["projector"],
                kan={"grid_size": kan["gridSize"], "spline_order": kan["splineOrder"], "grid_range": tuple(kan["range"])},
                sizes={k: int(v) for k, v in sizes.items()}, private_coder="channel_encoder" in private,
                private_trunk="trunk" in private)


def views(module: torch.nn.Module) -> list:
    """[(parameter names, the value export.py writes for them, inverse)]: each parameter as it is, except a KAN
    layer's spline pair, exported as the product (spline_weight_eff, flattened to [out, in*(G+K)])."""
    out, done = [], set()
    for name, sub in module.named_modules():
        if isinstance(sub, KANLinear):
            pre = f"{name}." if name else ""
            w, s = pre + "spline_weight", pre + "spline_scaler"
            shape = tuple(sub.spline_weight.shape)
            eff = sub.spline_weight_eff().detach().reshape(sub.out_features, -1)
            out.append(((w, s), eff, lambda v, shape=shape: (torch.from_numpy(v).reshape(shape),
                                                            torch.ones(shape[:2]))))
            done |= {w, s}
    for name, p in module.named_parameters():
        if name not in done:
            out.append(((name,), p.detach(), lambda v: (torch.from_numpy(v),)))
    return out


def locate(value: torch.Tensor, fresh: dict) -> tuple[str, bool]:
    """The fresh export's initializer holding `value`, and whether it is transposed there."""
    v = value.numpy()
    for name, arr in fresh.items():
        if arr.shape == v.shape and np.array_equal(arr, v):
            return name, False
        if v.ndim == 2 and arr.shape == v.T.shape and np.array_equal(arr, v.T):
            return name, True
    return "", False


def rebuild(bundle: str) -> dict:
    manifest = json.load(open(f"{bundle}/manifest.json"))
    tok = json.load(open(f"{bundle}/tokenizer.json"))
    files = {**{n: s["file"] for n, s in manifest["stages"].items()},
             **{f"private_{r}": s["file"] for r, s in manifest.get("streams", {}).get("private", {}).items()
                if isinstance(s, dict)}}
    inits = {n: initializers(f"{bundle}/{f}") for n, f in files.items()}
    cfg = model_config(manifest, inits)
    model = M4SC(tok, **cfg).eval()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():  # distinct values: each parameter is found where it is, and only there
            p.copy_(torch.randn(p.shape, generator=g))
    todo = stage_list(model.cfg, tok)
    if sorted(n for n, _, _ in todo) != sorted(files):
        raise BundleMismatch(f"{bundle}: the manifest names stages {sorted(files)}, its model exports "
                             f"{sorted(n for n, _, _ in todo)}")
    state = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, _ in todo:
            export_stage(model.stages[name], kind, model.cfg, tok, f"{tmp}/{name}.onnx")
            fresh, got = initializers(f"{tmp}/{name}.onnx"), inits[name]
            want = {n: a.shape for n, a in fresh.items()}
            if want != {n: a.shape for n, a in got.items()}:
                diff = sorted(set(want.items()) ^ {(n, a.shape) for n, a in got.items()})
                raise BundleMismatch(f"{bundle}/{files[name]}: its initializers are not those this model exports "
                                     f"(torch {torch.__version__}); differing: {diff[:6]}")
            for keys, value, inverse in views(model.stages[name]):
                where, transposed = locate(value, fresh)
                if not where:
                    raise BundleMismatch(f"{bundle}/{files[name]}: {name}.{keys[0]} is in no initializer of the "
                                         "export (folded with another value?)")
                v = got[where].T if transposed else got[where]
                for k, t in zip(keys, inverse(np.array(v, copy=True))):
                    state[f"stages.{name}.{k}"] = t
    for k, v in model.state_dict().items():
        state.setdefault(k, v)  # the buffers: the KAN grids, fixed by the manifest's grid (checked below)
    model.load_state_dict(state)
    check(model, tok, bundle, files, inits)
    training = manifest.get("training", {})
    return {"model": {k: v.clone() for k, v in model.state_dict().items()}, "cfg": model.cfg, "tok": tok,
            "step": training.get("steps"),
            "args": {"seed": training.get("seed", 1), "from_bundle": os.path.abspath(bundle),
                     "bundle_commit": training.get("commit", "")}}


def check(model, tok, bundle, files, inits) -> None:
    """The rebuilt model exports to the bundle's initializers exactly and reproduces its reference cases."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, _ in stage_list(model.cfg, tok):
            export_stage(model.stages[name], kind, model.cfg, tok, f"{tmp}/{name}.onnx")
            again = initializers(f"{tmp}/{name}.onnx")
            bad = [n for n, a in inits[name].items() if not np.array_equal(again[n], a)]
            if bad:
                raise BundleMismatch(f"{bundle}/{files[name]}: the rebuilt stage exports other values for {bad[:6]}")
    ref = json.load(open(f"{bundle}/testdata/pipeline.json"))["cases"]
    now = pipeline_cases(model, tok, vocabs(tok))["cases"]
    worst = 0.0
    for a, b in zip(ref, now):  # by value: the read-out ids of a barely trained model may sit on a near tie
        if "mse" in a:
            worst = max(worst, abs(a["mse"] - b["mse"]) / max(a["mse"], 1e-12))
        if "maxLogits" in a:
            worst = max(worst, float(np.max(np.abs(np.array(a["maxLogits"]) - np.array(b["maxLogits"])))))
    if len(ref) != len(now) or worst > 1e-4:
        raise BundleMismatch(f"{bundle}: the rebuilt model's reference outputs differ by {worst:.2e} "
                             f"({len(now)} cases, the bundle has {len(ref)})")
    print(f"checked: every initializer of {len(files)} stages re-exports exactly; {len(ref)} reference cases "
          f"reproduced (largest difference {worst:.1e})")


def compare(ck: dict, other: dict) -> None:
    """Every weight of `ck` is `other`'s; a KAN spline pair by its product."""
    a, b = ck["model"], other["model"]
    if set(a) != set(b):
        raise BundleMismatch(f"the checkpoints' entries differ: {sorted(set(a) ^ set(b))[:6]}")
    for k in a:
        if k.endswith("spline_scaler"):
            continue
        if k.endswith("spline_weight"):
            s = k[: -len("weight")] + "scaler"
            same = torch.equal(a[k] * a[s].unsqueeze(-1), b[k] * b[s].unsqueeze(-1))
        else:
            same = torch.equal(a[k], b[k])
        if not same:
            raise BundleMismatch(f"{k} differs from the compared checkpoint's")
    print(f"compared: all {len(a)} entries equal the checkpoint's")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", metavar="[BUNDLE] OUT.pt")
    ap.add_argument("--compare", default="", help="a checkpoint the bundle was exported from: check the weights")
    a = ap.parse_args()
    if len(a.paths) > 2:
        ap.error("at most two paths: [BUNDLE] OUT.pt")
    bundle, out = (a.paths if len(a.paths) == 2 else ["models/default", a.paths[0]])
    if not os.path.isfile(f"{bundle}/manifest.json"):
        ap.error(f"{bundle}: no manifest.json (not a bundle directory)")
    ck = rebuild(bundle)
    if a.compare:
        compare(ck, torch.load(a.compare, map_location="cpu", weights_only=False))
    torch.save(ck, out)
    print(f"{out}: rebuilt from {bundle} ({ck['step']} steps, sizes {ck['cfg']['sizes']})")


if __name__ == "__main__":
    main()

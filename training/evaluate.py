"""Measures a checkpoint on held-out data (whole held-out photos, the t10k split, held-out scene seeds,
held-out fortunes sentences) across channel conditions; writes the JSON that goes into manifest.evaluation.

  /usr/bin/python3 training/evaluate.py --ckpt training/runs/main.pt --out training/runs/eval.json
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data.vocab import vocabs  # noqa: E402
from models import M4SC  # noqa: E402
from pipeline import TASKS, evaluate  # noqa: E402
from train import load_tests  # noqa: E402

BASE = {"kind": "awgn", "snr_db": 10, "loss": 0, "bits": 0, "rate": 16, "packet": 0}


def conditions(C):
    """(name, channel) pairs; every task is measured under each."""
    out = [(f"awgn{s}dB", dict(BASE, snr_db=s)) for s in (0, 5, 10, 15, 20)]
    out += [("awgn10dB-loss20", dict(BASE, loss=0.2)), ("awgn10dB-loss50", dict(BASE, loss=0.5)),
            ("awgn10dB-loss20-packets16", dict(BASE, loss=0.2, packet=16)),
            ("rayleigh10dB", dict(BASE, kind="rayleigh")),
            (f"awgn10dB-rate{C // 2}", dict(BASE, rate=C // 2)), (f"awgn10dB-rate{C // 4}", dict(BASE, rate=C // 4)),
            ("q8-noiseless", dict(BASE, kind="none", bits=8, snr_db=40)),
            ("q4-noiseless", dict(BASE, kind="none", bits=4, snr_db=16))]
    return out


def load(path):
    ck = torch.load(path, map_location="cpu", weights_only=False)
    return M4SC.from_checkpoint(ck), ck["tok"], ck


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--classify-n", type=int, default=10000)
    ap.add_argument("--sweep-classify-n", type=int, default=2000)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, tok, ck = load(a.ckpt)
    V = vocabs(tok)
    C = ck["cfg"]["C"]
    t0 = time.time()
    full = load_tests(TASKS, V, {"classify": a.classify_n})
    head = evaluate(model, full, V, BASE)
    print("awgn10dB (full held-out sets)", json.dumps(head), flush=True)
    # the encoder is fully convolutional: 64x64 crops (16x16 tokens) of the same held-out photos
    from data.photos import TEST, crops
    from metrics import psnr, ssim
    x64 = torch.from_numpy(crops(TEST, 128, 3, size=64).transpose(0, 3, 1, 2).astype("float32") / 255.0)
    with torch.no_grad():
        g = torch.Generator().manual_seed(1234)
        r64 = model.forward_task("reconstruct", {"image": x64}, g, **BASE)
    head["reconstruct64x64"] = {"psnr": psnr(r64, x64), "ssim": ssim(r64, x64), "n": 128}
    print("reconstruct 64x64", json.dumps(head["reconstruct64x64"]), flush=True)
    sweep_tests = dict(full)
    b, raw = full["classify"]
    n = a.sweep_classify_n
    sweep_tests["classify"] = ({k: v[:n] for k, v in b.items()}, {k: v[:n] for k, v in raw.items()})
    res = {}
    for name, chan in conditions(C):
        res[name] = evaluate(model, sweep_tests, V, chan)
        print(name, json.dumps(res[name]), flush=True)
    sizes = {t: len(next(iter(full[t][0].values()))) for t in full}
    out = {
        "measuredBy": "training/evaluate.py", "checkpointSteps": ck.get("step"),
        "heldOut": {"reconstruct": f"{sizes['reconstruct']} crops (64..512 px -> 32x32) of held-out photos coffee, camera, gravel, rocket",
                    "classify": f"Fashion-MNIST t10k ({sizes['classify']} at 10 dB; first {n} elsewhere)",
                    "caption": f"{sizes['caption']} held-out scene seeds (seed % 10 == 9)",
                    "answer": f"{sizes['answer']} held-out scenes, one question each",
                    "transmit": f"{sizes['transmit']} held-out fortunes sentences (BLEU vs original words; *_invocab vs <unk>-mapped)"},
        "symbolsPerSample": {"reconstruct32x32": 64 * C, "private": ck["cfg"]["P"] * C},
        "channelDefaults": BASE,
        "awgn10dB": head,
        "conditions": res,
        "seconds": round(time.time() - t0),
    }
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {a.out} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()

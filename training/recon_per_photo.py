"""Reconstruction PSNR per photo (128 crops each, drawn as the held-out set is: side 64..512 px, box-resized to
32x32), at AWGN 10 dB, full rate, for the training photos and the four held-out ones: says whether the held-out
gap is the model overfitting its photos or the held-out photos being hard ones.

  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/bin/python3 training/recon_per_photo.py CKPT
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data.fashion import LABELS  # noqa: E402
from data.photos import STDLIB_TRAIN, TEST, TRAIN, crops  # noqa: E402
from data.vocab import vocabs  # noqa: E402
from evaluate import BASE, load  # noqa: E402
from pipeline import evaluate, prepare  # noqa: E402


def per_photo(model, V, paths, n=128, seed=2):
    """{photo: PSNR} through pipeline.evaluate, the held-out check's own forward pass and metric."""
    out = {}
    for p in paths:
        raw = {"image": crops([p], n, seed).transpose(0, 3, 1, 2).astype(np.float32) / 255.0}
        tests = {"reconstruct": (prepare("reconstruct", raw, V, LABELS), raw)}
        out[os.path.basename(p)] = round(evaluate(model, tests, V, BASE)["reconstruct"]["psnr"], 2)
    return out


def main(path):
    torch.set_num_threads(1)
    model, tok, _ = load(path)
    V = vocabs(tok)
    train = per_photo(model, V, [p for p in TRAIN + STDLIB_TRAIN if os.path.exists(p)])
    test = per_photo(model, V, TEST)
    print(json.dumps({"train": train, "trainMean": round(float(np.mean(list(train.values()))), 2),
                      "test": test, "testMean": round(float(np.mean(list(test.values()))), 2)}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])

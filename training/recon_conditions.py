"""Reconstruction PSNR of checkpoints under a few channel conditions (512 held-out crops, full rate unless named):
the quick check behind the channel-mix probes in README "What more training would give".

  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/bin/python3 training/recon_conditions.py CKPT...
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data.vocab import vocabs  # noqa: E402
from evaluate import BASE, load  # noqa: E402
from pipeline import evaluate  # noqa: E402
from train import load_tests  # noqa: E402

CONDITIONS = {"awgn0": dict(BASE, snr_db=0), "awgn5": dict(BASE, snr_db=5), "awgn10": BASE,
              "awgn20": dict(BASE, snr_db=20), "awgn10-loss20": dict(BASE, loss=0.2),
              "awgn10-rate8": dict(BASE, rate=8), "q8-20dB": dict(BASE, snr_db=20, bits=8)}


def main(paths):
    torch.set_num_threads(1)
    for path in paths:
        model, tok, _ = load(path)
        V = vocabs(tok)
        tests = load_tests(["reconstruct"], V, {})
        out = {name: round(evaluate(model, tests, V, chan)["reconstruct"]["psnr"], 2) for name, chan in CONDITIONS.items()}
        print(path, json.dumps(out), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])

"""Reconstruction PSNR of checkpoints under a few channel conditions (512 held-out crops, full rate unless named):
the quick check behind the channel-mix probes in README "What more training would give".

  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/bin/python3 training/recon_conditions.py CKPT...
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402,F401  (registration)
from data.fashion import LABELS  # noqa: E402
from data.vocab import vocabs  # noqa: E402
from models import M4SC  # noqa: E402
from pipeline import evaluate, prepare  # noqa: E402
from registry import build  # noqa: E402

CONDITIONS = {"awgn0": {"snr_db": 0}, "awgn5": {"snr_db": 5}, "awgn10": {"snr_db": 10}, "awgn20": {"snr_db": 20},
              "awgn10-loss20": {"snr_db": 10, "loss": 0.2}, "awgn10-rate8": {"snr_db": 10, "rate": 8},
              "q8-20dB": {"snr_db": 20, "bits": 8}}


def main(paths):
    torch.set_num_threads(1)
    raw = build("data", "reconstruct").test()
    for path in paths:
        ck = torch.load(path, map_location="cpu", weights_only=False)
        cfg, tok = ck["cfg"], ck["tok"]
        model = M4SC(tok, D=cfg["D"], C=cfg["C"], P=cfg["P"], projector=cfg["projector"], kan=cfg["kan"],
                     sizes=cfg["sizes"], private_coder=cfg.get("private_coder", False))
        model.load_state_dict(ck["model"])
        V = vocabs(tok)
        tests = {"reconstruct": (prepare("reconstruct", raw, V, LABELS), raw)}
        out = {}
        for name, ch in CONDITIONS.items():
            chan = {"snr_db": 10, "loss": 0, "kind": "awgn", "bits": 0, "rate": 16, "packet": 0, **ch}
            out[name] = round(evaluate(model, tests, V, chan)["reconstruct"]["psnr"], 2)
        print(path, json.dumps(out), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])

"""Trains the M4SC model (all tasks at once, or a subset for the ablations) through simulated channels.

  /usr/bin/python3 training/train.py --steps 6000 --out training/runs/main.pt
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
from data.fashion import LABELS  # noqa: E402
from data.vocab import vocabs  # noqa: E402
from models import M4SC  # noqa: E402
from pipeline import TASKS, evaluate, prepare  # noqa: E402
from registry import build  # noqa: E402

WEIGHTS = {"reconstruct": 20.0, "classify": 1.0, "caption": 1.0, "answer": 1.0, "transmit": 1.0}


def load_tests(tasks, V, n):
    tests = {}
    for t in tasks:
        src = build("data", t)
        raw = src.test(n.get(t))
        tests[t] = (prepare(t, raw, V, LABELS), raw)
    return tests


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--minutes", type=float, default=0, help="stop after this wall time (0 = no limit)")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--projector", default="kan", choices=["kan", "mlp"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--photos", type=int, default=20000)
    ap.add_argument("--test-frac", type=float, default=1.0, help="shrink the periodic held-out check (smoke)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    tasks = a.tasks.split(",")
    print(json.dumps({"cmd": " ".join(sys.argv), "seed": a.seed, "args": vars(a)}), flush=True)

    fort = build("data", "transmit")
    tok = data.build_tokenizer(fort)
    V = vocabs(tok)
    srcs = {t: (fort if t == "transmit" else build("data", t, n_train=a.photos) if t == "reconstruct" else build("data", t))
            for t in tasks}
    model = M4SC(tok, projector=a.projector)
    if a.init:
        model.load_state_dict(torch.load(a.init)["model"])
    nparam = sum(p.numel() for p in model.parameters())
    print(f"params {nparam}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    small = {"reconstruct": 256, "classify": 1000, "caption": 300, "answer": 500, "transmit": 300}
    small = {k: max(8, int(v * a.test_frac)) for k, v in small.items()}
    tests = load_tests(tasks, V, small)
    t0 = time.time()
    run = {t: 0.0 for t in tasks}
    step = 0
    for step in range(1, a.steps + 1):
        frac = step / a.steps
        if a.minutes:
            frac = max(frac, (time.time() - t0) / (60 * a.minutes))
        lr = a.lr * min(1.0, step / 200) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        for t in tasks:
            b = prepare(t, srcs[t].batch(rng, a.batch), V, LABELS)
            out = model.forward_task(t, b, gen)
            loss = model.loss(t, b, out)
            (WEIGHTS[t] * loss).backward()
            run[t] = 0.98 * run[t] + 0.02 * loss.item() if step > 1 else loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % a.log_every == 0:
            el = time.time() - t0
            print(f"step {step} {el:.0f}s {step / el:.2f}it/s lr {lr:.2e} " +
                  " ".join(f"{t}={v:.4f}" for t, v in run.items()), flush=True)
        if step % a.eval_every == 0 or frac >= 1.0:
            r = evaluate(model, tests, V, {"snr_db": 10, "loss": 0, "kind": "awgn", "bits": 0, "rate": 16, "packet": 0})
            print(f"eval step {step} awgn10dB " + json.dumps(r), flush=True)
            torch.save({"model": model.state_dict(), "cfg": model.cfg, "tok": tok, "step": step, "args": vars(a)}, a.out)
        if frac >= 1.0:
            break
    torch.save({"model": model.state_dict(), "cfg": model.cfg, "tok": tok, "step": step, "args": vars(a)}, a.out)
    print(f"done {step} steps in {time.time() - t0:.0f}s -> {a.out}", flush=True)


if __name__ == "__main__":
    main()

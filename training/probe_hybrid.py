"""Probe: a linear analog code (training/linear_bound.py's b x b KLT with the LMMSE power allocation for the channel's
SNR, the sample scaled to mean symbol power 1), with or without the sample's scale at the receiver (--scale),
followed by a learned refinement CNN (residual, conditioned on the SNR) trained on the training photos' crops. It
asks whether such a hybrid reaches the reconstruct targets on the held-out crops, and what the scale is worth.

Nothing here ships; the bundle's stages are not touched.

    . training/env; $PY training/probe_hybrid.py \\
        --block 8 --steps 6000 --out training/runs/probe/hybrid/b8.pt
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data.photos import Photos  # noqa: E402
from linear_bound import fit, waterfill  # noqa: E402


class Klt(nn.Module):
    """b x b block KLT (fitted on training crops), its first k = b*b planes, and the LMMSE allocation per SNR."""

    def __init__(self, train: np.ndarray, b: int):
        super().__init__()
        mean, lam, V = fit(train, b)
        self.b, self.k = b, b * b
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("V", torch.tensor(V, dtype=torch.float32))
        self.register_buffer("lam", torch.tensor(lam, dtype=torch.float32))
        grid = np.arange(0, 20.01, 0.25)
        gains = [np.sqrt(waterfill(lam, 10 ** (-s / 10), self.k) / lam) for s in grid]
        self.register_buffer("grid", torch.tensor(grid, dtype=torch.float32))
        self.register_buffer("gains", torch.tensor(np.array(gains), dtype=torch.float32))

    def learnable(self):
        """Makes the code trainable from the KLT and the LMMSE allocation: the analysis and synthesis matrices
        (apart), the mean, and the log gains per SNR grid point. The receiver's estimator keeps the LMMSE form
        for the (learnt) gains and the fitted variances; the per-sample power normalisation stays."""
        V, gains, mean = self.V, self.gains, self.mean
        del self.V, self.gains, self.mean
        self.Va = nn.Parameter(V.clone())
        self.Vs = nn.Parameter(V.clone())
        self.mean = nn.Parameter(mean.clone())
        self.loggain = nn.Parameter(torch.log(gains + 1e-3))
        return self

    @property
    def learnt(self):
        return hasattr(self, "loggain")

    def gain(self, snr):  # [B] -> [B,k], nearest grid point
        i = torch.round((snr.clamp(0, 20) - self.grid[0]) / 0.25).long()
        return torch.exp(self.loggain[i]) if self.learnt else self.gains[i]

    def analyse(self, img):  # [B,3,H,W] -> [B,T,k]
        B, C, H, W = img.shape
        b = self.b
        x = img.permute(0, 2, 3, 1).reshape(B, H // b, b, W // b, b, C).permute(0, 1, 3, 2, 4, 5)
        return (x.reshape(B, -1, b * b * C) - self.mean) @ (self.Va if self.learnt else self.V)

    def synthesise(self, z, H, W):  # [B,T,k] -> [B,3,H,W]
        B, b = z.shape[0], self.b
        x = (z @ (self.Vs if self.learnt else self.V).T + self.mean).reshape(B, H // b, W // b, b, b, 3).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(B, H, W, 3).permute(0, 3, 1, 2)

    def transmit(self, img, snr, gen, known=False):
        """Encode, scale the sample to mean power 1, AWGN, LMMSE: [B,3,H,W]. known=False: the receiver assumes
        the scale 1; known=True: it has the sample's scale (side information: one number per sample)."""
        z = self.analyse(img)
        g = self.gain(snr)[:, None, :]
        x = z * g
        rms = torch.sqrt(torch.mean(x * x, dim=(1, 2), keepdim=True) + 1e-12)
        x = x / rms
        s2 = (10 ** (-snr / 10))[:, None, None]
        y = x + torch.randn(x.shape, generator=gen) * torch.sqrt(s2)
        if known:  # y * rms = z g + noise of variance s2 rms^2
            zh = y * rms * (g * self.lam / (g * g * self.lam + s2 * rms * rms))
        else:
            zh = y * (g * self.lam / (g * g * self.lam + s2))
        return self.synthesise(zh, img.shape[2], img.shape[3])


class Refine(nn.Module):
    """image [B,3,H,W] + SNR -> image: a residual CNN (FiLM by the SNR)."""

    def __init__(self, width=64, blocks=6):
        super().__init__()
        self.inp = nn.Conv2d(4, width, 3, padding=1)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.GELU(),
                                                  nn.Conv2d(width, width, 3, padding=1)) for _ in range(blocks))
        self.film = nn.Linear(1, 2 * width * blocks)
        self.out = nn.Conv2d(width, 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, img, snr):
        s = (snr / 20.0)[:, None]
        h = self.inp(torch.cat([img * 2 - 1, s[:, :, None, None].expand(-1, 1, *img.shape[2:])], 1))
        fs = self.film(s).chunk(2 * len(self.blocks), dim=1)
        for i, blk in enumerate(self.blocks):
            h = h + blk(h) * (1 + fs[2 * i][:, :, None, None]) + fs[2 * i + 1][:, :, None, None]
        return img + self.out(F.gelu(h))


def psnr(x, y):
    mse = ((x.clamp(0, 1) - y) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return float((10 * torch.log10(1 / mse)).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--block", type=int, default=8)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--minutes", type=float, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--scale", default="unknown", choices=["unknown", "known"],
                    help="whether the receiver has each sample's power scale (one number of side information)")
    ap.add_argument("--learn-linear", action="store_true",
                    help="train the linear code too (analysis, synthesis, mean, gains per SNR), end to end")
    ap.add_argument("--linear-lr", type=float, default=0.1, help="the linear code's lr, as a fraction of --lr")
    ap.add_argument("--init", help="a checkpoint of this script to start from (refinement, and linear code if learnt)")
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    print(json.dumps({"cmd": " ".join(sys.argv), "args": vars(a)}), flush=True)
    ph = Photos(n_train=200000, stdlib=True)
    klt = Klt(ph.x[:20000].astype(np.float64) / 255, a.block)
    net = Refine(a.width, a.blocks)
    print(f"refine params {sum(p.numel() for p in net.parameters())}", flush=True)
    if a.learn_linear:
        klt.learnable()
    if a.init:
        ck = torch.load(a.init)
        net.load_state_dict(ck["refine"])
        if "linear" in ck:
            if not klt.learnt:
                sys.exit(f"{a.init} has a learnt linear code: pass --learn-linear")
            klt.load_state_dict(ck["linear"])
        print(f"init from {a.init} (step {ck['step']})", flush=True)
    groups = [{"params": list(net.parameters()), "scale": 1.0}]
    if klt.learnt:
        groups.append({"params": list(klt.parameters()), "scale": a.linear_lr, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups, lr=a.lr, weight_decay=1e-4)
    test = torch.tensor(ph.test()["image"])
    rng = np.random.default_rng(a.seed)
    known = a.scale == "known"
    gen = torch.Generator().manual_seed(a.seed)

    def evaluate(step):
        net.eval()
        row = {}
        with torch.no_grad():
            for snr in (0, 5, 10, 20):
                g = torch.Generator().manual_seed(1234)
                s = torch.full((len(test),), float(snr))
                lin = klt.transmit(test, s, g, known)
                row[str(snr)] = {"linear": round(psnr(lin, test), 2), "refined": round(psnr(net(lin, s), test), 2)}
        net.train()
        print(f"eval step {step} " + json.dumps(row), flush=True)
        return row

    evaluate(0)
    t0 = time.time()
    step = 0
    for step in range(1, a.steps + 1):
        frac = step / a.steps
        if a.minutes:
            frac = max(frac, (time.time() - t0) / (60 * a.minutes))
        lr = a.lr * min(1.0, step / 200) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr * g["scale"]
        img = torch.tensor(ph.batch(rng, a.batch)["image"])
        snr = torch.rand(a.batch, generator=gen) * 20
        with torch.set_grad_enabled(klt.learnt):
            lin = klt.transmit(img, snr, gen, known)
        loss = F.mse_loss(net(lin, snr), img)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            el = time.time() - t0
            print(f"step {step} {el:.0f}s {step / el:.2f}it/s lr {lr:.2e} mse {loss.item():.5f}", flush=True)
        if step % a.eval_every == 0 or frac >= 1.0:
            evaluate(step)
            ck = {"refine": net.state_dict(), "args": vars(a), "step": step}
            if klt.learnt:
                ck["linear"] = klt.state_dict()
            torch.save(ck, a.out)
        if frac >= 1.0:
            break
    print(f"done {step} steps in {time.time() - t0:.0f}s -> {a.out}", flush=True)


if __name__ == "__main__":
    main()

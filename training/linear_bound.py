"""A linear analog code for the reconstruct target, on the same held-out crops (data/photos.py: the four held-out
photos, 512 crops, seed 2) and at the same bandwidth (k/n = 1/6: a third as many real symbols as pixel values).

No network is trained. Each b x b block of the image is turned into its KLT (PCA) coefficients, fitted on the
training photos' crops; the b*b*3/3 coefficients of largest variance are sent as real symbols over AWGN (noise
variance 10^(-SNR/10), mean symbol power 1, as in training and docs/EVAL.md) and estimated by LMMSE; the rest are
set to their mean. b = 4 is one token's 4x4 patch, 16 symbols per token, as the bundle's image path.

Power is allocated across the coefficient planes (plane c = the c-th coefficient of every block of a sample) by:
  - "waterfill": the LMMSE optimum for the planes' variances (p_c = sqrt(lam_c s2 / mu) - s2, sum p_c = k), and
    the sample's symbols scaled together to mean power 1; "known" = the receiver knows that one scale (a side
    number per sample), "unknown" = it assumes the mean;
  - "plane": every plane normalised to mean power 1 over the sample's blocks, as the shipped channel encoder
    does (models/stages.py ChannelEncoder, norm "plane"); "known" = the receiver knows each plane's scale (a
    genie: 16 numbers per sample), "unknown" = it assumes each plane's median.

With --erasures P (8x8 blocks, waterfill, scale known), each symbol is also erased with probability P (i.i.d.:
the best a packetiser that spreads every block's coefficients over the packets can do) and the receiver
estimates by "zero" (a lost coefficient is set to its mean, the per-block LMMSE otherwise) or "joint" (one LMMSE
over the whole crop's surviving symbols, with the coefficients' covariance across blocks fitted on the training
crops: neighbouring blocks' coefficients stand in for lost ones).

    . training/env; $PY training/linear_bound.py \\
        [--blocks 4,8] [--snrs 0,5,10,20] [--erasures 0,0.2] [--json training/runs/linear_bound.json]
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data.photos import STDLIB_TRAIN, TEST, TRAIN, crops  # noqa: E402


def blocks(a, b):
    """[n,H,W,3] -> [n, (H/b)(W/b), b*b*3]."""
    n, H, W, C = a.shape
    return a.reshape(n, H // b, b, W // b, b, C).transpose(0, 1, 3, 2, 4, 5).reshape(n, (H // b) * (W // b), b * b * C)


def unblocks(v, b, H, W):
    n = v.shape[0]
    return v.reshape(n, H // b, W // b, b, b, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, H, W, 3)


def psnr(x, ref):
    mse = ((np.clip(x, 0, 1) - ref) ** 2).reshape(len(ref), -1).mean(1)
    return float(np.mean(10 * np.log10(1 / np.maximum(mse, 1e-10))))


def waterfill(lam, s2, total):
    """LMMSE power allocation: p = max(0, sqrt(lam s2 / mu) - s2) with sum p = total (bisection on mu)."""
    lo, hi = 1e-12, 1e12
    for _ in range(200):
        mu = np.sqrt(lo * hi)
        p = np.maximum(0, np.sqrt(lam * s2 / mu) - s2)
        lo, hi = (mu, hi) if p.sum() > total else (lo, mu)
    return p


def fit(train, b):
    """The b x b block KLT's mean, first k = b*b directions and their variances, from the training crops."""
    X = blocks(train, b).reshape(-1, b * b * 3)
    mean = X.mean(0)
    lam, V = np.linalg.eigh(np.cov((X - mean).T))
    order = np.argsort(lam)[::-1]
    k = b * b  # a third of b*b*3
    return mean, lam[order][:k], V[:, order][:, :k]


def erasures(train, test, b, snrs, ps, seed=0):
    """Waterfill, scale known, symbols erased i.i.d. with probability p: per-block ("zero") and whole-crop
    ("joint") LMMSE."""
    mean, lam, V = fit(train, b)
    k = b * b
    Ztr = ((blocks(train, b) - mean) @ V).reshape(len(train), -1)  # [n, T*k], block-major
    S = Ztr.T @ Ztr / len(Ztr)
    Z = ((blocks(test, b) - mean) @ V)
    n, T = Z.shape[:2]
    H, W = test.shape[1:3]
    out = {}
    z = Z.reshape(n, -1)
    lam_t = np.tile(lam, T)
    for snr in snrs:
        s2 = 10 ** (-snr / 10)
        g = np.tile(np.sqrt(waterfill(lam, s2, k) / lam), T)  # [T*k]
        x = z * g
        a = 1 / np.sqrt(np.mean(x**2, axis=1, keepdims=True))
        for p in ps:
            rng = np.random.default_rng(seed)
            y = (x * a + rng.normal(0, np.sqrt(s2), x.shape)) / a  # scale known: y = g z + noise / a
            keep = rng.random(x.shape) >= p
            zero = np.where(keep, y * (g * lam_t / (g * g * lam_t + s2 / a**2)), 0)
            joint = np.empty_like(z)
            for i in range(n):
                s_ = keep[i]
                gs = g[s_]
                A = S[np.ix_(s_, s_)] * gs[:, None] * gs[None, :] + np.eye(s_.sum()) * (s2 / a[i, 0] ** 2)
                joint[i] = S[:, s_] @ (gs * np.linalg.solve(A, y[i, s_]))
            img = lambda zz: unblocks(zz.reshape(n, T, k) @ V.T + mean, b, H, W)  # noqa: E731
            row = {"zero": round(psnr(img(zero), test), 2), "joint": round(psnr(img(joint), test), 2)}
            out[f"{snr:g}dB/p{p:g}"] = row
            print(f"block {b}x{b}, waterfill/known, AWGN {snr:g} dB, symbol erasures {p:g}: "
                  f"zero {row['zero']:.2f}  joint {row['joint']:.2f}", flush=True)
    return out


def run(train, test, b, snrs, seed=0):
    mean, lam, V = fit(train, b)
    k = b * b
    Z = (blocks(test, b) - mean) @ V  # [n, blocks, k]
    Ztr = (blocks(train[:4000], b) - mean) @ V
    n, T = Z.shape[:2]
    H, W = test.shape[1:3]
    out = {}
    for snr in snrs:
        s2 = 10 ** (-snr / 10)
        rng = np.random.default_rng(seed)
        noise = rng.normal(0, np.sqrt(s2), Z.shape)
        row = {}
        # waterfill: gains g_c from the planes' training variances, then one scale a per sample to mean power 1
        g = np.sqrt(waterfill(lam, s2, k) / lam)
        X1 = Z * g
        a = 1 / np.sqrt(np.mean(X1**2, axis=(1, 2), keepdims=True))
        Y = X1 * a + noise
        for mode, ae in (("known", a), ("unknown", np.ones_like(a))):
            ge = g * ae
            row[f"waterfill/{mode}"] = psnr(unblocks((Y * (ge * lam / (ge * ge * lam + s2))) @ V.T + mean, b, H, W), test)
        # plane: each plane to mean power 1 over the sample's blocks
        E = np.mean(Z**2, axis=1, keepdims=True)  # [n,1,k]
        Y = Z / np.sqrt(E + 1e-12) + noise
        for mode, Ee in (("known", E), ("unknown", np.median(np.mean(Ztr**2, axis=1), 0)[None, None, :])):
            ge = 1 / np.sqrt(Ee + 1e-12)
            row[f"plane/{mode}"] = psnr(unblocks((Y * (ge * Ee / (ge * ge * Ee + s2))) @ V.T + mean, b, H, W), test)
        out[str(snr)] = {m: round(v, 2) for m, v in row.items()}
        print(f"block {b}x{b}, {k} symbols/block, AWGN {snr} dB: " +
              "  ".join(f"{m} {v:.2f}" for m, v in out[str(snr)].items()), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blocks", default="4,8", help="block sides, dividing 32")
    ap.add_argument("--snrs", default="0,5,10,20")
    ap.add_argument("--train-crops", type=int, default=20000)
    ap.add_argument("--erasures", default="", help="symbol erasure rates for the 8x8 erasure table, e.g. 0,0.2")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    bs = [int(x) for x in a.blocks.split(",")]
    if any(b < 1 or 32 % b for b in bs):
        raise SystemExit(f"--blocks: each side must divide 32, got {a.blocks}")
    snrs = [float(x) for x in a.snrs.split(",")]
    missing = [p for p in TRAIN + STDLIB_TRAIN + TEST if not os.path.exists(p)]
    if missing:
        raise SystemExit(f"photos missing (training/setup installs them): {missing}")
    train = crops(TRAIN + STDLIB_TRAIN, a.train_crops, 1).astype(np.float64) / 255
    test = crops(TEST, 512, 2).astype(np.float64) / 255
    res = {"command": " ".join(sys.argv), "heldOut": "data/photos.py TEST, 512 crops, seed 2", "kOverN": "1/6",
           "blocks": {str(b): run(train, test, b, snrs) for b in bs}}
    if a.erasures:
        res["erasures8"] = erasures(train, test, 8, snrs, [float(x) for x in a.erasures.split(",")])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()

"""Probe (2026-12-02): does a cross-block (joint) LMMSE over group 0 help the public image code under packet loss?
32x32 held-out crops (2x2 blocks), 20 dB, 8 packets, loss 0.2 (and 4 packets); groups 1-2 per block as the runtime.
Result (training/README, "The public image code"): +0.4-0.6 dB at 20 % loss, nothing loss-free.

    . training/env; OMP_NUM_THREADS=1 $PY training/probe_code_joint.py   (from the repository root, ~5 min)
"""
import sys; sys.path.insert(0, 'training')
import numpy as np
import image_code as ic
from data.photos import STDLIB_TRAIN, TEST, TRAIN, crops
from linear_bound import fit, blocks, unblocks, waterfill, psnr
train = crops(TRAIN + STDLIB_TRAIN, 20000, 1).astype(np.float64) / 255
mean, lam, V = fit(train, 16)
Q = ic.read_mixing()
Ztr = (blocks(train, 16) - mean) @ V            # [n, 4, 256]
W0 = (Ztr[:, :, :64] / np.sqrt(lam[:64])).reshape(len(Ztr), -1)   # whitened group 0 of the 4 blocks
S = W0.T @ W0 / len(W0)                          # [256, 256] cross-block covariance (whitened)
test = crops(TEST, 256, 2).astype(np.float64) / 255
Z = (blocks(test, 16) - mean) @ V
pos, _, T = ic.positions(2, 2)
def run(snr, loss, packets, joint, seed=3):
    s2 = 10 ** (-snr / 10)
    g = np.sqrt(waterfill(lam, s2, 256) / lam); d = g * np.sqrt(lam)
    rng = np.random.default_rng(seed); zh = np.zeros_like(Z)
    for i in range(len(test)):
        x = Z[i] * g
        slots = np.concatenate([x[:, s:e] @ q.T for (s, e), q in zip(ic.GROUPS, Q)], axis=1)
        y = np.zeros(16 * T); y[pos.ravel()] = slots.ravel()
        a = np.sqrt(len(y) / np.sum(y ** 2)); y = y * a + rng.normal(0, np.sqrt(s2), y.shape)
        idx = np.arange(16 * T); c, t = idx // T, idx % T
        lost = rng.random(packets) < loss
        mask = ~lost[(t + c) % packets]
        noise = s2 / a ** 2; Y = (y / a)[pos]; M = mask[pos]
        for (gi, ((s, e), q)) in enumerate(zip(ic.GROUPS, Q)):
            if gi == 0 and joint:
                rows = []; ys = []
                for b in range(4):
                    kk = M[b, s:e]
                    A = np.zeros((kk.sum(), 256)); A[:, b * 64:(b + 1) * 64] = q[kk] * d[s:e]
                    rows.append(A); ys.append(Y[b, s:e][kk])
                A = np.concatenate(rows); yy = np.concatenate(ys)
                w = S @ A.T @ np.linalg.solve(A @ S @ A.T + noise * np.eye(len(yy)), yy)
                zh[i, :, s:e] = w.reshape(4, 64) * np.sqrt(lam[s:e])
                continue
            for b in range(4):
                kk = M[b, s:e]
                if not kk.any(): continue
                A = q[kk] * d[s:e]
                w = np.linalg.solve(A.T @ A + noise * np.eye(e - s), A.T @ Y[b, s:e][kk])
                zh[i, b, s:e] = np.sqrt(lam[s:e]) * w
    return round(psnr(unblocks(zh @ V.T + mean, 16, 32, 32), test), 2)
for packets in (8, 4):
    print(f"{packets} packets, 20 dB: loss 0 per-block {run(20, 0, packets, False)} joint {run(20, 0, packets, True)}; "
          f"loss 0.2 per-block {run(20, 0.2, packets, False)} joint {run(20, 0.2, packets, True)}", flush=True)

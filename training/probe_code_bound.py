"""Probe (2026-12-02): how close can ANY version of the public image code come to #3's 20 %-loss target?

The most a lost packet can be made to cost is what the same share of symbols costs as a rate cut: a frame whose j
of P packets arrive decodes at best as the code at rate j/P of its symbols, with that rate's own power allocation
(an ideal multiple-description code, which no real one reaches: each rate would have to be decodable from any j
packets at once). This averages that ideal over Binomial(P, 0.8) arrivals, per frame as the eval does, and puts it
beside the loss-free code and the shipped code's own 20 %-loss figure (8 packets, symbol (c, t) in (t + c) mod 8).
Result (training/README, "The public image code"): the ideal leaves ~0.3-0.6 dB inside the 3 dB; see the printout.

    . training/env; OMP_NUM_THREADS=1 $PY training/probe_code_bound.py   (from the repository root, ~2 min)
"""
import sys; sys.path.insert(0, 'training')
import numpy as np
import image_code as ic
from data.photos import STDLIB_TRAIN, TEST, TRAIN, crops
from linear_bound import fit, blocks, unblocks, psnr

train = crops(TRAIN + STDLIB_TRAIN, 20000, 1).astype(np.float64) / 255
mean, lam, V = fit(train, 16)
del train
Q = ic.mixing(1)
test = crops(TEST, 512, 2).astype(np.float64) / 255
Z = (blocks(test, 16) - mean) @ V


def frames_psnr(zh, idx):
    """Per-frame PSNR of the frames idx (the eval's mean is over frames)."""
    out = unblocks(zh @ V.T + mean, 16, 32, 32)
    return [psnr(out[k:k + 1], test[i:i + 1]) for k, i in enumerate(idx)]


def at_rate(snr, rate, idx):
    if rate == 0:  # nothing arrived: the mean frame
        return frames_psnr(np.zeros_like(Z[idx]), idx)
    return frames_psnr(ic.simulate(Z[idx], lam, Q, snr, rate, 0.0, 0, 1, 2, 2), idx)


rng = np.random.default_rng(7)
for snr in (20, 30):
    clean = np.mean(at_rate(snr, 16, np.arange(len(test))))
    shipped = psnr(unblocks(ic.simulate(Z, lam, Q, snr, 16, 0.2, 0, 1, 2, 2) @ V.T + mean, 16, 32, 32), test)
    line = [f"{snr} dB: loss-free {clean:.2f}, shipped code at 20 % loss (8 packets) {shipped:.2f} ({shipped - clean:+.2f})"]
    for packets in (4, 8, 16):
        arrived = rng.binomial(packets, 0.8, len(test))
        per = np.zeros(len(test))
        for j in range(packets + 1):
            idx = np.flatnonzero(arrived == j)
            if len(idx):
                per[idx] = at_rate(snr, 16 * j // packets, idx)
        line.append(f"ideal rate cut, {packets} packets: {per.mean():.2f} ({per.mean() - clean:+.2f})")
    print("; ".join(line), flush=True)

"""Fits the bundle's public image code, writes its files into a bundle directory and evaluates it on held-out photos.

The code is a fitted linear analog code in the manner of SoftCast; nothing is trained by gradient. Each 16x16 RGB
block of a frame becomes its 256 largest block-KLT (PCA) coefficients of 768 (k/n = 1/6 at full rate: 16 symbols
on each of the block's 16 4x4-pixel tokens), fitted on the training photos' crops (linear_bound.fit). The runtime
(packages/semantic-codec) chooses each coefficient's LMMSE power for the coded SNR and rate (linear_bound.waterfill
over the 16 * rate coefficients sent), mixes each rank group of coefficients ([0,64), [64,128), [128,256): 4, 8 and
16 symbols per token) with a random orthogonal matrix so that a lost packet spreads over its group instead of
erasing a block's largest coefficients, sends the frame at mean power 1 with its scale as side information, and
decodes by LMMSE over the symbols that arrived. training/README.md ("What a linear code says about the reconstruct
targets") has the probes that chose it.

Writes into --out (default models/default):
  image_analysis.onnx   image [B,3,H,W] in [0,1], H and W multiples of 16 -> coefs [B,Nb,256], blocks row-major
  image_synthesis.onnx  coefs [B,Nb,256], grid int64 [2] = [H/16, W/16] -> image [B,3,H,W], clipped to [0,1]
  image_code.bin        little-endian float32: the 256 variances, then each group's orthogonal matrix, row-major
and adds `streams.image` to its manifest.json (unless --no-manifest). Then it evaluates the code in numpy by the
runtime's algorithm on the held-out photos (data/photos.py TEST, 512 crops, seed 2) and writes --eval-json.

    cd /work/main && . training/env && OMP_NUM_THREADS=1 $PY training/image_code.py \\
        [--out models/default] [--seed 1] [--train-crops 20000] [--no-manifest] \\
        [--eval-json training/runs/image_code-eval.json]
"""

import argparse
import datetime
import hashlib
import json
import os
import shlex
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data.photos import STDLIB_TRAIN, TEST, TRAIN, crops  # noqa: E402
from linear_bound import blocks, fit, psnr, unblocks, waterfill  # noqa: E402

BLOCK = 16  # block side, pixels
K = 256  # coefficients per block
STRIDE = 4  # token side, pixels (the bundle's imageStride)
SIDE = BLOCK // STRIDE  # tokens per block side
P = SIDE * SIDE  # tokens per block (and slots per rank)
GROUPS = [(0, 64), (64, 128), (128, 256)]
PACKETS = 8


class Analysis(torch.nn.Module):
    """image [B,3,H,W] -> coefs [B,Nb,256]: (block vector - mean) @ V, blocks row-major."""

    def __init__(self, mean, V):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, K, BLOCK, stride=BLOCK)
        w = V.T.reshape(K, BLOCK, BLOCK, 3).transpose(0, 3, 1, 2)  # [k, c, y, x] from the block's (y, x, c) order
        self.conv.weight.data = torch.tensor(np.ascontiguousarray(w), dtype=torch.float32)
        self.conv.bias.data = torch.tensor(-(mean @ V), dtype=torch.float32)

    def forward(self, image):
        return self.conv(image).flatten(2).transpose(1, 2)  # [B, K, hb, wb] -> [B, hb*wb, K]


class Synthesis(torch.nn.Module):
    """coefs [B,Nb,256], grid [2] = [hb, wb] -> image [B,3,16hb,16wb] = clip(unblock(coefs @ V.T + mean), 0, 1)."""

    def __init__(self, mean, V):
        super().__init__()
        self.register_buffer("vt", torch.tensor(V.T, dtype=torch.float32))  # [K, 768]
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))  # [768], per position in the block

    def forward(self, coefs, grid):
        x = coefs @ self.vt + self.mean  # [B, Nb, 768]
        hb, wb = grid[0], grid[1]
        x = x.reshape(-1, hb, wb, BLOCK, BLOCK, 3).permute(0, 5, 1, 3, 2, 4)  # [B, c, hb, y, wb, x]
        return x.reshape(-1, 3, hb * BLOCK, wb * BLOCK).clamp(0, 1)


def mixing(seed):
    """One orthogonal matrix per group, from one generator: slot[s] = sum_j Q[s, j] x[j]."""
    rng = np.random.default_rng(seed)
    out = []
    for s, e in GROUPS:
        q, r = np.linalg.qr(rng.normal(size=(e - s, e - s)))
        out.append(q * np.sign(np.diag(r)))
    return out


def read_mixing(path="models/default/image_code.bin"):
    """The groups' mixing matrices as a bundle ships them (float32, after the K eigenvalues), float64."""
    code = np.fromfile(path, "<f4").astype(np.float64)
    out, at = [], K
    for s, e in GROUPS:
        out.append(code[at:at + (e - s) ** 2].reshape(e - s, e - s))
        at += (e - s) ** 2
    return out


def positions(hb, wb):
    """Symbol-major index c*T + t of slot k of block (bi, bj), [hb*wb, K]; the token t of each slot; T."""
    w = wb * SIDE  # tokens per grid row
    T = hb * SIDE * w
    k = np.arange(K)
    c = k // P
    u, v = np.divmod(k % P, SIDE)
    bi, bj = np.divmod(np.arange(hb * wb), wb)
    t = (SIDE * bi[:, None] + u) * w + SIDE * bj[:, None] + v
    return c * T + t, t, T


def gains(lam, snr, rate):
    """LMMSE power of the 16 * rate coefficients sent, as gains on the coefficients (0 for the rest)."""
    n = P * rate
    g = np.zeros(K)
    g[:n] = np.sqrt(waterfill(lam[:n], 10 ** (-snr / 10), n) / lam[:n])
    return g


def simulate(Z, lam, Q, snr, rate, loss, noise_seed, loss_seed, hb, wb):
    """Encode, send over AWGN (and packet loss) and LMMSE-decode the coefficients Z [n, hb*wb, K] of n frames."""
    n = len(Z)
    pos, tok, T = positions(hb, wb)
    s2 = 10 ** (-snr / 10)
    g = gains(lam, snr, rate)
    x = Z * g
    slots = np.concatenate([x[..., s:e] @ q.T for (s, e), q in zip(GROUPS, Q)], axis=-1)  # [n, nb, K]
    kept = np.broadcast_to(np.arange(K) // P < rate, slots.shape)  # rank c < rate
    a = 1 / np.sqrt(np.sum(np.where(kept, slots**2, 0), axis=(1, 2)) / kept[0].sum())  # [n]
    sym = np.zeros((n, K * T // P))
    sym[:, pos.ravel()] = (a[:, None, None] * slots).reshape(n, -1)  # symbol-major, c*T + t
    y = sym + np.random.default_rng(noise_seed).normal(0, np.sqrt(s2), sym.shape)
    arrived = kept.copy()
    if loss:
        lost = np.random.default_rng(loss_seed).random((n, PACKETS)) < loss
        packet = (tok + np.arange(K) // P) % PACKETS  # symbol (c, t) travels in packet (t + c) mod 8
        arrived &= ~lost[:, packet]
    Y = np.where(arrived, y[:, pos], 0)  # [n, nb, K], received symbols by slot
    cnt = arrived.sum(axis=(1, 2))
    power = np.sum(Y**2, axis=(1, 2)) / np.maximum(cnt, 1)
    sigma2 = np.maximum(s2, power - 1) / a**2  # [n]
    Y = Y / a[:, None, None]
    d = g * np.sqrt(lam)
    w = np.zeros_like(Z)
    for (s, e), q in zip(GROUPS, Q):
        m = arrived[..., s:e].astype(np.float64)  # [n, nb, m]
        A = q * d[s:e]  # every row, columns scaled; the rows that did not arrive are masked out
        Am = A * m[..., None]  # [n, nb, m, m]
        lhs = np.swapaxes(Am, -1, -2) @ A + sigma2[:, None, None, None] * np.eye(e - s)
        rhs = np.einsum("nbsi,nbs->nbi", Am, Y[..., s:e])
        w[..., s:e] = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    return np.sqrt(lam) * w  # 0 where nothing arrived or the gain is 0


def evaluate(test, mean, lam, V, Q, noise_seed, loss_seed):
    n, H, W = test.shape[:3]
    Z = (blocks(test, BLOCK) - mean) @ V

    def run(snr, rate, loss=0.0):
        zh = simulate(Z, lam, Q, snr, rate, loss, noise_seed, loss_seed, H // BLOCK, W // BLOCK)
        return round(psnr(unblocks(zh @ V.T + mean, BLOCK, H, W), test), 2)

    return {
        "awgnFullRate": {f"{s}dB": run(s, 16) for s in (0, 2, 5, 10, 20)},
        "awgn10dBByRate": {str(r): run(10, r) for r in (2, 4, 8, 12, 16)},
        "packetLoss20dB": {"packets": PACKETS, "packetOfSymbol": "(t + c) mod 8",
                           **{f"lossRate{p:g}": run(20, 16, p) for p in (0.0, 0.2)}},
    }


def export(module, args, names_in, names_out, axes, path):
    torch.onnx.export(module, args, path, opset_version=17, input_names=names_in, output_names=names_out,
                      dynamic_axes=axes)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="models/default", help="bundle directory")
    ap.add_argument("--train-crops", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1, help="seed of the groups' orthogonal mixing")
    ap.add_argument("--no-manifest", action="store_true", help="write the files only")
    ap.add_argument("--eval-json", default="training/runs/image_code-eval.json")
    ap.add_argument("--noise-seed", type=int, default=0)
    ap.add_argument("--loss-seed", type=int, default=1)
    ap.add_argument("--eval-crops", type=int, default=512, help="held-out crops evaluated (0: no evaluation)")
    ap.add_argument("--skimage-only", action="store_true",
                    help="fit on the skimage photos alone (no training/setup's @stdlib photos: the CI smoke)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    command = shlex.join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    photos = TRAIN if a.skimage_only else TRAIN + STDLIB_TRAIN
    missing = [p for p in photos + (TEST if a.eval_crops > 0 else []) if not os.path.exists(p)]
    if missing:
        raise SystemExit(f"photos missing (training/setup installs them): {missing}")

    train = crops(photos, a.train_crops, 1).astype(np.float64) / 255
    mean, lam, V = fit(train, BLOCK)
    total = float(blocks(train, BLOCK).reshape(-1, BLOCK * BLOCK * 3).var(0, ddof=1).sum())
    del train
    Q = mixing(a.seed)

    os.makedirs(a.out, exist_ok=True)
    files = {r: os.path.join(a.out, f) for r, f in
             (("analysis", "image_analysis.onnx"), ("synthesis", "image_synthesis.onnx"), ("code", "image_code.bin"))}
    ana, syn = Analysis(mean, V).eval(), Synthesis(mean, V).eval()
    with torch.no_grad():
        export(ana, (torch.rand(1, 3, 32, 48),), ["image"], ["coefs"],
               {"image": {0: "B", 2: "H", 3: "W"}, "coefs": {0: "B", 1: "Nb"}}, files["analysis"])
        export(syn, (torch.rand(1, 6, K), torch.tensor([2, 3], dtype=torch.int64)), ["coefs", "grid"], ["image"],
               {"coefs": {0: "B", 1: "Nb"}, "image": {0: "B", 2: "H", 3: "W"}}, files["synthesis"])
    np.concatenate([lam] + [q.ravel() for q in Q]).astype("<f4").tofile(files["code"])

    # the modules against numpy on a frame of another size (the ONNX graphs are checked with onnxruntime-node)
    x = np.random.default_rng(0).random((2, 64, 48, 3))
    ref = (blocks(x, BLOCK) - mean) @ V
    with torch.no_grad():
        got = ana(torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float32)).numpy()
        back = syn(torch.tensor(ref, dtype=torch.float32), torch.tensor([4, 3])).numpy().transpose(0, 2, 3, 1)
    err = (np.abs(got - ref).max(), np.abs(back - np.clip(unblocks(ref @ V.T + mean, BLOCK, 64, 48), 0, 1)).max())
    print(f"analysis max |err| {err[0]:.2e}, synthesis {err[1]:.2e}", flush=True)
    if max(err) > 1e-4:
        raise SystemExit("the exported modules disagree with numpy")

    if not a.no_manifest:
        spec = {
            "analysis": {"file": "image_analysis.onnx", "sha256": sha256(files["analysis"]),
                         "inputs": {"image": {"dtype": "float32", "shape": ["B", 3, "H", "W"]}},
                         "outputs": {"coefs": {"dtype": "float32", "shape": ["B", "Nb", K]}}},
            "synthesis": {"file": "image_synthesis.onnx", "sha256": sha256(files["synthesis"]),
                          "inputs": {"coefs": {"dtype": "float32", "shape": ["B", "Nb", K]},
                                     "grid": {"dtype": "int64", "shape": [2]}},
                          "outputs": {"image": {"dtype": "float32", "shape": ["B", 3, "H", "W"]}}},
            "code": {"file": "image_code.bin", "sha256": sha256(files["code"]), "kind": "block-klt", "block": BLOCK,
                     "coefficients": K, "groups": [list(g) for g in GROUPS], "seed": a.seed,
                     "trainCrops": a.train_crops,
                     "data": ("data/photos.py TRAIN" if a.skimage_only else "data/photos.py TRAIN + STDLIB_TRAIN")
                     + " crops (held-out TEST photos never seen)",
                     "command": command,
                     "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        }
        path = os.path.join(a.out, "manifest.json")
        with open(path) as f:
            manifest = json.load(f)
        manifest.setdefault("streams", {})["image"] = spec
        with open(path, "w") as f:
            json.dump(manifest, f, indent=1)
    print(f"wrote {', '.join(files.values())}" + ("" if a.no_manifest else f" and {a.out}/manifest.json streams.image"),
          flush=True)

    if a.eval_crops <= 0:
        return
    test = crops(TEST, a.eval_crops, 2).astype(np.float64) / 255
    res = {"command": command, "heldOut": f"data/photos.py TEST, {a.eval_crops} crops, seed 2", "kOverN": "1/6",
           "varianceKept": round(float(lam.sum()) / total, 4), "mixingSeed": a.seed, "noiseSeed": a.noise_seed,
           "lossSeed": a.loss_seed, "psnr": evaluate(test, mean, lam, V, Q, a.noise_seed, a.loss_seed)}
    print(json.dumps(res, indent=1), flush=True)
    os.makedirs(os.path.dirname(a.eval_json) or ".", exist_ok=True)
    with open(a.eval_json, "w") as f:
        json.dump(res, f, indent=1)
    print(f"wrote {a.eval_json}")


if __name__ == "__main__":
    main()

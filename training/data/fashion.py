"""Fashion-MNIST from Debian's dataset-fashion-mnist, padded 28 -> 32, grey replicated to 3 channels."""

import gzip

import numpy as np

from registry import register

from .base import Source

ROOT = "/usr/share/datasets/fashion-mnist"
LABELS = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


def _load(split: str):
    with gzip.open(f"{ROOT}/{split}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(f"{ROOT}/{split}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    return x, y


def to_images(x: np.ndarray) -> np.ndarray:
    """uint8 [N,32,32] -> float32 [N,3,32,32] in [0,1]."""
    return np.repeat((x.astype(np.float32) / 255.0)[:, None], 3, axis=1)


@register("data", "classify")
class FashionMNIST(Source):
    """Official train split for training, official t10k split held out."""

    task = "classify"

    def __init__(self):
        self.x, self.y = _load("train")
        self.tx, self.ty = _load("t10k")

    def batch(self, rng, n):
        i = rng.integers(0, len(self.x), n)
        img = self.x[i]
        flip = rng.random(n) < 0.5
        img = np.where(flip[:, None, None], img[:, :, ::-1], img)
        return {"image": to_images(img), "label": self.y[i]}

    def test(self, n=None):
        n = n or len(self.tx)
        return {"image": to_images(self.tx[:n]), "label": self.ty[:n]}

"""Dataset base: every task source yields batches of numpy arrays from a seeded generator, split
into train and held-out test parts by whole photos, whole sentences, fixed scene seeds."""

import numpy as np


class Source:
    """A task's data. `batch(rng, n)` draws training samples; `test()` the fixed held-out set."""

    task: str = ""

    def batch(self, rng: np.random.Generator, n: int) -> dict:
        raise NotImplementedError

    def test(self, n: int | None = None) -> dict:
        raise NotImplementedError

"""Caption and VQA sources over the synthetic scene generator (spec: scenes.md)."""

import numpy as np

from registry import register

from . import scenes
from .base import Source

N_TEST = 1000  # held-out scenes: the first N_TEST seeds with seed % 10 == 9


def _test_seeds(n):
    return [9 + 10 * k for k in range(n)]


def _train_seed(rng):
    while True:
        s = int(rng.integers(0, 2**31))
        if not scenes.is_test_seed(s):
            return s


def _img(scene):
    return scenes.render(scene).transpose(2, 0, 1).astype(np.float32) / 255.0


@register("data", "caption")
class Captions(Source):
    task = "caption"

    def batch(self, rng, n):
        sc = [scenes.generate(_train_seed(rng)) for _ in range(n)]
        return {"image": np.stack([_img(s) for s in sc]), "query": [""] * n, "target": [scenes.caption(s) for s in sc]}

    def test(self, n=None):
        sc = [scenes.generate(s) for s in _test_seeds(n or N_TEST)]
        return {"image": np.stack([_img(s) for s in sc]), "query": [""] * len(sc), "target": [scenes.caption(s) for s in sc]}


@register("data", "answer")
class Questions(Source):
    """One random question per scene (training); the held-out set asks question k mod len(list) of scene k."""

    task = "answer"

    def batch(self, rng, n):
        """Images, questions, answers, and each scene's caption (the object targets of train.py --aux-answer)."""
        img, q, a, cap = [], [], [], []
        for _ in range(n):
            s = scenes.generate(_train_seed(rng))
            qa = scenes.questions(s)
            qq, aa = qa[int(rng.integers(0, len(qa)))]
            img.append(_img(s)), q.append(qq), a.append(aa), cap.append(scenes.caption(s))
        return {"image": np.stack(img), "query": q, "target": a, "caption": cap}

    def test(self, n=None):
        img, q, a = [], [], []
        for k, seed in enumerate(_test_seeds(n or N_TEST)):
            s = scenes.generate(seed)
            qa = scenes.questions(s)
            qq, aa = qa[k % len(qa)]
            img.append(_img(s)), q.append(qq), a.append(aa)
        return {"image": np.stack(img), "query": q, "target": a}

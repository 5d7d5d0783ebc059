"""Short sentences from Debian's fortunes, split by whole sentence (hash of the text) into train/test."""

import glob
import hashlib
import re

import numpy as np

from registry import register

from .base import Source
from .tokenizer import split

ROOT = "/usr/share/games/fortunes"


def sentences(max_words=30, max_tokens=31):
    out = set()
    for f in sorted(glob.glob(f"{ROOT}/*")):
        if "." in f.rsplit("/", 1)[1]:
            continue
        try:
            txt = open(f, encoding="utf-8", errors="ignore").read()
        except (IsADirectoryError, OSError):
            continue
        for fortune in txt.split("\n%\n"):
            flat = " ".join(fortune.split())
            if "--" in flat or "|" in flat or "http" in flat:
                flat = flat.split(" -- ")[0]
            for s in re.split(r"(?<=[.!?])\s+", flat):
                words = s.split()
                toks = split(s)
                if not all(32 <= ord(ch) < 127 for ch in s):
                    continue
                if 3 <= len(words) <= max_words and len(toks) <= max_tokens and re.search(r"[a-z]", s.lower()):
                    out.add(s)
    return sorted(out)


def is_test(s: str) -> bool:
    return hashlib.sha1(s.encode()).digest()[0] < 13  # ~5% of sentences held out


@register("data", "transmit")
class Fortunes(Source):
    task = "transmit"

    def __init__(self):
        alls = sentences()
        self.train = [s for s in alls if not is_test(s)]
        self.testset = [s for s in alls if is_test(s)]

    def batch(self, rng, n):
        return {"text": [self.train[i] for i in rng.integers(0, len(self.train), n)]}

    def test(self, n=None):
        return {"text": self.testset[: n or len(self.testset)]}

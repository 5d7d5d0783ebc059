"""Builds tokenizer.json's three vocabularies (instruction, text, output) from the training data."""

import collections

from . import fashion, scenes
from .fortunes import Fortunes
from .tokenizer import SPECIALS, TASK_SPEC, Vocab, split

INSTR_LEN, TEXT_LEN, OUT_LEN = 24, 32, 16
TEXT_VOCAB_MAX = 4000  # most frequent training words with >= 2 uses; the rest are <unk> (OOV)


def instruction_words() -> list[str]:
    w = [f"<task:{t}>" for t in TASK_SPEC] + [f"<mod:{m}>" for m in ("image", "text")]
    w += [f"<out:{o}>" for o in ("image", "label", "text")]
    words = set()
    for seed in range(3000):  # every word the question templates can produce
        for q, _ in scenes.questions(scenes.generate(seed)):
            words.update(split(q))
    words.update(split("what is this ? describe the image . send the text . reconstruct the image ."))
    return w + sorted(words)


def output_words() -> list[str]:
    words = list(fashion.LABELS)
    extra = set()
    for seed in range(3000):
        s = scenes.generate(seed)
        extra.update(scenes.caption(s).split())
        for _, a in scenes.questions(s):
            extra.update(a.split())
    return words + sorted(extra - set(words))


def build_tokenizer(fortunes: Fortunes | None = None) -> dict:
    fortunes = fortunes or Fortunes()
    c = collections.Counter(t for s in fortunes.train for t in split(s))
    text = [w for w, k in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) if k >= 2 and w not in SPECIALS]
    text = text[: TEXT_VOCAB_MAX - len(SPECIALS)]
    return {
        "instruction": {"vocab": SPECIALS + instruction_words(), "maxLen": INSTR_LEN},
        "text": {"vocab": SPECIALS + text, "maxLen": TEXT_LEN, "lowercase": True, "split": "words-and-punct"},
        "output": {"vocab": SPECIALS + output_words(), "maxLen": OUT_LEN},
    }


def vocabs(tok: dict) -> dict[str, Vocab]:
    return {k: Vocab(v["vocab"], v["maxLen"]) for k, v in tok.items()}

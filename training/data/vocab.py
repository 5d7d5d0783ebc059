"""Builds tokenizer.json's three vocabularies (instruction, text, output) from the training data."""

import collections

from . import fashion, scenes
from .fortunes import Fortunes
from .tokenizer import CONT, SPECIALS, TASK_SPEC, Vocab, split

INSTR_LEN, TEXT_LEN, OUT_LEN = 24, 32, 16
TEXT_VOCAB_MAX = 4000  # most frequent training words with >= 2 uses; the rest are <unk> (OOV)
PIECES_LEN = 64  # text maxLen with word pieces: no held-out sentence and 3 training ones have more


def train_pieces(counts: dict[str, int], size: int) -> list[str]:
    """Byte-pair merges over the training words (as HuggingFace's WordPiece trainer builds its vocabulary):
    start from every character (word-initial, and ##-continuation), merge the most frequent adjacent pair
    (ties: the larger pair in string order) until `size` pieces or no pair occurs twice. Deterministic."""
    words = [(list(w[:1]) + [CONT + ch for ch in w[1:]], n) for w, n in sorted(counts.items())]
    alphabet = collections.Counter()
    for syms, n in words:
        for s in syms:
            alphabet[s] += n
    vocab = sorted(alphabet)
    seen = set(vocab)
    pairs, where = collections.Counter(), collections.defaultdict(set)
    for i, (syms, n) in enumerate(words):
        for a, b in zip(syms, syms[1:]):
            pairs[(a, b)] += n
            where[(a, b)].add(i)
    while len(vocab) < size and pairs:
        (a, b), c = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if c < 2:
            break
        new = a + b[len(CONT):]
        for i in list(where[(a, b)]):
            syms, n = words[i]
            for x, y in zip(syms, syms[1:]):
                pairs[(x, y)] -= n
                if pairs[(x, y)] <= 0:
                    del pairs[(x, y)]
                where[(x, y)].discard(i)
            out, k = [], 0
            while k < len(syms):
                if k + 1 < len(syms) and syms[k] == a and syms[k + 1] == b:
                    out.append(new)
                    k += 2
                else:
                    out.append(syms[k])
                    k += 1
            words[i] = (out, n)
            for x, y in zip(out, out[1:]):
                pairs[(x, y)] += n
                where[(x, y)].add(i)
        if new not in seen:
            vocab.append(new)
            seen.add(new)
    return vocab


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


def build_tokenizer(fortunes: Fortunes | None = None, pieces: int = 0) -> dict:
    """The bundle's vocabularies. pieces = 0: text is word-level (TEXT_VOCAB_MAX words, the rest <unk>);
    pieces = N: N word pieces (train_pieces) that spell every word of the training alphabet."""
    fortunes = fortunes or Fortunes()
    c = collections.Counter(t for s in fortunes.train for t in split(s))
    if pieces:
        text = {"vocab": SPECIALS + train_pieces(c, pieces - len(SPECIALS)), "maxLen": PIECES_LEN,
                "lowercase": True, "split": "words-and-punct", "pieces": "wordpiece", "continuation": CONT}
    else:
        words = [w for w, k in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) if k >= 2 and w not in SPECIALS]
        text = {"vocab": SPECIALS + words[: TEXT_VOCAB_MAX - len(SPECIALS)], "maxLen": TEXT_LEN, "lowercase": True,
                "split": "words-and-punct"}
    return {
        "instruction": {"vocab": SPECIALS + instruction_words(), "maxLen": INSTR_LEN},
        "text": text,
        "output": {"vocab": SPECIALS + output_words(), "maxLen": OUT_LEN},
    }


def vocabs(tok: dict) -> dict[str, Vocab]:
    return {k: Vocab(v["vocab"], v["maxLen"], pieces=v.get("pieces") == "wordpiece") for k, v in tok.items()}

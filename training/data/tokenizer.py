"""Tokenizer shared with TypeScript (docs/BUNDLE.md): lower-case, regex words-and-punct, ids = vocab
positions, <pad>=0 <bos>=1 <eos>=2 <unk>=3."""

import re

WORD_RE = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
PAD, BOS, EOS, UNK = 0, 1, 2, 3


def split(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


class Vocab:
    def __init__(self, words: list[str], max_len: int):
        self.words = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.index = {w: i for i, w in enumerate(self.words)}
        self.max_len = max_len

    def __len__(self):
        return len(self.words)

    def ids(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, UNK) for t in tokens]

    def encode(self, tokens: list[str], bos=False, eos=True, pad=True) -> list[int]:
        """Token ids; cut so that the <eos> still fits in max_len, padded with <pad> to max_len."""
        room = self.max_len - int(bos) - int(eos)
        out = ([BOS] if bos else []) + self.ids(tokens[:room]) + ([EOS] if eos else [])
        if pad:
            out += [PAD] * (self.max_len - len(out))
        return out

    def decode(self, ids) -> list[str]:
        """Words up to the first <eos> (or <pad>), specials other than <unk> dropped."""
        out = []
        for i in ids:
            i = int(i)
            if i in (EOS, PAD):
                break
            if i == BOS:
                continue
            out.append(self.words[i] if i < len(self.words) else "<unk>")
        return out


TASK_SPEC = {  # task -> (modality, output form): the unified template's fixed slots
    "reconstruct": ("image", "image"),
    "classify": ("image", "label"),
    "caption": ("image", "text"),
    "answer": ("image", "text"),
    "transmit": ("text", "text"),
}


def instruction_tokens(task: str, query: str = "", modality: str | None = None, output: str | None = None) -> list[str]:
    """`<bos> <task:X> <mod:Y> <out:Z> query words <eos>` (without <bos>/<eos>: Vocab.encode adds them)."""
    mod, out = TASK_SPEC[task]
    return [f"<task:{task}>", f"<mod:{modality or mod}>", f"<out:{output or out}>"] + split(query)

"""Tokenizer shared with TypeScript (docs/BUNDLE.md): lower-case, regex words-and-punct, ids = vocab
positions, <pad>=0 <bos>=1 <eos>=2 <unk>=3. A vocabulary with `pieces` ("wordpiece") cuts each word into its
longest vocabulary prefix, then the longest `##`-prefixed continuation, and so on (greedy longest match, as
BERT's WordPiece); a word it cannot cut (a character outside the vocabulary) is one <unk>."""

import re
import unicodedata

# A word is a run of letters, digits (any script: str.isalnum, JS [\p{L}\p{N}]) and apostrophes; any other
# character but whitespace is a word of its own. Text is NFC-normalised first, so "café" is one word however
# its "é" was typed. On ASCII text this is the first tokenizer's [a-z0-9']+|[^\sa-z0-9'].
WORD_RE = re.compile(r"(?:[^\W_]|')+|[^\w\s']|_")
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
PAD, BOS, EOS, UNK = 0, 1, 2, 3
CONT = "##"  # prefix of a word piece that continues the word before it


def split(text: str) -> list[str]:
    return WORD_RE.findall(unicodedata.normalize("NFC", text).lower())


def word_pieces(word: str, index) -> list[str] | None:
    """Greedy longest match: `word` as vocabulary pieces (continuations prefixed ##), or None if it cannot be cut."""
    out, s = [], 0
    while s < len(word):
        for e in range(len(word), s, -1):
            p = word[s:e] if s == 0 else CONT + word[s:e]
            if p in index:
                out.append(p)
                s = e
                break
        else:
            return None
    return out


def join_pieces(tokens: list[str]) -> list[str]:
    """Word pieces -> words: a `##` piece continues the word before it (or starts one when there is none)."""
    words = []
    for t in tokens:
        if t.startswith(CONT) and len(t) > len(CONT):
            if words:
                words[-1] += t[len(CONT):]
            else:
                words.append(t[len(CONT):])
        else:
            words.append(t)
    return words


class Vocab:
    def __init__(self, words: list[str], max_len: int, pieces: bool = False):
        self.words = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.index = {w: i for i, w in enumerate(self.words)}
        self.max_len = max_len
        self.pieces = pieces

    def tokenize(self, words: list[str]) -> list[str]:
        """Words -> tokens: the words themselves, or their pieces (a word that cannot be cut stays one token)."""
        if not self.pieces:
            return list(words)
        out = []
        for w in words:
            out += word_pieces(w, self.index) or [w]
        return out

    def detokenize(self, tokens: list[str]) -> list[str]:
        return join_pieces(tokens) if self.pieces else list(tokens)

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

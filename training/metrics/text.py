import collections
import math

from registry import register


def _ngrams(ws, n):
    return collections.Counter(tuple(ws[i : i + n]) for i in range(len(ws) - n + 1))


@register("metric", "bleu")
def bleu(hyps: list[list[str]], refs: list[list[str]], max_n: int = 4) -> float:
    """Corpus BLEU (Papineni et al. 2002), one reference, uniform weights up to max_n, brevity penalty."""
    logp = 0.0
    for n in range(1, max_n + 1):
        match = total = 0
        for h, r in zip(hyps, refs):
            hc, rc = _ngrams(h, n), _ngrams(r, n)
            match += sum(min(c, rc[g]) for g, c in hc.items())
            total += max(0, len(h) - n + 1)
        if match == 0:
            return 0.0
        logp += math.log(match / total) / max_n
    hl, rl = sum(map(len, hyps)), sum(map(len, refs))
    bp = 1.0 if hl > rl else math.exp(1 - rl / max(hl, 1))
    return bp * math.exp(logp)


@register("metric", "exact")
def exact(hyps, refs) -> float:
    return sum(h == r for h, r in zip(hyps, refs)) / max(1, len(refs))

"""Batches for each task (tokenised with the bundle's vocabularies) and held-out evaluation."""

import numpy as np
import torch

from data.tokenizer import EOS, PAD, instruction_tokens, split
from metrics import bleu, exact, psnr, ssim

TASKS = ["reconstruct", "classify", "caption", "answer", "transmit"]


def instr_ids(V, task, queries):
    return torch.tensor([V["instruction"].encode(instruction_tokens(task, q), bos=True) for q in queries])


def text_ids(V, texts, pad_to=None):
    """Tokens (words, or word pieces), then <eos>, padded with <pad> to the longest in the batch (or pad_to)."""
    rows = [V["text"].encode(V["text"].tokenize(split(t)), pad=False) for t in texts]
    L = pad_to or max(map(len, rows))
    return torch.tensor([r + [PAD] * (L - len(r)) for r in rows])


def prepare(task, raw, V, fashion_labels=None):
    b = {}
    if "image" in raw:
        b["image"] = torch.from_numpy(np.ascontiguousarray(raw["image"]))
    if task == "transmit":
        b["ids"] = text_ids(V, raw["text"])
    if task == "classify":
        b["instr"] = instr_ids(V, task, [""] * len(raw["label"]))
        words = [[fashion_labels[int(y)]] for y in raw["label"]]
        b["target"] = torch.tensor([V["output"].encode(w) for w in words])
    if task in ("caption", "answer"):
        b["instr"] = instr_ids(V, task, raw["query"])
        b["target"] = torch.tensor([V["output"].encode(split(t)) for t in raw["target"]])
    return b


@torch.no_grad()
def evaluate(model, tests: dict, V, chan: dict, seed=1234, bs=256) -> dict:
    """Held-out metrics of every task in `tests` ({task: prepared batch + raw}) under the channel `chan`."""
    model.eval()
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    res = {}
    for task, (batch, raw) in tests.items():
        n = len(next(iter(batch.values())))
        outs = []
        for i in range(0, n, bs):
            sub = {k: v[i : i + bs].to(dev) for k, v in batch.items()}
            outs.append(model.forward_task(task, sub, gen, **chan).cpu())
        if task == "reconstruct":
            out = torch.cat(outs)
            res[task] = {"psnr": psnr(out, batch["image"]), "ssim": ssim(out, batch["image"])}
            continue
        if task == "transmit":
            hyp = [V["text"].detokenize(V["text"].decode(o.argmax(-1))) for out in outs for o in out]
            ref_unk = [V["text"].detokenize(V["text"].decode(r)) for r in batch["ids"]]
            ref = [split(t) for t in raw["text"]]
            res[task] = {"bleu1": bleu(hyp, ref, 1), "bleu4": bleu(hyp, ref, 4),
                         "bleu1_invocab": bleu(hyp, ref_unk, 1), "bleu4_invocab": bleu(hyp, ref_unk, 4)}
            continue
        hyp = [V["output"].decode(o.argmax(-1)) for out in outs for o in out]
        ref = [V["output"].decode(r) for r in batch["target"]]
        if task == "caption":
            res[task] = {"exact": exact(hyp, ref), "bleu4": bleu(hyp, ref, 4)}
        else:
            res[task] = {"accuracy": exact(hyp, ref)}
    model.train()
    return res

"""Joins two fine-tunes that ran in parallel from one checkpoint and froze each other's stages: the text path
(text_encoder, text_decoder, tokenizer) of one, everything else of the other. It first checks that each left
the other's stages, and the shared public stream, bit-identical to the common start, so the result equals
running them one after the other (as training/train does).

  /usr/bin/python3 training/merge.py START.pt PRIVATE.pt TEXT.pt OUT.pt
"""

import sys

import torch

TEXT = ("stages.text_encoder.", "stages.text_decoder.")


def main(start: str, private: str, text: str, out: str) -> None:
    s0, sp, st = (torch.load(p, map_location="cpu", weights_only=False) for p in (start, private, text))
    for k, v in s0["model"].items():
        if not k.startswith(TEXT):
            assert torch.equal(st["model"][k], v), f"{text} changed {k}: not a text-only fine-tune of {start}"
        if k.startswith(TEXT) or k.startswith(("stages.public_encoder.", "stages.channel_")):
            assert torch.equal(sp["model"][k], v), f"{private} changed {k}: the text path must stay frozen"
    model = {k: v for k, v in sp["model"].items() if not k.startswith(TEXT)}
    model.update({k: v for k, v in st["model"].items() if k.startswith(TEXT)})
    assert set(model) == set(st["model"]), "the two checkpoints have different stages"
    args = {**st["args"], "merged": {"start": start, "private": private, "private_step": sp["step"], "text": text}}
    torch.save({"model": model, "cfg": sp["cfg"], "tok": st["tok"], "step": st["step"], "args": args}, out)
    print(f"{out}: text path of {text} ({st['step']} steps), the rest of {private} ({sp['step']} steps)")


if __name__ == "__main__":
    main(*sys.argv[1:5])

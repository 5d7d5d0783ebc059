"""Gives a checkpoint whose public path was fine-tuned without the private tasks (e.g. stage 8: reconstruct and
transmit only) a private trunk: the private stream reads what it read in the checkpoint the fine-tune started
from, through a copy of that start's public image path (image_encoder + public_encoder) as `private_trunk`.
It first checks that the fine-tune left the private stages (private_encoder, the private channel coder,
task_decoder) bit-identical to the start, so the private tasks give the start's results exactly.

  /usr/bin/python3 training/add_trunk.py START.pt PUBLIC.pt OUT.pt
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from models import M4SC, trunk_from  # noqa: E402

PRIVATE = ("stages.private_encoder.", "stages.private_channel_", "stages.task_decoder.")


def main(start: str, public: str, out: str) -> None:
    s0, sp = (torch.load(p, map_location="cpu", weights_only=False) for p in (start, public))
    if s0["cfg"].get("private_trunk") or sp["cfg"].get("private_trunk"):
        raise SystemExit("a checkpoint already has a private trunk")
    if not sp["cfg"].get("private_coder"):
        raise SystemExit(f"{public} has no private channel coder (--private-coder)")
    for k, v in s0["model"].items():
        if k.startswith(PRIVATE):
            assert torch.equal(sp["model"][k], v), f"{public} changed {k}: the private stages must be the start's"
    for part in ("instruction", "output"):
        assert s0["tok"][part] == sp["tok"][part], f"the {part} vocabularies differ: the private stages read them"
    sizes, weights = trunk_from(s0)
    cfg = {**sp["cfg"], "sizes": {**sp["cfg"]["sizes"], **sizes}, "private_trunk": True}
    model = {**sp["model"], **weights}
    args = {**sp["args"], "trunk": {"start": start, "public": public, "public_step": sp["step"]}}
    ck = {"model": model, "cfg": cfg, "tok": sp["tok"], "step": sp["step"], "args": args}
    M4SC.from_checkpoint(ck)  # loads: every stage present, every shape right
    torch.save(ck, out)
    print(f"{out}: {public} ({sp['step']} steps) with {start}'s public image path as the private trunk")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:4])

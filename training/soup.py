"""Averages the weights of fine-tunes that ran from one checkpoint (a "model soup", Wortsman et al. 2022): every
entry that a fine-tune changed is the mean of the fine-tunes' values; every other entry must be bit-identical in all
of them (each froze the same stages), and is kept. Integer entries (counters) must be equal too.

  /usr/bin/python3 training/soup.py OUT.pt A.pt B.pt [C.pt ...]
"""

import sys

import torch


def main(out: str, paths: list[str]) -> None:
    if len(paths) < 2:
        raise SystemExit("usage: soup.py OUT.pt A.pt B.pt [C.pt ...]")
    cks = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]
    keys = set(cks[0]["model"])
    for p, c in zip(paths[1:], cks[1:]):
        if set(c["model"]) != keys:
            raise SystemExit(f"{p} has other entries than {paths[0]}: not fine-tunes of one model")
    model, averaged = {}, []
    for k in sorted(keys):
        vs = [c["model"][k] for c in cks]
        if all(torch.equal(vs[0], v) for v in vs[1:]):
            model[k] = vs[0]
        elif vs[0].is_floating_point():
            model[k] = torch.stack([v.float() for v in vs]).mean(0).to(vs[0].dtype)
            averaged.append(k)
        else:
            raise SystemExit(f"{k}: integer entry differs between the fine-tunes")
    stages = sorted({".".join(k.split(".")[:2]) for k in averaged})
    args = {**cks[0]["args"], "soup": {"of": paths, "steps": [c["step"] for c in cks], "stages": stages}}
    torch.save({**cks[0], "model": model, "args": args}, out)
    print(f"{out}: mean of {len(paths)} fine-tunes over {len(averaged)} entries of {', '.join(stages)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])

"""Markdown tables of the held-out figures (eval.json) and the ablations (ablation.json).

  /usr/bin/python3 training/report.py training/runs/eval.json training/runs/ablation.json
"""

import json
import sys


def f(x, d=2):
    return f"{x:.{d}f}"


def row(name, r):
    rc, cl, ca, an, tr = (r.get(k, {}) for k in ("reconstruct", "classify", "caption", "answer", "transmit"))
    return (f"| {name} | {f(rc.get('psnr', 0))} | {f(rc.get('ssim', 0), 3)} | {f(100 * cl.get('accuracy', 0), 1)} | "
            f"{f(100 * ca.get('exact', 0), 1)} | {f(ca.get('bleu4', 0), 3)} | {f(100 * an.get('accuracy', 0), 1)} | "
            f"{f(tr.get('bleu1', 0), 3)} | {f(tr.get('bleu4', 0), 3)} | {f(tr.get('bleu1_invocab', 0), 3)} |")


def main(ev_path, ab_path=None):
    ev = json.load(open(ev_path))
    out = ["| channel | PSNR dB | SSIM | classify % | caption exact % | caption BLEU-4 | VQA % | text BLEU-1 | text BLEU-4 | BLEU-1 in-vocab |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    out.append(row("**AWGN 10 dB (full held-out sets)**", ev["awgn10dB"]))
    for name, r in ev["conditions"].items():
        out.append(row(name, r))
    r64 = ev["awgn10dB"].get("reconstruct64x64")
    if r64:
        out.append(f"\n64×64 held-out crops (16×16 tokens), AWGN 10 dB: PSNR {f(r64['psnr'])} dB, SSIM {f(r64['ssim'], 3)}.")
    if ab_path:
        ab = json.load(open(ab_path))
        # training/ablate's summary: the mean over the seeds (± their sample standard deviation when there are several).
        out += ["", "| ablation run | seeds | steps | params | PSNR dB | SSIM | classify % | caption exact % | VQA % | "
                "text BLEU-1 | text BLEU-4 |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in ab.items():
            sd = r.get("sd", {})

            def cell(task, key, d, scale=1):
                if task not in r:
                    return "–"
                dev = sd.get(task, {}).get(key)
                return f(scale * r[task][key], d) + (f" ± {f(scale * dev, d)}" if dev is not None else "")

            out.append(f"| {name} | {len(r.get('seeds', [1]))} | {r['steps']} | {r['params']} | {cell('reconstruct', 'psnr', 2)} | "
                       f"{cell('reconstruct', 'ssim', 3)} | {cell('classify', 'accuracy', 1, 100)} | "
                       f"{cell('caption', 'exact', 1, 100)} | {cell('answer', 'accuracy', 1, 100)} | "
                       f"{cell('transmit', 'bleu1', 3)} | {cell('transmit', 'bleu4', 3)} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(*sys.argv[1:])

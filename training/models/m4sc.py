"""The whole model: encoder -> constraint (power norm) -> channel -> decoder, per task (kaira's shape).

public stream (reconstruct, transmit): modality encoder -> public_encoder -> channel coder -> decoder.
private stream (classify, caption, answer): public_encoder -> private_encoder(instr) -> channel coder
-> task_decoder(instr). With private_coder=False one channel coder pair serves both streams; with True the
private stream has its own pair (private_channel_encoder/decoder, manifest `streams.private`): the shared
pair, tuned to 64 image tokens, squeezed the 4 private tokens through a map that kept little of what the
private tasks need (caption and VQA stayed on their priors).

With private_trunk=True the private stream reads its own image trunk (`private_trunk`: an image encoder with
its KAN projector and a public_encoder, manifest `streams.private.trunk`) instead of the public tokens, so
reconstruction can train the public image path without the private tasks holding it (training/README
"Where the image path's limit is"): private stream image -> private_trunk -> private_encoder(instr) -> ..."""

import torch
import torch.nn.functional as F
from torch import nn

from channels import apply, draw
from data.tokenizer import PAD
from registry import build


IMAGE_SIZES = {"enc_width": 64, "enc_blocks": 2, "dec_width": 96, "dec_blocks": 2}  # the image path's default sizes


def log_mse(out, ref):
    """The batch's mean squared error, with each image's gradient scaled by (batch mean MSE / its own MSE): the
    gradient of the mean per-image log-MSE (so of the mean per-image PSNR the evaluation reports), at the
    overall scale of plain MSE, so that the task weights keep their meaning. Plain MSE lets the worst images
    (low rates, heavy erasures, busy photos) dominate the gradient."""
    mse = torch.mean((out - ref) ** 2, dim=(1, 2, 3))
    return torch.mean(mse / mse.detach()) * mse.detach().mean()


def trunk_from(ck: dict) -> tuple[dict, dict]:
    """A private trunk copied from a checkpoint's public image path (its image_encoder and public_encoder): the
    `sizes` entries that keep that image encoder's sizes, whatever --sizes does to the public one, and the state
    entries. A trunk so started gives the private stream the tokens it read before."""
    was = {**IMAGE_SIZES, **ck["cfg"].get("sizes", {})}
    sizes = {"trunk_enc_width": was["enc_width"], "trunk_enc_blocks": was["enc_blocks"]}
    weights = {}
    for stage in ("image_encoder", "public_encoder"):
        pre = f"stages.{stage}."
        weights.update({f"stages.private_trunk.{stage}.{k[len(pre):]}": v.clone() for k, v in ck["model"].items()
                        if k.startswith(pre)})
    return sizes, weights


class Trunk(nn.Module):
    """image -> public_encoder(image_encoder(image)): the private stream's own image trunk."""

    def __init__(self, image_encoder: nn.Module, public_encoder: nn.Module):
        super().__init__()
        self.image_encoder, self.public_encoder = image_encoder, public_encoder

    def forward(self, image):
        return self.public_encoder(self.image_encoder(image))


class M4SC(nn.Module):
    @classmethod
    def from_checkpoint(cls, ck: dict) -> "M4SC":
        """The model a checkpoint ({model, cfg, tok, ...}) describes, with its weights, in eval mode."""
        cfg = ck["cfg"]
        m = cls(ck["tok"], D=cfg["D"], C=cfg["C"], P=cfg["P"], projector=cfg["projector"], kan=cfg["kan"],
                sizes=cfg["sizes"], private_coder=cfg.get("private_coder", False),
                private_trunk=cfg.get("private_trunk", False), public_norm=cfg.get("public_norm", "plane"))
        m.load_state_dict(ck["model"])
        return m.eval()

    def __init__(self, tok: dict, D=64, C=16, P=4, projector="kan", kan=None, sizes=None, private_coder=False,
                 private_trunk=False, public_norm="plane"):
        super().__init__()
        s = sizes or {}
        im = {**IMAGE_SIZES, **s}
        kan = kan or {"grid_size": 8, "spline_order": 3, "grid_range": (-2.0, 2.0)}
        Vi, Vt, Vo = (len(tok[k]["vocab"]) for k in ("instruction", "text", "output"))
        Li, Lt, Lo = (tok[k]["maxLen"] for k in ("instruction", "text", "output"))
        self.cfg = dict(D=D, C=C, P=P, projector=projector, kan=kan, sizes=s, private_coder=private_coder,
                        private_trunk=private_trunk)
        if public_norm != "plane":  # absent from older checkpoints' cfg: "plane"
            self.cfg["public_norm"] = public_norm
        self.stages = nn.ModuleDict({
            "image_encoder": build("model", "image_encoder", D=D, width=im["enc_width"], blocks=im["enc_blocks"], projector=projector, kan=kan),
            "text_encoder": build("model", "text_encoder", vocab=Vt, D=D, width=64, max_len=Lt, projector=projector, kan=kan),
            "public_encoder": build("model", "public_encoder", D=D, depth=s.get("public_depth", 2)),
            "private_encoder": build("model", "private_encoder", instr_vocab=Vi, D=D, P=P, depth=s.get("private_depth", 2), instr_len=Li),
            "channel_encoder": build("model", "channel_encoder", D=D, C=C, norm=public_norm),
            "channel_decoder": build("model", "channel_decoder", D=D, C=C),
            "image_decoder": build("model", "image_decoder", D=D, width=im["dec_width"], blocks=im["dec_blocks"]),
            "text_decoder": build("model", "text_decoder", vocab=Vt, D=D),
            "task_decoder": build("model", "task_decoder", instr_vocab=Vi, out_vocab=Vo, D=D, out_len=Lo, instr_len=Li),
        })
        if private_coder:
            self.stages["private_channel_encoder"] = build("model", "channel_encoder", D=D, C=C)
            self.stages["private_channel_decoder"] = build("model", "channel_decoder", D=D, C=C)
        if private_trunk:
            # its own sizes: a trunk copied from a checkpoint keeps that image encoder's while --sizes grows
            # the public one
            self.stages["private_trunk"] = Trunk(
                build("model", "image_encoder", D=D, width=s.get("trunk_enc_width", im["enc_width"]),
                      blocks=s.get("trunk_enc_blocks", im["enc_blocks"]), projector=projector, kan=kan),
                build("model", "public_encoder", D=D, depth=s.get("public_depth", 2)))

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return self._modules["stages"][name]

    def transmit(self, tokens, gen, private=False, valid=None, **chan):
        """channel_encoder(state) -> simulated channel -> channel_decoder(state). `valid` [B,T] marks the real
        tokens of a padded batch (the power is normalised over them)."""
        d = draw(tokens.shape[0], self.cfg["C"], tokens.shape[1], gen, **chan)
        pre = "private_" if private and self.cfg.get("private_coder") else ""
        x = self.stages[pre + "channel_encoder"](tokens, d["state"], valid)
        y, mask = apply(x, d, gen)
        return self.stages[pre + "channel_decoder"](y, mask, d["state"])

    def forward_task(self, task: str, batch: dict, gen, **chan):
        """Returns the decoder output of `task` after the channel (image or logits)."""
        if task == "reconstruct":
            img = batch["image"]
            pub = self.public_encoder(self.image_encoder(img))
            tok = self.transmit(pub, gen, **chan)
            h, w = img.shape[2] // 4, img.shape[3] // 4
            return self.image_decoder(tok, torch.tensor([h, w]))
        if task == "transmit":
            pub = self.public_encoder(self.text_encoder(batch["ids"]))
            return self.text_decoder(self.transmit(pub, gen, valid=batch["ids"] != PAD, **chan))
        pub = self.private_source(batch["image"])
        priv = self.private_encoder(pub, batch["instr"])
        return self.task_decoder(self.transmit(priv, gen, private=True, **chan), batch["instr"])

    def private_source(self, image, pub=None):
        """The tokens the private stream reads: its own trunk's where the model has one, else the public ones
        (`pub` where the caller has them already, as the runtime's privateSource(image, pub))."""
        if self.cfg.get("private_trunk"):
            return self.private_trunk(image)
        return self.public_encoder(self.image_encoder(image)) if pub is None else pub

    def loss(self, task, batch, out, recon_loss="mse"):
        """The task's training loss; `recon_loss` "logmse" weights reconstruct's images as log_mse does."""
        if task == "reconstruct":
            return log_mse(out, batch["image"]) if recon_loss == "logmse" else F.mse_loss(out, batch["image"])
        tgt = batch["ids"] if task == "transmit" else batch["target"]
        tgt = tgt.masked_fill(tgt == PAD, -100)  # <pad> only follows <eos>, which ends the read-out
        return F.cross_entropy(out.flatten(0, 1), tgt.flatten(), ignore_index=-100)


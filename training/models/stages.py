"""The bundle's stages, one nn.Module each, with the exact inputs/outputs of docs/BUNDLE.md."""

import torch
import torch.nn.functional as F
from torch import nn

from registry import build, register

from .blocks import ResBlock, Stack, positions


def coords(x: torch.Tensor) -> torch.Tensor:
    """[B,2,H,W] x and y coordinates in (0,1], built with CumSum so that any H,W exports."""
    one = torch.ones_like(x[:, :1])
    cx = torch.cumsum(one, dim=3) / torch.sum(one, dim=3, keepdim=True)
    cy = torch.cumsum(one, dim=2) / torch.sum(one, dim=2, keepdim=True)
    return torch.cat([cx, cy], dim=1)


@register("model", "image_encoder")
class ImageEncoder(nn.Module):
    """image [B,3,H,W] -> tokens [B,(H/4)(W/4),D]: CoordConv CNN (stride 4), then the projector."""

    stride = 4

    def __init__(self, D=64, width=64, blocks=2, projector="kan", kan=None):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(5, width // 2, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width // 2, width, 3, stride=2, padding=1), *(ResBlock(width) for _ in range(blocks)))
        self.proj = build("model", projector, d_in=width + 2, d_out=D, **(kan or {}))

    def forward(self, image):
        f = self.cnn(torch.cat([image * 2 - 1, coords(image)], dim=1))
        f = torch.cat([f, coords(f)], dim=1)  # token positions, for the backbone
        return self.proj(f.flatten(2).transpose(1, 2))


@register("model", "text_encoder")
class TextEncoder(nn.Module):
    """ids [B,L] -> tokens [B,L,D]: word + position embedding, then the projector."""

    def __init__(self, vocab: int, D=64, width=64, max_len=32, projector="kan", kan=None):
        super().__init__()
        self.emb, self.pos = nn.Embedding(vocab, width), nn.Embedding(max_len, width)
        self.proj = build("model", projector, d_in=width, d_out=D, **(kan or {}))

    def forward(self, ids):
        return self.proj(self.emb(ids) + self.pos(positions(ids)))


@register("model", "public_encoder")
class PublicEncoder(nn.Module):
    """The task-agnostic backbone pass: tokens [B,T,D] -> public [B,T,D]."""

    def __init__(self, D=64, depth=2):
        super().__init__()
        self.stack = Stack(D, depth)

    def forward(self, tokens):
        return tokens + self.stack(tokens)


class InstrEmbed(nn.Module):
    def __init__(self, vocab: int, D: int, max_len: int):
        super().__init__()
        self.emb, self.pos = nn.Embedding(vocab, D), nn.Embedding(max_len, D)

    def forward(self, instr):
        return self.emb(instr) + self.pos(positions(instr))


@register("model", "private_encoder")
class PrivateEncoder(nn.Module):
    """public [B,T,D], instr [B,Li] -> private [B,P,D]: P learned queries read the public tokens
    through a transformer conditioned on the instruction."""

    def __init__(self, instr_vocab: int, D=64, P=4, depth=2, instr_len=24):
        super().__init__()
        self.instr = InstrEmbed(instr_vocab, D, instr_len)
        self.queries = nn.Parameter(torch.randn(1, P, D) * 0.02)
        self.stack = Stack(D, depth)
        self.P = P

    def forward(self, public, instr):
        q = self.queries.expand(public.shape[0], -1, -1)
        x = self.stack(torch.cat([q, self.instr(instr), public], dim=1))
        return x[:, : self.P]


class StateFiLM(nn.Module):
    """state [B,2] = [snrDb, lossRate] -> per-feature scale and shift."""

    def __init__(self, d: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 32), nn.GELU(), nn.Linear(32, 2 * d))

    def forward(self, h, state):
        s = torch.stack([state[:, 0] / 20.0, state[:, 1]], dim=1)
        g, b = self.net(s).unsqueeze(1).chunk(2, dim=-1)
        return h * (1 + g) + b


@register("model", "channel_encoder")
class ChannelEncoder(nn.Module):
    """tokens [B,T,D], state [B,2] -> symbols [B,T,C]. Each symbol index c is normalised to mean power
    1 over the tokens, so every rate prefix (symbol-major) also has mean power 1. Training passes `valid`
    [B,T] (1 = a real token) for padded text batches, so that the power is that of the real tokens, as at
    run time, where no padding is sent; the export has no `valid`."""

    def __init__(self, D=64, C=16, hidden=128, norm="plane"):
        super().__init__()
        if norm not in ("plane", "sample"):
            raise ValueError(f"channel_encoder: unknown norm {norm!r} (plane, sample)")
        self.inp = nn.Linear(D, hidden)
        self.film = StateFiLM(hidden)
        self.out = nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, C))
        # "plane": each symbol index c has mean power 1 over the tokens (every rate prefix has power 1);
        # "sample": the sample's symbols together have mean power 1 (Deep JSCC's constraint: the coder
        # allocates power across symbol indices; a prefix's power is then the coder's choice). A probe.
        self.norm = norm

    def forward(self, tokens, state, valid=None):
        x = self.out(self.film(self.inp(tokens), state))
        dims = (1,) if self.norm == "plane" else (1, 2)
        if valid is None:
            return x / torch.sqrt(torch.mean(x * x, dim=dims, keepdim=True) + 1e-6)
        v = valid.unsqueeze(-1).to(x.dtype)
        n = v.sum(dim=1, keepdim=True).clamp_min(1.0) * (1 if self.norm == "plane" else x.shape[2])
        power = torch.sum(x * x * v, dim=dims, keepdim=True) / n
        return x / torch.sqrt(power + 1e-6)


@register("model", "channel_decoder")
class ChannelDecoder(nn.Module):
    """symbols [B,T,C], mask [B,T,C] (1 = received), state [B,2] -> tokens [B,T,D]; one transformer
    block across tokens lets neighbours fill in erased symbols."""

    def __init__(self, D=64, C=16, hidden=128, depth=1):
        super().__init__()
        self.inp = nn.Linear(2 * C, hidden)
        self.film = StateFiLM(hidden)
        self.mid = nn.Sequential(nn.GELU(), nn.Linear(hidden, D))
        self.stack = Stack(D, depth)
        self.out = nn.Linear(D, D)

    def forward(self, symbols, mask, state):
        h = self.mid(self.film(self.inp(torch.cat([symbols * mask, mask], dim=-1)), state))
        return self.out(h + self.stack(h))


@register("model", "image_decoder")
class ImageDecoder(nn.Module):
    """tokens [B,h*w,D], grid [2] = (h, w) -> image [B,3,4h,4w] in [0,1]."""

    def __init__(self, D=64, width=96, blocks=2):
        super().__init__()
        self.inp = nn.Conv2d(D, width, 3, padding=1)
        self.body = nn.Sequential(*(ResBlock(width) for _ in range(blocks)))
        self.up1 = nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1)
        self.mid = ResBlock(width // 2)
        self.up2 = nn.ConvTranspose2d(width // 2, width // 4, 4, stride=2, padding=1)
        self.outc = nn.Conv2d(width // 4, 3, 3, padding=1)

    def forward(self, tokens, grid):
        B, D = tokens.shape[0], tokens.shape[2]
        x = tokens.transpose(1, 2).reshape(B, D, grid[0], grid[1])
        x = self.body(self.inp(x))
        x = self.mid(F.gelu(self.up1(x)))
        x = self.outc(F.gelu(self.up2(x)))
        return torch.sigmoid(x)


@register("model", "text_decoder")
class TextDecoder(nn.Module):
    """tokens [B,L,D] -> logits [B,L,Vtext]."""

    def __init__(self, vocab: int, D=64, depth=1):
        super().__init__()
        self.stack = Stack(D, depth)
        self.head = nn.Linear(D, vocab)

    def forward(self, tokens):
        return self.head(tokens + self.stack(tokens))


@register("model", "task_decoder")
class TaskDecoder(nn.Module):
    """private [B,P,D], instr [B,Li] -> logits [B,Lo,Vout]: Lo learned output slots read the private
    tokens and the instruction; non-autoregressive, read greedily up to the first <eos>."""

    def __init__(self, instr_vocab: int, out_vocab: int, D=64, out_len=16, depth=2, instr_len=24):
        super().__init__()
        self.instr = InstrEmbed(instr_vocab, D, instr_len)
        self.slots = nn.Parameter(torch.randn(1, out_len, D) * 0.02)
        self.stack = Stack(D, depth)
        self.head = nn.Linear(D, out_vocab)
        self.out_len = out_len

    def forward(self, private, instr):
        s = self.slots.expand(private.shape[0], -1, -1)
        x = self.stack(torch.cat([s, private, self.instr(instr)], dim=1))
        return self.head(x[:, : self.out_len])

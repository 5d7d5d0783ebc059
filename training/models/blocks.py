"""Small transformer blocks written out with plain ops, so the ONNX export is simple and stable."""

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x):
        B, T, D = x.shape[0], x.shape[1], x.shape[2]
        q, k, v = self.qkv(x).reshape(B, T, 3, self.h, self.dk).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) * (self.dk**-0.5), dim=-1)
        return self.out((a @ v).transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, d: int, heads: int = 4, ff: int = 2):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.att = Attention(d, heads)
        self.ff = nn.Sequential(nn.Linear(d, ff * d), nn.GELU(), nn.Linear(ff * d, d))

    def forward(self, x):
        x = x + self.att(self.n1(x))
        return x + self.ff(self.n2(x))


class Stack(nn.Module):
    def __init__(self, d: int, depth: int, heads: int = 4):
        super().__init__()
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.norm(x)


def positions(ids: torch.Tensor) -> torch.Tensor:
    """0..L-1 per row, from a cumulative sum, so that the ONNX graph needs no shape arithmetic."""
    return torch.cumsum(torch.ones_like(ids), dim=1) - 1


class ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.gelu(self.c1(F.gelu(x))))

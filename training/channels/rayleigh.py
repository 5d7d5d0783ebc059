import torch

from registry import register

from .base import Channel, symbol_major, token_major


@register("channel", "rayleigh")
class Rayleigh(Channel):
    """Rayleigh block fading with zero-forcing at the receiver (see base.py for the convention)."""

    def __init__(self, snr_db=10.0, block=0):
        super().__init__()
        self.snr_db, self.block = snr_db, block

    def forward(self, x, gen=None):
        B, T, C = x.shape
        s = symbol_major(x).reshape(B, -1, 2)  # complex pairs
        n = s.shape[1]
        blk = n if self.block <= 0 else self.block
        nb = (n + blk - 1) // blk
        h = torch.randn(B, nb, 2, generator=gen, device=x.device) * (0.5**0.5)
        h = h.repeat_interleave(blk, dim=1)[:, :n]
        hr, hi = h[..., 0], h[..., 1]
        xr, xi = s[..., 0], s[..., 1]
        snr = torch.as_tensor(self.snr_db, dtype=x.dtype, device=x.device).reshape(-1, 1)
        std = torch.sqrt(10 ** (-snr / 10))
        yr = hr * xr - hi * xi + std * torch.randn(B, n, generator=gen, device=x.device)
        yi = hr * xi + hi * xr + std * torch.randn(B, n, generator=gen, device=x.device)
        den = (hr * hr + hi * hi).clamp_min(1e-4)
        er, ei = (yr * hr + yi * hi) / den, (yi * hr - yr * hi) / den  # y / h
        return token_major(torch.stack([er, ei], -1).reshape(B, -1), T)

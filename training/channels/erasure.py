import torch

from registry import register

from .base import Channel, token_major


@register("channel", "erasure")
class Erasure(Channel):
    """Returns the received mask [B,T,C] (1 = received): packets of `packet` consecutive symbol-major
    symbols (0 = each symbol alone) lost with probability loss_rate (float or [B] tensor)."""

    def __init__(self, loss_rate=0.0, packet=0):
        super().__init__()
        self.loss_rate, self.packet = loss_rate, packet

    def forward(self, x, gen=None):
        B, T, C = x.shape
        n = T * C
        p = max(1, self.packet)
        npk = (n + p - 1) // p
        rate = torch.as_tensor(self.loss_rate, dtype=x.dtype, device=x.device).reshape(-1, 1)
        keep = (torch.rand(B, npk, generator=gen, device=x.device) >= rate).to(x.dtype)
        keep = keep.repeat_interleave(p, dim=1)[:, :n]
        return token_major(keep, T)


def prefix_mask(B: int, T: int, C: int, rate: torch.Tensor) -> torch.Tensor:
    """mask [B,T,C] keeping symbols c < rate[b] of every token (a symbol-major prefix of rate*T)."""
    c = torch.arange(C, device=rate.device).reshape(1, 1, C)
    return (c < rate.reshape(-1, 1, 1)).float().expand(B, T, C)

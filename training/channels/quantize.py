import torch

from registry import register

from .base import Channel


def quantize(x: torch.Tensor, bits: int) -> torch.Tensor:
    """The network path's uniform quantiser: per sample, scale = max |x|; levels = 2^(bits-1) - 1;
    q = round(x / scale * levels); x_hat = q * scale / levels. Rounds half away from zero would
    differ from torch.round (half to even) only on exact ties."""
    levels = 2 ** (bits - 1) - 1
    dims = tuple(range(1, x.dim()))
    scale = x.detach().abs().amax(dim=dims, keepdim=True).clamp_min(1e-8)
    return torch.round(x / scale * levels) * scale / levels


@register("channel", "quantize")
class Quantize(Channel):
    """Quantise-dequantise with a straight-through gradient, so training passes through it."""

    def __init__(self, bits=8):
        super().__init__()
        self.bits = bits

    def forward(self, x, gen=None):
        if not self.bits:
            return x
        return x + (quantize(x, self.bits) - x).detach()

import torch

from registry import register

from .base import Channel


@register("channel", "awgn")
class AWGN(Channel):
    """y = x + N(0, 10^(-snr_db/10)); snr_db a float or a [B] tensor (one SNR per sample)."""

    def __init__(self, snr_db=10.0):
        super().__init__()
        self.snr_db = snr_db

    def forward(self, x, gen=None):
        snr = torch.as_tensor(self.snr_db, dtype=x.dtype, device=x.device).reshape(-1, *([1] * (x.dim() - 1)))
        std = torch.sqrt(10 ** (-snr / 10))
        return x + std * torch.randn(x.shape, generator=gen, device=x.device)

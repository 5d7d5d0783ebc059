"""KAN layer, efficient-KAN style (Blealtan/efficient-kan; Liu et al. 2024, arXiv 2404.19756).

Every edge i->o carries a learnable activation phi_oi(x) = wb_oi * silu(x) + sum_j ws_oij * B_j(x),
and output o sums its edges. B_j are B-splines of order K on a uniform grid of G intervals over
[lo, hi], extended by K knots on each side (G+2K+1 knots, G+K basis functions), evaluated by the
Cox-de Boor recursion. Only Less/GreaterOrEqual/Cast/Sub/Div/Mul/MatMul are needed in ONNX.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from registry import register


def knots(grid_size: int, order: int, lo: float, hi: float) -> torch.Tensor:
    """G+2K+1 uniform knots: lo - K*h .. hi + K*h, h = (hi-lo)/G."""
    h = (hi - lo) / grid_size
    return torch.arange(-order, grid_size + order + 1, dtype=torch.float32) * h + lo


def bsplines(x: torch.Tensor, grid: torch.Tensor, order: int) -> torch.Tensor:
    """x [..., in], grid [in, G+2K+1] -> bases [..., in, G+K] (Cox-de Boor)."""
    x = x.unsqueeze(-1)
    b = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).to(x.dtype)
    for k in range(1, order + 1):
        left = (x - grid[:, : -(k + 1)]) / (grid[:, k:-1] - grid[:, : -(k + 1)]) * b[..., :-1]
        right = (grid[:, k + 1 :] - x) / (grid[:, k + 1 :] - grid[:, 1:(-k)]) * b[..., 1:]
        b = left + right
    return b


@register("model", "kan_linear")
class KANLinear(nn.Module):
    """One KAN layer in -> out. The spline scale is folded into the weight at export (spline_weight_eff)."""

    def __init__(self, in_features: int, out_features: int, grid_size: int = 8, spline_order: int = 3,
                 grid_range=(-2.0, 2.0), noise_scale: float = 0.1):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order, self.grid_range = grid_size, spline_order, tuple(grid_range)
        g = knots(grid_size, spline_order, *grid_range).expand(in_features, -1).contiguous()
        self.register_buffer("grid", g)
        self.base_weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.base_weight, a=math.sqrt(5))
        nb = grid_size + spline_order
        self.spline_weight = nn.Parameter((torch.rand(out_features, in_features, nb) - 0.5) * noise_scale / grid_size)
        self.spline_scaler = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.spline_scaler, a=math.sqrt(5))

    def spline_weight_eff(self) -> torch.Tensor:
        """[out, in, G+K]: the per-edge B-spline coefficients."""
        return self.spline_weight * self.spline_scaler.unsqueeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.linear(F.silu(x), self.base_weight)
        b = bsplines(x, self.grid, self.spline_order)  # [..., in, G+K]
        b = b.reshape(*b.shape[:-2], -1) if b.dim() == 3 else b.flatten(-2)
        spline = F.linear(b, self.spline_weight_eff().reshape(self.out_features, -1))
        return base + spline


@register("model", "kan")
class KANProjector(nn.Module):
    """Modality features -> shared width D: LayerNorm (keeps inputs on the spline grid), then one KAN layer."""

    def __init__(self, d_in: int, d_out: int, grid_size=8, spline_order=3, grid_range=(-2.0, 2.0)):
        super().__init__()
        self.norm = nn.LayerNorm(d_in)
        self.kan = KANLinear(d_in, d_out, grid_size, spline_order, grid_range)

    def forward(self, x):
        return self.kan(self.norm(x))


@register("model", "mlp")
class MLPProjector(nn.Module):
    """The ablation: LayerNorm, then a 2-layer MLP whose hidden width gives the KAN's parameter count."""

    def __init__(self, d_in: int, d_out: int, grid_size=8, spline_order=3, grid_range=(-2.0, 2.0)):
        super().__init__()
        kan_params = d_in * d_out * (grid_size + spline_order + 2)
        hidden = max(8, round((kan_params - d_out) / (d_in + d_out + 1)))
        self.norm = nn.LayerNorm(d_in)
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))

    def forward(self, x):
        return self.net(self.norm(x))

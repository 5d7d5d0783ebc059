import torch
import torch.nn.functional as F

from registry import register


@register("metric", "psnr")
def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean over images of 10 log10(1 / MSE), images in [0,1]."""
    mse = ((x - y) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return float((10 * torch.log10(1 / mse)).mean())


@register("metric", "ssim")
def ssim(x: torch.Tensor, y: torch.Tensor) -> float:
    """SSIM (Wang et al. 2004): 11x11 Gaussian window sigma 1.5, per channel, valid region, mean."""
    g = torch.exp(-((torch.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    g = (g / g.sum())
    w = (g[:, None] * g[None, :]).expand(x.shape[1], 1, 11, 11)
    f = lambda a: F.conv2d(a, w, groups=x.shape[1])  # noqa: E731
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx**2, f(y * y) - my**2, f(x * y) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(s.mean())

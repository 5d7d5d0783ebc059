"""Draws a random channel per batch for training (or a fixed one for evaluation) and applies it."""

import torch

from registry import build

from .erasure import prefix_mask


def draw(B, C, T, gen, *, snr_db=None, loss=None, kind=None, bits=None, rate=None, packet=None,
         rate_min=1, full_p=0.5, loss_p=0.6) -> dict:
    """A channel draw. None means random (the training mix): SNR U(0,20) dB per sample; loss 0 (40%)
    else U(0,0.5) per sample; channel awgn 70% / rayleigh 20% / none 10%; quantiser none 40% /
    8-bit 40% / 4-bit 20%; rate C (50%) else U{1..C} per sample; packets of one symbol (50%) else of
    T*U{1..4}/2 symbols. `rate_min` and `full_p` change the random rate: full with probability full_p,
    else U{rate_min..C} (training uses them for the private stream); `loss_p` is the probability of a
    nonzero loss rate."""
    dev = gen.device if gen is not None else torch.device("cpu")  # the draw lives where the generator does
    r = lambda: torch.rand((), generator=gen, device=dev).item()  # noqa: E731
    snr = torch.rand(B, generator=gen, device=dev) * 20 if snr_db is None else torch.full((B,), float(snr_db), device=dev)
    if loss is None:
        lr = torch.rand(B, generator=gen, device=dev) * 0.5 * (torch.rand(B, generator=gen, device=dev) > 1 - loss_p).float()
    else:
        lr = torch.full((B,), float(loss), device=dev)
    if bits is None:
        u = r()
        bits = 0 if u < 0.4 else (8 if u < 0.8 else 4)
    if kind is None:
        u = r()
        kind = "awgn" if u < 0.7 else ("rayleigh" if u < 0.9 else "none")
    if packet is None:
        packet = 0 if r() < 0.5 else max(1, T * int(1 + 4 * r()) // 2)
    if rate is None:
        rt = torch.where(torch.rand(B, generator=gen, device=dev) < full_p, torch.full((B,), C, device=dev),
                         torch.randint(rate_min, C + 1, (B,), generator=gen, device=dev))
    else:
        rt = torch.full((B,), int(rate), device=dev)
    return {"snr": snr, "loss": lr, "bits": bits, "kind": kind, "packet": packet, "rate": rt,
            "state": torch.stack([snr, lr], dim=1)}


def apply(x, d, gen):
    """x [B,T,C] -> (y * mask, mask) under the draw d."""
    B, T, C = x.shape
    y = build("channel", "quantize", bits=d["bits"])(x, gen)
    if d["kind"] != "none":
        y = build("channel", d["kind"], snr_db=d["snr"])(y, gen)
    mask = build("channel", "erasure", loss_rate=d["loss"], packet=d["packet"])(x, gen)
    mask = mask * prefix_mask(B, T, C, d["rate"])
    return y * mask, mask

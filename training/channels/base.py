"""Channel base. A channel maps transmitted symbols x [B,T,C] (real, mean power 1) to received y.

Conventions shared with packages/semantic-codec's simulators:
  - `awgn(snr_db)`: y = x + n, n ~ N(0, 10^(-snr_db/10)) per real symbol (snr_db <-> snrDb).
  - `rayleigh(snr_db, block)`: consecutive real pairs (2k, 2k+1) of the symbol-major stream form one
    complex symbol; one h ~ CN(0,1) per block of `block` complex symbols (0 = whole sample); y = h x + n
    with complex noise of variance 10^(-snr_db/10) per real dimension, then zero-forcing with the
    known h (x_hat = y / h).
  - `erasure(loss_rate, packet)`: the symbol-major stream is cut into packets of `packet` symbols
    (0 = every symbol independent); each is lost with probability loss_rate; mask = 0 where lost.
"""

import torch


class Channel(torch.nn.Module):
    def forward(self, x: torch.Tensor, gen: torch.Generator | None = None):
        raise NotImplementedError


def symbol_major(x: torch.Tensor) -> torch.Tensor:
    """[B,T,C] -> [B,C*T] with index c*T + t."""
    return x.transpose(1, 2).reshape(x.shape[0], -1)


def token_major(s: torch.Tensor, T: int) -> torch.Tensor:
    """[B,C*T] symbol-major -> [B,T,C]."""
    return s.reshape(s.shape[0], -1, T).transpose(1, 2)

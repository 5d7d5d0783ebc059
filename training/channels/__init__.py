"""Channel simulators, filed in the registry under kind "channel" (names as in TypeScript)."""

from . import awgn, erasure, quantize, rayleigh  # noqa: F401
from .erasure import prefix_mask  # noqa: F401
from .sim import apply, draw  # noqa: F401

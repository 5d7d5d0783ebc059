"""Task data sources, filed in the registry under kind "data" by task name."""

from . import fashion, fortunes, photos, shapes  # noqa: F401  (registration)
from .vocab import build_tokenizer  # noqa: F401

"""Model components, filed in the registry under kind "model"."""

from . import kan, stages  # noqa: F401
from .m4sc import IMAGE_SIZES, M4SC, trunk_from  # noqa: F401

from . import image, text  # noqa: F401
from .image import psnr, ssim  # noqa: F401
from .text import bleu, exact  # noqa: F401

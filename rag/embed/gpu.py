"""Whether a CUDA GPU is usable, asked cheaply: ``backend = "auto"`` embeds on it when there is one.

Nothing here has been run on a GPU (README, "Speed"): the checks are the runtimes' own
(``onnxruntime.get_available_providers()``, ``torch.cuda.is_available()``), and torch is only
imported to ask when an NVIDIA driver is present, since importing it costs seconds.
"""

from __future__ import annotations

import ctypes.util
from functools import lru_cache
from pathlib import Path

CUDA_PROVIDER = "CUDAExecutionProvider"


def _nvidia_driver() -> bool:
    return Path("/proc/driver/nvidia/version").is_file() or ctypes.util.find_library("cuda") is not None


@lru_cache(maxsize=1)
def onnx_cuda() -> bool:
    """ONNX Runtime was built with CUDA (``onnxruntime-gpu``) and a driver is present."""
    try:
        import onnxruntime
    except ImportError:
        return False
    return CUDA_PROVIDER in onnxruntime.get_available_providers() and _nvidia_driver()


@lru_cache(maxsize=1)
def torch_cuda() -> bool:
    """torch sees a CUDA device."""
    if not _nvidia_driver():
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())

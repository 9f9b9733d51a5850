"""numnet: neural networks from scratch in NumPy, with hand-derived backward passes you can read and check."""

from numnet._version import __version__

__all__ = ["__version__"]

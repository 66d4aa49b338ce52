"""Neural style transfer: Gatys et al. (2016) optimisation and Johnson et al. (2016) fast networks."""

__version__ = "0.1.0"
"""This version of nst, as ``pyproject.toml`` gives it; every recipe names the version that wrote it."""

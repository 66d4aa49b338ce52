"""What the tests and the benchmarks share: pictures and clips made here, seeded stand-in weights,
the app served in a process, Chromium, and the picture measures. Nothing here is product code.

- :mod:`~tests.support.environment`: the offline caches the suite runs against, set up before anything
  imports huggingface_hub (a pytest plugin).
- :mod:`~tests.support.pictures`: synthetic photos and paintings, and the picture measures.
- :mod:`~tests.support.clips`: synthetic clips, and the warping error.
- :mod:`~tests.support.standins`: seeded networks with the real files' names and shapes.
- :mod:`~tests.support.server`: the app served in this process, or ``python app.py`` in its own.
- :mod:`~tests.support.browser`: Chromium driven by Playwright.
- :mod:`~tests.support.device`: what the device's arithmetic allows.
- :mod:`~tests.support.plain`: the plain counterparts of the optimised paths.
- :mod:`~tests.support.corpus`: odd-but-valid and invalid image files.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root."""

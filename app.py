"""The Gradio Space: ``python app.py [--share]``. The page is built by ``nst.space.layout.build``
from the ``NST_*`` settings (``nst.base.settings``, docs/configuration.md); importing this file
does nothing else."""

from __future__ import annotations

import argparse
import dataclasses

# On ZeroGPU, spaces must load before torch (it patches CUDA); elsewhere its decorator is a no-op.
import spaces  # noqa: F401  # isort: split

from nst.base.settings import Settings


def main() -> None:
    try:
        settings = Settings.from_env()
    except ValueError as err:  # a variable that does not parse: one line, not a traceback
        raise SystemExit(f"error: {err}") from None
    parser = argparse.ArgumentParser(description="Serve the style transfer Space.")
    parser.add_argument(
        "--share", action="store_true", default=settings.share, help="also serve a public gradio.live link"
    )
    settings = dataclasses.replace(settings, share=parser.parse_args().share)

    from nst.space.layout import build, launch_options  # gradio and torch load here, not at import

    build(settings).launch(**launch_options(settings))


if __name__ == "__main__":
    main()

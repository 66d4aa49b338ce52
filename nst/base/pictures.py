"""The pictures shipped with the project, in ``nst/pictures/``: four photos and two paintings.

Each is public domain or CC0; ``nst/pictures/README.md`` gives its source, author and licence. They
are the app's examples and the photo the style thumbnails are painted on. Tests never read them:
they make their own pictures.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "pictures"
PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")
"""scikit-image's sample photos (public domain or CC0), by file stem."""
PAINTINGS = ("starry_night", "the_scream")
"""Van Gogh's *The Starry Night* (1889) and Munch's *The Scream* (1893), public domain."""
THUMBNAIL_PHOTO = FOLDER / "chelsea.jpg"
"""The photo each style's thumbnail is painted on (:func:`nst.methods.fast.thumbnail`)."""


def picture(name: str) -> Path:
    """The shipped picture ``name``, one of :data:`PHOTOS` or :data:`PAINTINGS`."""
    if name not in PHOTOS + PAINTINGS:
        raise ValueError(f"no shipped picture {name!r}: one of {', '.join(PHOTOS + PAINTINGS)}")
    return FOLDER / f"{name}.jpg"

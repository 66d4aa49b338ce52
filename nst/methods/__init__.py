"""The methods floor: Gatys, fast (Johnson and Dumoulin), any style (Ghiasi), video and training.

Each method is declared once, by its id, in :mod:`~nst.methods.registry`. Imports the base and
networks floors; the surfaces (``app.py``, the CLI) import these."""

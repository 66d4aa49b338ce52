"""The methods floor: Gatys, fast (Johnson and Dumoulin), any style (Ghiasi), video and training.

Imports the base and networks floors; the surfaces (``app.py``, the CLI) import these."""

"""The base floor: devices, images, colour, option checks, the weights home and the losses.

Nothing here imports from the floors above (networks, methods, surfaces)."""

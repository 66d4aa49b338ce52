"""The networks floor: VGG-19 and the three one-pass networks, with the norm layer they share.

Imports only the base floor."""

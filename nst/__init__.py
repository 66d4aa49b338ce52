"""Neural style transfer: Gatys et al. (2016) optimisation and Johnson et al. (2016) fast networks."""

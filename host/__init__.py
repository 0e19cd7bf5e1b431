"""Host twin (installed as ``feagi_embed.host``): numba CPU executor of the fixed-point model."""

"""GPU host twin backends (installed as ``feagi_embed.host.gpu``): CUDA (cupy) and WGPU (wgpu-py)."""

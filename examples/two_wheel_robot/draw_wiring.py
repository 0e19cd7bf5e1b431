"""Draw examples/two_wheel_robot/wiring.png from io.toml (matplotlib).

Run: python examples/two_wheel_robot/draw_wiring.py  (reads io.toml next to this file through
feagi_embed's io-map loader, so the picture shows exactly the pins the build validates).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

HERE = Path(__file__).resolve().parent


def _pin_name(n: int, pins) -> str:
    a = n - pins.analog_first
    return f"A{a}" if 0 <= a < pins.analog else f"D{n}"


def main() -> Path:
    """Write wiring.png and return its path."""
    from feagi_embed.boards import load_board
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.io.pinmap import load_io_map
    from feagi_embed.quantize import quantize
    from feagi_embed.resources import genomes_dir

    model = quantize(develop(load_genome(genomes_dir() / "webots_pioneer2.json")))
    io = load_io_map(HERE / "io.toml", model, load_board("mega2560"))
    fig, ax = plt.subplots(figsize=(10, 6), dpi=110)
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 6)
    ax.axis("off")

    def box(x, y, w, h, text, color):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=color,
                                    ec="black", lw=1.2))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=10)

    box(3.6, 1.6, 2.8, 2.8, "Arduino Mega 2560\n\nFEAGI brain\nwebots_pioneer2\n"
        "(i__pro -> o__mot)", "#cfe3ff")
    box(7.6, 1.2, 2.0, 3.6, "H-bridge\n(L298N / TB6612)", "#ffe2c6")
    for i, b in enumerate(io.inputs):
        y = 4.3 - 1.6 * i
        box(0.3, y - 0.35, 2.0, 0.7, f"{b.name}\nIR distance sensor", "#d9f2d0")
        ax.annotate("", xy=(3.6, y), xytext=(2.35, y),
                    arrowprops=dict(arrowstyle="->", lw=1.5, color="green"))
        ax.text(2.95, y + 0.12, f"OUT -> {_pin_name(b.pin, io.pins)}", ha="center", fontsize=8)
        ax.text(2.95, y - 0.25, f"{model.areas.genome_ids[b.area]} ch {b.channel}",
                ha="center", fontsize=7, color="gray")
    for i, o in enumerate(io.outputs):
        y = 4.0 - 1.9 * i
        for j, (pin, label) in enumerate(((o.pin, "PWM"), (o.pin2, "DIR"))):
            yy = y - 0.35 * j
            ax.annotate("", xy=(7.6, yy), xytext=(6.45, yy),
                        arrowprops=dict(arrowstyle="->", lw=1.5, color="darkorange"))
            ax.text(7.0, yy + 0.06, f"{_pin_name(pin, io.pins)} {label}", ha="center", fontsize=8)
        ax.text(7.0, y - 0.7, f"{model.areas.genome_ids[o.area]} ch {o.channel}", ha="center",
                fontsize=7, color="gray")
        ax.add_patch(plt.Circle((10.3, y - 0.2), 0.2, color="black"))
        ax.plot([9.65, 10.1], [y - 0.2, y - 0.2], color="black", lw=1.5)
        ax.text(10.3, y - 0.6, o.name + " motor", ha="center", fontsize=7)
    ax.text(5.0, 0.6, "Sensors: 5 V, GND, OUT.  H-bridge: motor supply on its own battery, "
            "common GND with the Mega.  Serial (D0/D1) stays free for the USB link.",
            ha="center", fontsize=8)
    ax.set_title("Two-wheel robot: pins from examples/two_wheel_robot/io.toml", fontsize=11)
    out = HERE / "wiring.png"
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(main())

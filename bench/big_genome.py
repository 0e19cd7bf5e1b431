"""A community-sized FEAGI genome (>= 56,000 neurons, >= 440,000 synapses) built from a bundled one.

Issue 14 asks whether genomes of the size the FEAGI community runs (about 56,000 neurons and 440,000
synapses) fit a board. None of the bundled genomes is that large in both respects, so this builds
one from the mapping styles they use, starting from ``webots_basic.json`` (feagi/controllers,
simulators/webots, a real robot genome: nine vision IPU areas, proximity, gyro and servo sensors
projected onto the motor OPU):

* the central vision sensor ``iv00_C`` at the 128 x 128 x 3 of ``essential_genome.json``'s
  ``vision_C`` instead of 128 x 64 x 1, still ``projector`` onto ``o__mot`` (its own rule);
* the eight peripheral vision sensors at 32 x 16 x 1 (webots_basic: 16 x 8 x 1), same rules;
* a relay ``CBgrly`` (64 x 64 x 1, as ``learning_v1_1b.json``'s ``feagi_v``) fed by ``projector``
  from ``iv00_C``, then ``block_to_block`` (vectors) into ``CBgcnt`` (21 x 20 x 1, also fed by
  ``projector`` from ``iv00_C``), which has a ``lateral_+x`` (vectors) self-mapping and an
  ``all_to_all`` (patterns) mapping onto ``o__mot``, as ``learning_v1_1b.json``'s counters and
  ``0-0-0_to_all`` rules do.

Every morphology used is ``webots_basic.json``'s own. ``python -m bench.big_genome OUT.json``
writes it; :func:`big_genome` returns the dict.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "feagi_embed" / "genomes" / "webots_basic.json"
#: the new custom areas: id -> (name, dims)
NEW_AREAS = {"CBgrly": ("vision_relay", (64, 64, 1)), "CBgcnt": ("vision_counter", (21, 20, 1))}
#: the eight peripheral vision sensors, at twice their webots_basic resolution (32 x 16 x 1)
PERIPHERAL = ("iv00TL", "iv00TM", "iv00TR", "iv00ML", "iv00MR", "iv00BL", "iv00BM", "iv00BR")


def _area_copy(bp: dict, src: str, dst: str, name: str, dims) -> dict:
    """Blueprint genes of ``src`` under the id ``dst`` (no mappings), renamed and resized."""
    out = {}
    for k, v in bp.items():
        parts = k.split("-")
        if len(parts) >= 4 and parts[1] == src:
            out["-".join([parts[0], dst] + parts[2:])] = copy.deepcopy(v)
    out[f"_____10c-{dst}-cx-dstmap-d"] = {}
    out[f"_____10c-{dst}-cx-__name-t"] = name
    for axis, size in zip("xyz", dims):
        out[f"_____10c-{dst}-cx-___bb{axis}-i"] = size
    return out


def big_genome() -> dict:
    """The genome dict (FEAGI 2.0 flat blueprint, as ``webots_basic.json``)."""
    g = json.loads(SOURCE.read_text())
    g["genome_title"] = "big community-sized genome (feagi-embed bench/big_genome.py)"
    bp = g["blueprint"]
    for axis, size in zip("xyz", (128, 128, 3)):
        bp[f"_____10c-iv00_C-cx-___bb{axis}-i"] = size
    for aid in PERIPHERAL:
        for axis, size in zip("xyz", (32, 16, 1)):
            bp[f"_____10c-{aid}-cx-___bb{axis}-i"] = size
    # the relay and the counter take the genes of the motor-side servo sensor area (a custom
    # interneuron-like area of the same genome), resized
    for aid, (name, dims) in NEW_AREAS.items():
        bp.update(_area_copy(bp, "i_spos", aid, name, dims))
    bp["_____10c-iv00_C-cx-dstmap-d"]["CBgrly"] = [["projector", [1, 1, 1], 1, False]]
    bp["_____10c-iv00_C-cx-dstmap-d"]["CBgcnt"] = [["projector", [1, 1, 1], 1, False]]
    bp["_____10c-CBgrly-cx-dstmap-d"] = {"CBgcnt": [["block_to_block", [1, 1, 1], 1, False]]}
    bp["_____10c-CBgcnt-cx-dstmap-d"] = {"CBgcnt": [["lateral_+x", [1, 1, 1], 1, False]],
                                         "o__mot": [["all_to_all", [1, 1, 1], 1, False]]}
    return g


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("big_genome.json")
    out.write_text(json.dumps(big_genome(), indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

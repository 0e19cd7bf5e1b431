"""Every emulated board runs every bundled genome its capacity check accepts, bit-exact with the
numba twin, and refuses the others with the numbers (issue 14, "a CI test sweeps them").

One :class:`feagi_embed.sweep.Sweep`: every loadable bundled genome plus the community-sized
``bench/big_genome.py`` genome x every board with an emulator (QEMU, simavr, Node) x one seeded
random stimulus x the ``emulator`` executor, 5 bursts, run serially (220 cells, ~70 s of CPU:
the compile, link and emulator runs are subprocesses; a Dask LocalCluster added start-up and, on
an overloaded machine, lost its workers' heartbeats). Independent expectation: the numba twin's
burst/state digests (computed by the sweep's reference task from the model alone); for refusals,
the byte counts of the report (used > available in some region).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feagi_embed.boards import list_boards, load_board
from feagi_embed.errors import FeagiEmbedError
from feagi_embed.sweep import GenomeSpec, ResultCache, SerialRunner, Sweep, load_model, parse_stimuli
from tests.conftest import genome_names, genome_path, require_board

BURSTS, STATE_EVERY = 5, 5


def emulated_boards() -> list[str]:
    """Boards whose firmware runs in an emulator here (not native, not size-only)."""
    return [b for b in list_boards()
            if load_board(b).emulator_kind != "none" and load_board(b).architecture != "native"]


def _genomes(tmp_path) -> list[GenomeSpec]:
    from bench.big_genome import big_genome

    out = []
    for n in genome_names():
        try:
            load_model(str(genome_path(n)))
        except FeagiEmbedError:
            continue  # genomes FEAGI itself rejects (tests/test_genome_errors.py names why)
        out.append(GenomeSpec(n, str(genome_path(n))))
    big = tmp_path / "big_genome.json"
    big.write_text(json.dumps(big_genome()))
    return out + [GenomeSpec("big_genome", str(big))]


@pytest.fixture(scope="module")
def sweep_cells(tmp_path_factory):
    boards = emulated_boards()
    for b in boards:
        require_board(b)
    tmp = tmp_path_factory.mktemp("board-sweep")
    sweep = Sweep(_genomes(tmp), boards, parse_stimuli(["1"], seed=14),
                  [("emulator", None)], bursts=BURSTS, state_every=STATE_EVERY,
                  cache=ResultCache(tmp / "cache"))
    res = sweep.run(SerialRunner())
    return {(c["genome"], c["board"]): c for c in res.cells}


def test_every_accepted_genome_runs_bit_exact_on_every_emulated_board(sweep_cells):
    bad = {k: (c["status"], c["detail"]) for k, c in sweep_cells.items()
           if c["status"] not in ("equal", "refused")}
    assert not bad, bad
    for (g, b), c in sweep_cells.items():
        if c["status"] == "equal":
            assert c["capacity"]["fits"] and c["bursts"] == BURSTS and c["equal"], (g, b)
            if load_board(b).emulator_kind != "node":  # Node (wasm) counts no instructions
                assert c["metric"] and c["per_burst"] > 0, (g, b)  # it really ran emulated


def test_every_refusal_names_the_board_and_the_missing_bytes(sweep_cells):
    refused = [c for c in sweep_cells.values() if c["status"] == "refused"]
    assert refused  # the AVR boards cannot take the camera genomes
    for c in refused:
        regions = c["capacity"]["regions"]
        # every board that takes the model runs the random stimulus: where its packed V areas
        # take values >= 0 only, the draws there are made non-negative for that board
        assert not c["capacity"]["fits"], c
        missing = {r: v["missing"] for r, v in regions.items() if v["used"] > v["available"]}
        # a refusal is either a region over budget, or a limit inside one (largest array/block)
        assert missing or "block" in c["detail"] or "array" in c["detail"], c
        assert c["detail"].startswith(f"does not fit {c['board']}"), c["detail"]
        for r, m in missing.items():
            assert f"missing {m:,} B" in c["detail"], (c["detail"], r, m)


def test_every_bundled_genome_fits_an_esp32s3_and_blender_ap_with_psram(sweep_cells):
    genomes = {g for g, _ in sweep_cells} - {"big_genome"}
    for g in genomes:
        assert "equal" in (sweep_cells[(g, "esp32s3")]["status"],
                           sweep_cells[(g, "esp32s3_psram")]["status"]), g
    assert sweep_cells[("blender_ap", "esp32s3")]["status"] == "refused"
    psram = sweep_cells[("blender_ap", "esp32s3_psram")]
    assert psram["status"] == "equal"
    reg = psram["capacity"]["regions"]
    assert reg["psram"]["used"] > reg["ram"]["available"]  # more state than the internal DRAM


def test_big_genome_runs_with_psram_and_partitions_and_fits_the_classic_esp32(sweep_cells):
    """The >= 56,000-neuron / >= 440,000-synapse genome: on the ESP32-S3 with PSRAM it needs the
    larger app partition (constants + code > 1,310,720 B) and runs bit-exact. The classic ESP32
    takes it only with every packing (8-bit V in areas without charge accumulation, so sensory
    values there must be >= 0): the capacity check passes, static DRAM and boot heap within
    their budgets, and it runs bit-exact the seeded random stimulus drawn for it (values >= 0
    in those areas)."""
    ok = sweep_cells[("big_genome", "esp32s3_psram")]
    assert ok["status"] == "equal"
    fl = ok["capacity"]["regions"]["flash"]
    assert fl["used"] > 1_310_720 - 327_680 and fl["available"] > 1_310_720
    esp32 = sweep_cells[("big_genome", "esp32")]
    regions = esp32["capacity"]["regions"]
    assert esp32["capacity"]["fits"]
    assert regions["ram"]["used"] <= regions["ram"]["available"] == 163_840 - 24_576
    assert regions["heap"]["used"] <= regions["heap"]["available"] == 163_840 - 24_576
    assert esp32["status"] == "equal" and esp32["bursts"] == BURSTS, esp32
    assert "values >= 0" in esp32["detail"]  # the board's own variant of the random stimulus


def _unsigned(stim):
    """The same schedule with every injected value made non-negative (a camera's pixels)."""
    doc = stim.to_json()
    for e in doc["stimuli"]:
        if "value" in e:
            e["value"] = abs(e["value"])
    return doc


def test_big_genome_runs_bit_exact_on_every_esp32_class_board(tmp_path):
    """The big genome on every emulated ESP32-class core (the lx106 stand-in of esp32, esp32s3,
    esp32s3_psram; RV32IMC QEMU for the esp32c3), with the sweep's seed-14 random schedule made
    non-negative (the classic ESP32's 8-bit V areas accept only values >= 0): every board's
    capacity check passes and every burst and state digest equals the numba twin's."""
    from feagi_embed.sweep import random_stimulus

    boards = [b for b in emulated_boards() if b.startswith("esp32")]
    assert {"esp32", "esp32c3", "esp32s3", "esp32s3_psram"} <= set(boards)
    for b in boards:
        require_board(b)
    from bench.big_genome import big_genome

    genome = GenomeSpec("big_genome", str(tmp_path / "big_genome.json"))
    Path(genome.path).write_text(json.dumps(big_genome()))
    stim = tmp_path / "unsigned.json"
    stim.write_text(json.dumps(_unsigned(random_stimulus(load_model(genome.path), BURSTS, 14))))
    sweep = Sweep([genome], boards, parse_stimuli([str(stim)]), [("emulator", None)],
                  bursts=BURSTS, state_every=STATE_EVERY, cache=ResultCache(tmp_path / "cache"))
    cells = {c["board"]: c for c in sweep.run(SerialRunner()).cells}
    for b, c in cells.items():
        assert c["status"] == "equal" and c["capacity"]["fits"] and c["equal"], (b, c["detail"])
        assert c["bursts"] == BURSTS and c["per_burst"] > 0, b
        print(b, c["metric"], c["per_burst"], {r: (v["used"], v["available"])
                                              for r, v in c["capacity"]["regions"].items()})
    heap = cells["esp32"]["capacity"]["regions"]["heap"]
    assert 0 < heap["used"] <= heap["available"]  # the fit check also bounds every heap block


def test_big_genome_is_community_sized_and_uses_the_bundled_mapping_styles():
    from bench.big_genome import big_genome

    g = big_genome()
    m = load_model_from_dict(g)
    assert m.n_neurons >= 56_000 and m.n_synapses >= 440_000
    used = {r[0] for k, v in g["blueprint"].items() if k.endswith("dstmap-d")
            for rules in v.values() for r in rules}
    kinds = {g["neuron_morphologies"][u]["type"] for u in used}
    assert {"projector", "block_to_block", "lateral_+x", "all_to_all"} <= used
    assert {"functions", "vectors", "patterns"} <= kinds


def load_model_from_dict(doc: dict):
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.quantize import quantize

    return quantize(develop(load_genome(doc)))

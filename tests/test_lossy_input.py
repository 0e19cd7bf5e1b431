"""Lossy input: fixed point says when a stimulus or sensor value is off its grid.

Independent expectations: the grid is ``2^-F`` (docs/model.md §2); a value v is on it iff
``f32(v)·2^F`` is an integer, computed here by hand for the values used; the engine-side evidence
that off-grid values change firing is in ``tests/test_oracle_sensory.py``
(``test_off_grid_sensory_input_makes_fixed_point_differ``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from feagi_embed.cli import main
from feagi_embed.connectome import develop
from feagi_embed.genome import load_genome
from feagi_embed.io.coders import pixel_grid_loss, pixel_q
from feagi_embed.quantize import quantize
from feagi_embed.stimulus import (LOSSY_INPUT, Stimulus, StimulusError, input_grid,
                                  lossy_input_warnings, off_grid)

from .conftest import GENOMES
from .genome_builder import area_genes, genome


@pytest.fixture(scope="module")
def timer_model():
    return quantize(develop(load_genome(GENOMES / "test_timer.json")))


def stim(*values, area="i_misc"):
    return Stimulus.from_json({"stimuli": [
        {"bursts": [b + 2, b + 2], "area": area, "voxels": [[0, 0, 0]], "kind": "inject", "value": v}
        for b, v in enumerate(values)] + [
        {"bursts": [1, 1], "area": area, "voxels": [[0, 0, 0]], "kind": "force"}]})


def test_off_grid_mask_by_hand():
    # F = 3: multiples of 1/8 are on the grid; 0.1 (f32 0.100000001…) and 1/3 are not
    assert off_grid([0.5, -1.25, 3.0, 0.125, 0.1, 1 / 3, -0.01], 3).tolist() == [
        False, False, False, False, True, True, True]
    # f32(0.1)·2^16 = 6553.6000976…: off any grid F <= 16
    assert off_grid([0.1], 16).tolist() == [True]


def test_input_grid_in_the_quantize_report(timer_model):
    g = timer_model.report["input_grid"]
    assert g == input_grid(timer_model)
    assert g["step"] == 2.0 ** -timer_model.frac_bits
    assert g["range"] == [-timer_model.max_sensory, timer_model.max_sensory]


def test_on_grid_values_give_no_warning(timer_model):
    assert lossy_input_warnings(stim(1.0, -2.5, 0.125, 7.75), timer_model) == ()


def test_first_off_grid_value_named_with_what_it_becomes(timer_model):
    f = timer_model.frac_bits
    (w,) = lossy_input_warnings(stim(1.0, 0.01, 0.035, 2.0), timer_model)
    assert w.code == LOSSY_INPUT and w.key_path == ("stimuli", 1, "value")
    q = int(np.floor(float(np.float32(0.01)) * 2 ** f + 0.5))  # round half away, positive
    assert f"value 0.01 " in w.message and repr(q / 2 ** f) in w.message and f"q = {q}" in w.message
    assert "2 of 4 injected values" in w.message and "--precision fp32" in w.message
    with pytest.raises(StimulusError, match=r"stimuli\[1\]\[\"value\"\].*--precision fp32"):
        lossy_input_warnings(stim(1.0, 0.01), timer_model, strict=True, what="s.json")


def _write(tmp_path, values):
    """A clean micro-genome (no genome warnings, so --strict is about the input) and a stimulus."""
    g = genome(area_genes("c__inp", "inp", **{"fire_t-f": 1.0, "dstmap-d": {}}))
    gp = tmp_path / "g.json"
    gp.write_text(json.dumps(g))
    p = tmp_path / "s.json"
    p.write_text(json.dumps(stim(*values, area="c__inp").to_json()))
    return str(gp), str(p)


def test_cli_run_warns_and_strict_refuses(tmp_path):
    g, s = _write(tmp_path, [0.3, 1.0])
    r = CliRunner().invoke(main, ["run", g, "-n", "4", "--stimulus", s])
    assert r.exit_code == 0, r.output
    assert "lossy-input" in r.stderr and "value 0.3 " in r.stderr and "--precision fp32" in r.stderr
    r = CliRunner().invoke(main, ["run", g, "-n", "4", "--stimulus", s, "--strict"])
    assert r.exit_code == 2 and "--precision fp32" in r.stderr, r.stderr
    g, s = _write(tmp_path, [0.5, 1.0])
    r = CliRunner().invoke(main, ["run", g, "-n", "4", "--stimulus", s])
    assert r.exit_code == 0 and "lossy-input" not in r.stderr


def test_cli_build_test_stimulus_warns(tmp_path):
    g, s = _write(tmp_path, [0.3])
    r = CliRunner().invoke(main, ["build", g, "--board", "native",
                                                  "--test-stimulus", s, "--out", str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    assert "lossy-input" in r.stderr and "value 0.3 " in r.stderr


def test_cli_quantize_prints_the_input_grid(timer_model):
    r = CliRunner().invoke(main, ["quantize", "test_timer"])
    assert r.exit_code == 0
    assert f"input grid: step 2^-{timer_model.frac_bits}" in r.output


def test_camera_pixels_are_the_lossy_device_input():
    # pixel p injects p/255; on the 2^-F grid only when p·2^F is a multiple of 255 (p = 0, 255)
    p, real, grid = pixel_grid_loss(16)
    assert p == 2 and real == float(np.float32(2 / 255)) and grid == pixel_q(2, 16) / 65536
    assert grid != real
    assert pixel_grid_loss(16, threshold=254) is None  # only 255 left: 1.0, on the grid


def test_cli_fp32_precision_has_nothing_to_warn(tmp_path):
    """--precision fp32 adds the f32 values as FEAGI does: no lossy-input warning."""
    g, s = _write(tmp_path, [0.3, 1.0])
    r = CliRunner().invoke(main, ["run", g, "-n", "4", "--stimulus", s, "--precision", "fp32",
                                  "--strict"])
    assert r.exit_code == 0, r.stderr
    assert "lossy-input" not in r.stderr

"""Malformed genomes get one clear error (file, key path, value, expectation); never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from feagi_embed.cli import main
from feagi_embed.errors import GenomeError
from feagi_embed.genome import load_genome

from .conftest import GENOMES
from .genome_builder import area_genes, genome


def write(tmp_path, data, name="g.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def ok_genome(**genes):
    return genome(area_genes("c__aaa", "a", (2, 2, 1), **genes))


def error_of(tmp_path, data) -> GenomeError:
    p = write(tmp_path, data)
    with pytest.raises(GenomeError) as e:
        load_genome(p)
    assert str(p) in str(e.value)
    return e.value


def test_truncated_json(tmp_path):
    text = (GENOMES / "essential_genome.json").read_text()[:5000]
    e = error_of(tmp_path, text)
    assert e.expected == "valid JSON" and "line" in str(e.value)


def test_not_an_object(tmp_path):
    e = error_of(tmp_path, "[1, 2]")
    assert e.key_path == ()


@pytest.mark.parametrize("version", [None, "1.0", "3.1", 2.1])
def test_bad_or_missing_version(tmp_path, version):
    g = ok_genome()
    if version is None:
        del g["version"]
    else:
        g["version"] = version
    e = error_of(tmp_path, g)
    assert e.key_path == ("version",) and e.value == version


def test_missing_blueprint(tmp_path):
    g = ok_genome()
    del g["blueprint"]
    assert error_of(tmp_path, g).key_path == ("blueprint",)


@pytest.mark.parametrize("code,value", [
    ("fire_t-f", "high"), ("refrac-i", 1.5), ("refrac-i", -1), ("mp_acc-b", "yes"),
    ("___bbx-i", -3), ("___bbx-i", 0), ("_n_cnt-i", "2"), ("dstmap-d", [1]),
    ("snooze-f", 2.5), ("c_fr_c-i", None),
])
def test_wrong_gene_types_name_the_key(tmp_path, code, value):
    g = ok_genome()
    scope = "cx" if code.startswith("_") or code.startswith("dst") else "nx"
    key = f"_____10c-c__aaa-{scope}-{code}"
    g["blueprint"][key] = value
    e = error_of(tmp_path, g)
    assert e.key_path == ("blueprint", key) and e.value == value
    assert key in str(e)


def test_unknown_morphology_type(tmp_path):
    g = ok_genome()
    g["neuron_morphologies"] = {"m": {"type": "spline", "parameters": {}}}
    e = error_of(tmp_path, g)
    assert e.key_path == ("neuron_morphologies", "m", "type") and e.value == "spline"


@pytest.mark.parametrize("params,where", [
    ({"vectors": [[1, 2]]}, ("parameters", "vectors", 0)),
    ({"vectors": "up"}, ("parameters", "vectors")),
])
def test_malformed_vectors(tmp_path, params, where):
    g = ok_genome()
    g["neuron_morphologies"] = {"m": {"type": "vectors", "parameters": params}}
    assert error_of(tmp_path, g).key_path == ("neuron_morphologies", "m") + where


def test_malformed_pattern_element(tmp_path):
    g = ok_genome()
    g["neuron_morphologies"] = {"m": {"type": "patterns",
                                      "parameters": {"patterns": [[["*", "x", 0], [0, 0, 0]]]}}}
    e = error_of(tmp_path, g)
    assert e.key_path == ("neuron_morphologies", "m", "parameters", "patterns", 0, 0)


def test_mapping_rule_of_wrong_type(tmp_path):
    g = genome(area_genes("c__aaa", "a", **{"dstmap-d": {"c__bbb": ["projector"]}}),
               area_genes("c__bbb", "b"))
    e = error_of(tmp_path, g)
    assert e.key_path[-2:] == ("c__bbb", 0)


def test_unknown_destination_and_morphology_are_warnings(tmp_path):
    g = genome(area_genes("c__aaa", "a", **{"dstmap-d": {
        "c__zzz": [["projector", [1, 1, 1], 1, False]],
        "c__bbb": [["no_such_morphology", [1, 1, 1], 1, False]]}}),
        area_genes("c__bbb", "b"))
    gen = load_genome(write(tmp_path, g))
    codes = {w.code for w in gen.warnings}
    assert {"mapping-dropped", "unknown-morphology"} <= codes
    with pytest.raises(GenomeError):
        load_genome(write(tmp_path, g), strict=True)


def test_short_rule_dropped_with_warning(tmp_path):
    g = genome(area_genes("c__aaa", "a", **{"dstmap-d": {"c__bbb": [["projector", [1, 1, 1], 1]]}}),
               area_genes("c__bbb", "b"))
    gen = load_genome(write(tmp_path, g))
    assert [w.code for w in gen.warnings if w.code == "rule-dropped"] == ["rule-dropped"]
    assert gen.area("c__aaa").mappings[0].rules == ()


def test_missing_file(tmp_path):
    with pytest.raises(GenomeError) as e:
        load_genome(tmp_path / "nope.json")
    assert "nope.json" in str(e.value)


def test_ignored_gene_codes_warn_only_when_they_matter(tmp_path):
    g = ok_genome(**{"snooze-i": 3, "excite-i": 100})
    gen = load_genome(write(tmp_path, g))
    ws = [w for w in gen.warnings if w.code == "unknown-gene"]
    assert len(ws) == 1 and "snooze-i" in str(ws[0])  # excite-i 100 means 'always' either way
    assert gen.area("c__aaa").snooze_period == 0


def test_cli_error_exit_code_2_without_traceback(tmp_path):
    p = write(tmp_path, "{\"version\": \"2.0\", \"blueprint\": ")
    r = CliRunner().invoke(main, ["inspect", str(p)])
    assert r.exit_code == 2
    assert "Traceback" not in r.output and "error:" in r.output and str(p) in r.output


def test_cli_strict_turns_warnings_into_errors(tmp_path):
    p = write(tmp_path, ok_genome(**{"snooze-i": 3}))
    assert CliRunner().invoke(main, ["inspect", str(p)]).exit_code == 0
    r = CliRunner().invoke(main, ["inspect", "--strict", str(p)])
    assert r.exit_code == 2 and "snooze-i" in r.output


def test_unnamed_area_is_rejected_like_the_engine(tmp_path):
    # oracle: the release engine refuses a genome with an empty or missing area name
    g = ok_genome()
    del g["blueprint"]["_____10c-c__aaa-cx-__name-t"]
    e = error_of(tmp_path, g)
    assert e.key_path == ("blueprint", "_____10c-c__aaa-cx-__name-t")


def test_version_must_be_one_the_release_engine_accepts(tmp_path):
    g = ok_genome()
    g["version"] = "2.5"
    assert error_of(tmp_path, g).key_path == ("version",)

"""Bad input, one regression test per class of issue 12: decoding, ranges, resources, quantizer,
silently accepted input. Every rejection is one FeagiEmbedError line naming file, key path and value;
the CLI exits 2 without a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from feagi_embed import limits
from feagi_embed.cli import main
from feagi_embed.errors import FeagiEmbedError, GenomeError
from feagi_embed.genome import load_genome
from feagi_embed.stimulus import Stimulus, StimulusError

from .conftest import GENOMES
from .genome_builder import area_genes, genome


def ok_genome(**genes):
    return genome(area_genes("c__aaa", "a", (2, 2, 1), **genes))


def write(tmp_path, data, name="g.json") -> str:
    p = tmp_path / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def genome_error(path) -> GenomeError:
    with pytest.raises(GenomeError) as e:
        load_genome(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
    return e.value


def stimulus_error(path) -> str:
    with pytest.raises(StimulusError) as e:
        Stimulus.load(path)
    msg = str(e.value)
    assert msg.startswith(str(path) + ": ") and "\n" not in msg
    return msg


# ------------------------------------------------------------------ decoding (front door)

def test_deep_nesting_is_refused_before_json_recursion(tmp_path):
    g = ok_genome()
    text = json.dumps(g)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    e = genome_error(write(tmp_path, text))
    assert "nesting deeper than 64" in str(e) and "byte" in str(e)
    s = write(tmp_path, '{"stimuli": ' + "[" * 5000 + "]" * 5000 + "}", "s.json")
    assert "nesting deeper" in stimulus_error(s)


def test_integer_of_5000_digits_names_its_key(tmp_path):
    text = json.dumps(ok_genome()).replace('"_____10c-c__aaa-cx-___bbx-i": 2',
                                           '"_____10c-c__aaa-cx-___bbx-i": ' + "9" * 5000)
    e = genome_error(write(tmp_path, text))
    assert e.key_path == ("blueprint", "_____10c-c__aaa-cx-___bbx-i")
    assert "5000 characters" in str(e) and "64-bit" in e.expected
    s = write(tmp_path, '{"stimuli": [{"bursts": [1, ' + "1" * 5000 + ']}]}', "s.json")
    assert 'stimuli[0]["bursts"][1]' in stimulus_error(s)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused_at_decoding(tmp_path, literal):
    text = json.dumps(ok_genome()).replace('"_____10c-c__aaa-cx-___bbx-i": 2',
                                           f'"_____10c-c__aaa-cx-___bbx-i": {literal}')
    e = genome_error(write(tmp_path, text))
    assert e.key_path == ("blueprint", "_____10c-c__aaa-cx-___bbx-i") and literal in str(e)


def test_invalid_utf8_gives_byte_offset(tmp_path):
    good = b'{"stimuli": [{"bursts": [1, 1], "area": "c__aaa", "voxels": [[0, 0, 0]]}]}'
    bad = good.replace(b"c__aaa", b"c__\xff\xfe")
    msg = stimulus_error(write(tmp_path, bad, "s.json"))
    assert "byte %d" % bad.index(b"\xff") in msg and "UTF-8" in msg
    gbytes = json.dumps(ok_genome()).encode().replace(b'"test"', b'"t\xc3"')
    e = genome_error(write(tmp_path, gbytes))
    assert "byte %d" % gbytes.index(b"\xc3") in str(e)


def test_lone_surrogate_escape_is_refused(tmp_path):
    text = json.dumps(ok_genome()).replace('"a"', '"\\ud800x"')  # the area name
    e = genome_error(write(tmp_path, text))
    assert e.key_path == ("blueprint", "_____10c-c__aaa-cx-__name-t") and "surrogate" in e.expected
    r = CliRunner().invoke(main, ["inspect", write(tmp_path, text)])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_duplicate_keys_are_refused_with_their_path(tmp_path):
    text = json.dumps(ok_genome())
    text = text.replace('"_____10c-c__aaa-cx-___bbx-i": 2',
                        '"_____10c-c__aaa-cx-___bbx-i": 2, "_____10c-c__aaa-cx-___bbx-i": 3')
    e = genome_error(write(tmp_path, text))
    assert e.key_path == ("blueprint", "_____10c-c__aaa-cx-___bbx-i") and "once" in e.expected
    s = write(tmp_path, '{"stimuli": [{"bursts": [1, 1], "bursts": [2, 2], "area": "a", '
                        '"voxels": []}]}', "s.json")
    assert 'stimuli[0]["bursts"]' in stimulus_error(s)


def test_file_size_cap(tmp_path):
    p = write(tmp_path, ok_genome())
    with limits.override(max_json_bytes=100):
        e = genome_error(p)
    assert "at most 100 bytes" in e.expected and "FEAGI_EMBED_LIMIT_MAX_JSON_BYTES" in e.expected


def test_in_memory_genome_goes_through_the_same_checks():
    g = ok_genome()
    g["x"] = {"k": "\udc80"}
    with pytest.raises(GenomeError, match="surrogate"):
        load_genome(g)
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    g["x"] = deep
    with pytest.raises(GenomeError, match="nesting deeper"):
        load_genome(g)


def test_bundled_genomes_pass_the_front_door():
    for p in sorted(GENOMES.glob("*.json")):
        try:
            load_genome(p)
        except GenomeError as e:  # the two the release engine rejects, for their own reasons
            assert e.key_path[:1] in (("blueprint",), ("brain_regions",)), str(e)
            assert "surrogate" not in str(e) and "once per object" not in str(e)


def test_env_override_must_be_a_positive_integer(monkeypatch, tmp_path):
    monkeypatch.setenv("FEAGI_EMBED_LIMIT_MAX_NEURONS", "lots")
    with pytest.raises(FeagiEmbedError, match="FEAGI_EMBED_LIMIT_MAX_NEURONS"):
        limits.current()
    monkeypatch.setenv("FEAGI_EMBED_LIMIT_MAX_NEURONS", "7")
    assert limits.current().max_neurons == 7


# ------------------------------------------------------------------ ranges and resources

def gene_key(code, aid="c__aaa"):
    scope = "cx" if code in ("_n_cnt-i", "dstmap-d", "pspuni-b", "_group-t") or code.startswith("___bb") \
        else "nx"
    return f"_____10c-{aid}-{scope}-{code}"


@pytest.mark.parametrize("code,value,expected", [
    ("___bbx-i", 10**9, "x-size of at most 65,535"),
    ("_n_cnt-i", 70_000, "at most 65,535 neurons per voxel"),
    ("fire_t-f", 1e300, "f32 range"),
    ("pstcr_-f", -1e39, "f32 range"),
])
def test_out_of_range_genes_name_their_key(tmp_path, code, value, expected):
    g = ok_genome()
    g["blueprint"][gene_key(code)] = value
    e = genome_error(write(tmp_path, g))
    assert e.key_path == ("blueprint", gene_key(code)) and expected in e.expected


def test_integer_beyond_int64_is_refused_where_it_lands(tmp_path):
    g = ok_genome()
    g["blueprint"][gene_key("___bby-i")] = 2**63
    e = genome_error(write(tmp_path, g))
    assert e.key_path == ("blueprint", gene_key("___bby-i")) and "64-bit" in e.expected


def test_total_neurons_capped_before_neurogenesis(tmp_path):
    areas = [area_genes(f"c__a{i}a", f"a{i}", (2000, 1000, 1)) for i in range(3)]
    e = genome_error(write(tmp_path, genome(*areas)))
    assert "6,000,007 neurons" in str(e)  # + the 7 core neurons
    assert "FEAGI_EMBED_LIMIT_MAX_NEURONS" in e.expected
    with limits.override(max_neurons=10_000_000):
        assert sum(a.voxel_count for a in load_genome(write(tmp_path, genome(*areas))).areas) > 6e6


@pytest.mark.parametrize("field,value", [("vectors", [[2**40, 0, 0]]),
                                         ("patterns", [[[2**31, 0, 0], ["*", "*", "*"]]])])
def test_morphology_coordinates_are_int32(tmp_path, field, value):
    g = ok_genome()
    g["neuron_morphologies"] = {"m": {"type": field, "parameters": {field: value}}}
    e = genome_error(write(tmp_path, g))
    assert e.key_path[:4] == ("neuron_morphologies", "m", "parameters", field)
    assert "int32" in e.expected


@pytest.mark.parametrize("m", [1e300, 2**31, -(2**31)])
def test_psc_multiplier_in_range(tmp_path, m):
    # 2^31 was found by bench/bench_fuzz.py: an OverflowError in synaptogenesis (int32 weights)
    g = ok_genome(**{"dstmap-d": {"c__aaa": [["block_to_block", [1, 1, 1], m, False]]}})
    e = genome_error(write(tmp_path, g))
    assert e.key_path[-1] == 2 and "c__aaa" in e.key_path


def test_synapse_bound_refused_before_synaptogenesis(tmp_path):
    from feagi_embed.connectome import develop
    # all-to-all between two 1000x1000 areas: 10^12 synapses; refused in milliseconds
    g = genome(area_genes("c__aaa", "a", (1000, 1000, 1),
                          **{"dstmap-d": {"c__bbb": [["all", [1, 1, 1], 1, False]]}}),
               area_genes("c__bbb", "b", (1000, 1000, 1)),
               morphologies={"all": {"type": "patterns",
                                     "parameters": {"patterns": [[["*", "*", "*"], ["*", "*", "*"]]]}}})
    gen = load_genome(write(tmp_path, g))
    with pytest.raises(GenomeError) as e:
        develop(gen)
    assert e.value.key_path[-2:] == ("c__bbb", 0)
    assert "1,000,000,000,000 synapses" in str(e.value) and "FEAGI_EMBED_LIMIT_MAX_SYNAPSES" in str(e.value)


def stim_file(tmp_path, *entries) -> str:
    return write(tmp_path, {"stimuli": list(entries)}, "s.json")


def test_stimulus_burst_range_capped(tmp_path):
    # the 80-byte stimulus that used to get the process OOM-killed
    s = stim_file(tmp_path, {"bursts": [1, 10**9], "area": "c__aaa", "voxels": [[0, 0, 0]]})
    assert "burst numbers up to 1,000,000" in stimulus_error(s)
    s = stim_file(tmp_path, {"bursts": [1, 1], "area": "c__aaa", "voxels": [[2**62, 0, 0]]})
    assert "stimuli[0].voxels[0]" in stimulus_error(s)


def test_stimulus_events_capped_before_allocation(tmp_path):
    from feagi_embed.connectome import develop
    from feagi_embed.quantize import quantize
    model = quantize(develop(load_genome(ok_genome())))
    st = Stimulus.load(stim_file(tmp_path, {"bursts": [1, 900_000], "area": "c__aaa",
                                            "voxels": [[0, 0, 0], [1, 1, 0]] * 4}))
    with pytest.raises(FeagiEmbedError, match="7,200,000 stimulus events"):
        st.compile(model, 900_000)
    assert st.compile(model, 10)[0][-1] == 80


def test_build_test_stimulus_header_capped(tmp_path):
    s = stim_file(tmp_path, {"bursts": [1, 900_000], "area": "c__aaa",
                             "voxels": [[0, 0, 0]]})
    r = CliRunner().invoke(main, ["build", write(tmp_path, ok_genome()), "--board", "native",
                                  "--test-stimulus", s, "--out", str(tmp_path / "fw")])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "test stimulus header" in r.output and "FEAGI_EMBED_LIMIT_MAX_TEST_BURSTS" in r.output
    assert not (tmp_path / "fw" / "feagi_test_stimulus.h").exists()


# ------------------------------------------------------------------ quantizer proof covers every field

def big_psp_genome(**a_genes):
    # area a (PSP 50,000, degenerating: run-time contributions) drives b (threshold 40,000)
    return genome(area_genes("c__aaa", "a", (2, 1, 1), **{"pstcr_-f": 50000.0, **a_genes,
                             "dstmap-d": {"c__bbb": [["block_to_block", [1, 1, 1], 1, False]]}}),
                  area_genes("c__bbb", "b", (2, 1, 1), **{"fire_t-f": 40000.0}))


def test_large_psp_picks_a_frac_bits_that_fits_and_runs_like_the_float_reference(tmp_path):
    from feagi_embed.connectome import develop
    from feagi_embed.host.twin import run
    from feagi_embed.quantize import QuantizationError, quantize
    c = develop(load_genome(big_psp_genome(**{"de_gen-f": 4000.0})))
    m = quantize(c)
    # 50,000 · 2^16 > 2^31 but 50,000 · 2^14 < 2^30: the proof must pick F = 14, not crash
    assert m.frac_bits == 14 and int(m.area_psp[m.area_index("c__aaa")]) == 50000 << 14
    with pytest.raises(QuantizationError, match="--frac-bits 16 overflows.*PSP/degeneration 50000"):
        quantize(c, frac_bits=16)
    st = Stimulus.from_json({"stimuli": [{"bursts": [1, 30], "area": "c__aaa",
                                          "voxels": [[0, 0, 0]]}]})
    fixed, real = run(m, st, 30), run(m, st, 30, mode="float")
    b = m.area_index("c__bbb")
    fired_b = [int(((f >= m.area_first[b]) & (f < m.area_first[b + 1])).sum()) for f in fixed.fired]
    assert sum(fired_b) > 0 and fired_b[-1] == 0  # b fires until a's PSP degenerates below 40,000
    assert [f.tolist() for f in fixed.fired] == [f.tolist() for f in real.fired]
    # an area PSP with no synapses is stored too (int32 area_psp): same proof
    g = genome(area_genes("c__aaa", "a", (2, 1, 1), **{"pstcr_-f": 50000.0}))
    assert quantize(develop(load_genome(g))).frac_bits == 14


@pytest.mark.parametrize("genes,where", [
    ({"leak_c-f": 1e6}, "leak_c-f"), ({"leak_c-f": -1e30}, "leak_c-f"),
    ({"de_gen-f": 1e20}, "degeneration of area c__aaa"),
    ({"mp_psp-b": True, "pstcr_-f": 1e30}, "PSP of area c__aaa"),
    ({"fire_t-f": 1e30}, "threshold"),
])
def test_fields_outside_any_format_are_one_line_errors(tmp_path, genes, where):
    g = big_psp_genome(**genes)
    p = write(tmp_path, g)
    r = CliRunner().invoke(main, ["run", p, "--bursts", "2"])
    assert r.exit_code == 2 and "Traceback" not in r.output and where in r.output, r.output
    assert r.output.startswith(f"error: {p}: ")


# ------------------------------------------------------------------ silently accepted → warnings

@pytest.mark.parametrize("code,value,warning", [
    ("fire_t-f", -1.0, "threshold-negative"),
    ("excite-f", -0.5, "excitability-negative"),
    ("excite-f", 150.0, "excitability-over-100"),
    ("pstcr_-f", -2.0, "psp-negative"),
    ("de_gen-f", -0.1, "degeneration-negative"),
    ("fthlim-f", -3.0, "threshold-limit-negative"),
])
def test_suspicious_genes_warn_with_key_path_and_strict_refuses(tmp_path, code, value, warning):
    g = ok_genome()
    g["blueprint"][gene_key(code)] = value
    p = write(tmp_path, g)
    ws = [w for w in load_genome(p).warnings if w.code == warning]
    assert len(ws) == 1 and ws[0].key_path == ("blueprint", gene_key(code))
    with pytest.raises(GenomeError) as e:
        load_genome(p, strict=True)
    assert e.value.key_path == ("blueprint", gene_key(code)) and e.value.value == value
    r = CliRunner().invoke(main, ["run", p, "--bursts", "1", "--strict"])
    assert r.exit_code == 2 and gene_key(code) in r.output


def test_excitability_100_is_not_warned_about(tmp_path):
    # 100 is how real genomes spell "always fire" (FEAGI: any e >= 0.999)
    g = ok_genome(**{"excite-f": 100.0})
    assert not [w for w in load_genome(g).warnings if "excitability" in w.code]


def test_negative_degeneration_keeps_the_psp_constant(tmp_path):
    from feagi_embed.connectome import develop
    from feagi_embed.quantize import quantize
    m = quantize(develop(load_genome(big_psp_genome(**{"de_gen-f": -5.0}))))
    assert int(m.area_degen[m.area_index("c__aaa")]) == 0  # no run-time PSP growth (no wrap)


@pytest.mark.parametrize("entry,code,path", [
    ({"bursts": [1, 1], "area": "c__aaa", "voxels": [[0, 0, 0]], "kind": "inject", "valeu": 3},
     "unknown-key", ("stimuli", 0, "valeu")),
    ({"bursts": [1, 1], "area": "c__aaa", "voxels": [[0, 0, 0]], "value": 3},
     "value-without-kind", ("stimuli", 0, "value")),
    ({"bursts": [1, 1], "area": "c__aaa", "voxels": []}, "empty-voxels", ("stimuli", 0, "voxels")),
])
def test_suspicious_stimulus_entries_warn_and_strict_refuses(tmp_path, entry, code, path):
    s = stim_file(tmp_path, entry)
    if code == "unknown-key":  # without a value the inject entry is an error anyway
        with pytest.raises(StimulusError, match="stimuli\\[0\\].value"):
            Stimulus.load(s)
        entry = dict(entry, value=2)
        s = stim_file(tmp_path, entry)
    st = Stimulus.load(s)
    assert [(w.code, w.key_path) for w in st.warnings] == [(code, path)]
    with pytest.raises(StimulusError) as e:
        Stimulus.load(s, strict=True)
    assert "--strict" in str(e.value) and str(s) in str(e.value)
    g = write(tmp_path, ok_genome())
    r = CliRunner().invoke(main, ["run", g, "--bursts", "1", "--stimulus", s])
    assert r.exit_code == 0 and code in r.stderr
    r = CliRunner().invoke(main, ["run", g, "--bursts", "1", "--stimulus", s, "--strict"])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_cli_run_bursts_capped_before_running(tmp_path):
    r = CliRunner().invoke(main, ["run", write(tmp_path, ok_genome()), "--bursts", "2000000"])
    assert r.exit_code == 2 and "FEAGI_EMBED_LIMIT_MAX_BURSTS" in r.output

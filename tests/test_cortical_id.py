"""Cortical-ID resolution against the real FEAGI engine (feagi_embed.genome.cortical_id).

Independent expectations:
* the oracle fixtures tests/fixtures/connectome/<genome>.json.gz (areas keyed by the release
  engine's base64 IDs, recorded from feagi-core 2.6.10 / `feagi 0.0.67`);
* hand-written IDs, computed byte by byte from the release engine's IO layout
  (byte 4 = (sub_unit << 4) | variant, byte 5 = frame/positioning bits, bytes 6-7 = unit index),
  each checked once on the release binary with a synthetic genome (2026-11-22).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest

from feagi_embed.genome.cortical_id import (
    CORE_AREA_IDS, CORE_AREA_NAMES, SUPPORTED_IO_UNITS, CorticalID, IdResolution,
    brain_regions_rejection, find_collisions, io_cortical_id, io_flag_error,
    resolve_destination_keys, resolve_genome_ids)

ROOT = Path(__file__).resolve().parent.parent
GENOMES = sorted((ROOT / "feagi_embed" / "genomes").glob("*.json"))
FIXTURES = ROOT / "tests" / "fixtures" / "connectome"
CORE_B64 = {c.b64 for c in CORE_AREA_IDS}


def blueprint_ids(genome: dict) -> tuple[list[str], list[str], dict[str, str]]:
    """(area ID spellings, all dstmap destination keys, ID -> __name-t) of a flat genome."""
    ids: list[str] = []
    dst: list[str] = []
    names: dict[str, str] = {}
    for key, value in genome["blueprint"].items():
        if not key.startswith("_____10c-"):
            continue  # e.g. autopilot's "_____10b-_____s-__-__name-t" is not an area
        aid = key.split("-")[1]
        if aid not in ids:
            ids.append(aid)
        if key.endswith("-__name-t"):
            names[aid] = value
        if key.endswith("-dstmap-d") and isinstance(value, dict):
            dst.extend(value)
    return ids, dst, names


def fixture(stem: str) -> dict:
    path = FIXTURES / f"{stem}.json.gz"
    if not path.exists():
        pytest.fail(f"missing oracle fixture {path} (tests/fixtures/oracle/record_connectomes.py)")
    with gzip.open(path, "rt") as f:
        return json.load(f)


def resolve_file(path: Path):
    g = json.loads(path.read_text())
    ids, dst, names = blueprint_ids(g)
    return g, ids, dst, names, resolve_genome_ids(ids, g["version"], names, dst_keys=dst)


# ---------------------------------------------------------------------------------------------
# every bundled genome against the engine
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", GENOMES, ids=[p.stem for p in GENOMES])
def test_genome_ids_match_engine(path: Path):
    g, ids, dst, names, res = resolve_file(path)
    fx = fixture(path.stem)
    rejected = {s: r.message for s, r in res.items() if r.action == "rejected"}
    region_error = brain_regions_rejection(g.get("brain_regions"))
    if not fx["accepted"]:
        ours = set(rejected.values()) | ({region_error} if region_error else set())
        assert fx["error"] in ours, (fx["error"], ours)
        return
    assert not rejected and region_error is None
    resolved = {r.cortical_id.b64 for r in res.values() if r.cortical_id is not None}
    assert resolved | CORE_B64 == set(fx["areas"])
    # the fixture names the blueprint ID of each area it could match by name: same mapping
    by_spelling = {s: r.cortical_id.b64 for s, r in res.items() if r.cortical_id is not None}
    for b64, area in fx["areas"].items():
        assert bytes.fromhex(area["id_bytes_hex"]) == base64.b64decode(b64)
        if area.get("genome_id") is not None:
            assert by_spelling[area["genome_id"]] == b64, area["genome_id"]
    # names: the genome's __name-t for declared areas, the engine defaults for the cores it adds
    for s, r in res.items():
        if r.cortical_id is not None:
            assert fx["areas"][r.cortical_id.b64]["name"] == names[s]
    declared = {r.cortical_id for r in res.values() if r.cortical_id is not None}
    for c in CORE_AREA_IDS:
        if c not in declared:
            assert fx["areas"][c.b64]["name"] == CORE_AREA_NAMES[c]
    assert not find_collisions(res)
    # destination keys give the keys of the engine's cortical_mapping_dst
    dres = resolve_destination_keys(dst, g["version"], ids, names)
    for key, value in g["blueprint"].items():
        if not (key.startswith("_____10c-") and key.endswith("-dstmap-d")):
            continue
        src = res[key.split("-")[1]].cortical_id
        if src is None:
            continue
        ours = {(dres[d].cortical_id.b64 if dres[d].cortical_id else d) for d in value}
        assert ours == set(fx["areas"][src.b64].get("mappings_dst") or {}), key


def test_rejected_genomes_verdicts():
    _, _, _, _, res = resolve_file(ROOT / "feagi_embed" / "genomes" / "brightness_change_detection.json")
    rejected = sorted(s for s, r in res.items() if r.action == "rejected")
    assert rejected == ["__back", "__forw", "__left", "_right", "_steer"]
    assert res["_right"].message == (
        "Invalid input: Failed to parse genome: Invalid cortical area: Failed to determine cortical "
        "type from ID X3JpZ2h0X18=: Bad Parameters: Unable to cast cortical ID bytes '_right__' to "
        "a core cortical type!")
    assert res["ds_inc"] == IdResolution(CorticalID(b"cs_inc__"), "renamed", res["ds_inc"].message)
    g = json.loads((ROOT / "feagi_embed" / "genomes" / "vision_genome.json").read_text())
    assert brain_regions_rejection(g["brain_regions"]) == (
        "Backend error: Neuroembryogenesis failed: Invalid area: Parent region root does not exist")
    # its IDs (engine run with brain_regions removed, 2026-11-22)
    ids, dst, names = blueprint_ids(g)
    res = resolve_genome_ids(ids, g["version"], names, dst_keys=dst)
    assert res["iic700"].cortical_id.raw == b"isvi\x79\x00\x00\x00"
    assert res["ogaz00"].cortical_id.raw == b"ogaz\x02\x00\x00\x00"
    assert res["_power"].cortical_id.raw == b"___power"
    assert {r.action for r in res.values()} <= {"kept", "renamed", "migrated"}


# ---------------------------------------------------------------------------------------------
# CorticalID value type
# ---------------------------------------------------------------------------------------------
def test_base64_round_trip_and_views():
    for raw in (b"___power", b"c__for__", b"isvi\x49\x00\x00\x00", b"omot\x05\x00\x00\x00",
                b"m5Fmem__", bytes([ord("i"), 0xFF, 0, 1, 2, 3, 4, 5])):
        cid = CorticalID(raw)
        assert len(cid.b64) == 12 and cid.b64.endswith("=")
        assert CorticalID.from_b64(cid.b64) == cid
        assert base64.b64decode(cid.b64) == raw
        assert str(cid) == cid.b64
        assert hash(cid) == hash(CorticalID(bytes(raw)))
    assert CorticalID(b"___power").b64 == "X19fcG93ZXI="
    assert CorticalID.from_b64("Y19fZm9yX18=").raw == b"c__for__"
    assert CorticalID.from_ascii("c__for") == CorticalID(b"c__for__")
    assert [CorticalID(r).kind for r in (b"___death", b"c__for__", b"m__bac__", b"ipro\x01\0\0\0",
                                         b"omot\x05\0\0\0")] == ["core", "custom", "memory", "ipu", "opu"]


@pytest.mark.parametrize("bad", ["", "X19fcG93ZXI", "X19fcG93ZXI==", "eHh4eHh4eHg=", "aXBybwEAAAB=",
                                 "!!!!!!!!!!!!", "X19fcG93ZXJh"])
def test_from_b64_rejects(bad):
    with pytest.raises(ValueError):
        CorticalID.from_b64(bad)


def test_constructor_rejects():
    for raw in (b"c__for_", b"c__for___", b"xabcdefg", "c__for__"):
        with pytest.raises(ValueError):
            CorticalID(raw)
    with pytest.raises((AttributeError, Exception)):
        CorticalID(b"c__for__").raw = b"c__bac__"  # frozen


def test_ordering_is_bytewise():
    ids = [CorticalID(r) for r in (b"omot\x05\0\0\0", b"___power", b"isvi\x89\0\0\0", b"isvi\x09\0\0\0",
                                   b"c__for__", b"___death", b"m__bac__")]
    assert [c.raw for c in sorted(ids)] == sorted(c.raw for c in ids)
    assert CorticalID(b"___death") < CorticalID(b"___power") < CorticalID(b"c__for__")
    assert CorticalID(b"isvi\x09\0\0\0") < CorticalID(b"isvi\x89\0\0\0")
    assert not CorticalID(b"c__for__") < CorticalID(b"c__for__")


def test_core_area_constants():
    assert [c.raw for c in CORE_AREA_IDS] == [b"___death", b"___fatig", b"___fear_", b"___hope_",
                                              b"___pain_", b"___pleas", b"___power"]
    assert list(CORE_AREA_IDS) == sorted(CORE_AREA_IDS)
    assert {c.raw: n for c, n in CORE_AREA_NAMES.items()} == {
        b"___death": "Death", b"___fatig": "Fatigue", b"___fear_": "Fear", b"___hope_": "Hope",
        b"___pain_": "Pain", b"___pleas": "Pleasure", b"___power": "Brain_Power"}


# ---------------------------------------------------------------------------------------------
# migration families, expected bytes written by hand
# ---------------------------------------------------------------------------------------------
def one(spelling: str, version: str = "2.0", **kw) -> IdResolution:
    return resolve_genome_ids([spelling], version, **kw)[spelling]


# tile t -> byte 4 = (t << 4) | 9 (CartesianPlane), frame Absolute, group 0
SEGMENTED = {t: b"isvi" + bytes([(t << 4) | 9, 0, 0, 0]) for t in range(9)}


@pytest.mark.parametrize("spelling,raw", [
    ("iic000", SEGMENTED[0]), ("iic400", SEGMENTED[4]), ("iic800", SEGMENTED[8]),
    ("iic0ab", SEGMENTED[0]), ("iic4000", SEGMENTED[4]), ("iic400__", SEGMENTED[4]),
    ("iv00BL", SEGMENTED[0]), ("iv00BM", SEGMENTED[1]), ("iv00BR", SEGMENTED[2]),
    ("iv00ML", SEGMENTED[3]), ("iv00_C", SEGMENTED[4]), ("iv00MR", SEGMENTED[5]),
    ("iv00TL", SEGMENTED[6]), ("iv00TM", SEGMENTED[7]), ("iv00TR", SEGMENTED[8]),
    ("i__svi", SEGMENTED[0]),
    ("omot00", b"omot\x05\x00\x00\x00"), ("o__mot", b"omot\x05\x00\x00\x00"),   # SignedPercentage
    ("omot00x", b"omot\x05\x00\x00\x00"), ("omot00__", b"omot\x05\x00\x00\x00"),
    ("ogaz00", b"ogaz\x02\x00\x00\x00"),                                        # Percentage2D
    ("ogaz01", b"ogaz\x11\x00\x00\x00"),                                        # sub 1, Percentage
    ("i__pro", b"ipro\x01\x00\x00\x00"), ("iqzpro", b"ipro\x01\x00\x00\x00"),
    ("i__inf", b"iinf\x01\x00\x00\x00"), ("i__bat", b"ibat\x01\x00\x00\x00"),
    ("i__dgp", b"idgp\x00\x00\x00\x00"),                                        # Boolean
    ("i__mis", b"imis\x0a\x00\x00\x00"),                                        # Misc
    ("i__rim", b"irim\x07\x00\x00\x00"), ("i__cpo", b"icpo\x03\x00\x00\x00"),
    ("o_spos", b"opos\x0b\x00\x00\x00"), ("o__pse", b"opse\x01\x00\x00\x00"),
    ("o__ang", b"oang\x07\x00\x00\x00"),
])
def test_io_migrations(spelling, raw):
    r = one(spelling)
    assert r.cortical_id == CorticalID(raw), r
    assert r.action == "migrated" and r.message


def test_io_encoding_helper():
    assert io_cortical_id("i", "svi", 9, sub_unit=7).raw == b"isvi\x79\x00\x00\x00"
    assert io_cortical_id("i", "pro", 1, unit_index=3).raw == b"ipro\x01\x00\x03\x00"  # REST API
    assert io_cortical_id("o", "gaz", 1, sub_unit=1, unit_index=5).raw == b"ogaz\x11\x00\x05\x00"
    assert io_cortical_id("i", "acc", 3, incremental=True, fractional=True).raw[4:6] == b"\x03\x03"
    assert SUPPORTED_IO_UNITS["o"]["mot"].raw == b"omot\x05\x00\x00\x00"
    assert set(SUPPORTED_IO_UNITS["i"]) == {"agp", "aud", "bat", "cnt", "cpo", "dgp", "dpt", "img",
                                            "inf", "mis", "pro", "rim", "seg", "shk", "sim", "svi",
                                            "svm", "ten"}


@pytest.mark.parametrize("spelling,raw", [
    ("i__gyr", b"ci__gyr_"), ("ieuler", b"cieuler_"), ("o__ser", b"co__ser_"),
    ("o_init", b"co_init_"), ("o_misc", b"co_misc_"), ("i_spos", b"ci_spos_"),
    ("iv00CC", b"civ00CC_"), ("iv00bl", b"civ00bl_"), ("iv01BL", b"civ01BL_"),
    ("iic900", b"ciic900_"), ("omot01", b"comot01_"), ("ogaz02", b"cogaz02_"),
    ("i__mot", b"ci__mot_"), ("o__pro", b"co__pro_"), ("o__acc", b"co__acc_"),
])
def test_unsupported_io_shorthands_become_custom(spelling, raw):
    r = one(spelling)
    assert r == IdResolution(CorticalID(raw), "migrated", r.message)
    assert "not in supported IO types; mapped to custom" in r.message
    assert r.cortical_id.kind == "custom"


def test_acc_and_gyq_shorthands_are_left_alone():
    for s, raw in (("i__acc", b"i__acc__"), ("ii_acc", b"ii_acc__"), ("i__gyq", b"i__gyq__")):
        r = one(s)
        assert (r.cortical_id.raw, r.action) == (raw, "kept")


def test_unit_collisions_fall_back_to_custom():
    res = resolve_genome_ids(["i__inf", "ii_inf"], "2.0")                    # autopilot_static_1
    assert res["i__inf"].cortical_id.raw == b"iinf\x01\x00\x00\x00"
    assert res["ii_inf"].cortical_id.raw == b"cii_inf_"
    res = resolve_genome_ids(["omot00", "o__mot", "ogaz00", "o__gaz"], "2.0")  # legacy IDs win
    assert res["o__mot"].cortical_id.raw == b"co__mot_"
    assert res["o__gaz"].cortical_id.raw == b"co__gaz_"
    res = resolve_genome_ids(["iic000", "i__svi"], "2.0")
    assert res["i__svi"].cortical_id.raw == b"ci__svi_"
    res = resolve_genome_ids(["i__pro", "aXBybwEAAAA="], "2.0")               # base64 holds it
    assert (res["i__pro"].cortical_id.raw, res["aXBybwEAAAA="].action) == (b"ci__pro_", "kept")
    # a destination-only key takes part in the migration (sorted with the blueprint IDs)
    res = resolve_genome_ids(["ii_inf"], "2.0", dst_keys=["i__inf"])
    assert res["ii_inf"].cortical_id.raw == b"cii_inf_"
    assert resolve_genome_ids(["ii_inf"], "2.0")["ii_inf"].cortical_id.raw == b"iinf\x01\x00\x00\x00"


def test_custom_collision_skipped_then_parsed():
    # the custom target 'ci_abc__' is taken (any spelling of it) -> shorthand kept as 'i_abc___'
    for other in ("ci_abc", "ci_abc__", "Y2lfYWJjX18=", "Ci_abc", "ti_abc", "xi_abc__"):
        res = resolve_genome_ids(["i_abc_", other], "2.0")
        assert res["i_abc_"].cortical_id.raw == b"i_abc___", other
        assert "custom ID collision, skipped" in res["i_abc_"].message
        assert res[other].cortical_id.raw == b"ci_abc__"
    res = resolve_genome_ids(["i_abc_", "CI_abc"], "2.0")                    # 'cI_abc__' differs
    assert res["i_abc_"].cortical_id.raw == b"ci_abc__"
    # ...and the genome is rejected when the kept shorthand has invalid IO bytes
    res = resolve_genome_ids(["i__gyr", "ci__gyr_"], "2.0")
    assert res["i__gyr"] == IdResolution(None, "rejected", (
        "Invalid input: Failed to parse genome: Invalid cortical area: Failed to determine cortical "
        "type from ID i__gyr: ConstError: CartesianPlane variant does not support positioning "
        "parameter"))


@pytest.mark.parametrize("spelling,raw,action", [
    ("_power", b"___power", "renamed"), ("___pwr", b"___power", "renamed"),
    ("___power", b"___power", "kept"), ("___pwr__", b"___power", "renamed"),
    ("X19fcG93ZXI=", b"___power", "kept"),
    ("_death", b"___death", "renamed"), ("___death", b"___death", "kept"),
    ("_fatigue", b"___fatig", "renamed"), ("___fatig", b"___fatig", "kept"),
    ("_pain", b"___pain_", "renamed"), ("___pain_", b"___pain_", "kept"),
    ("_pleasure", b"___pleas", "renamed"), ("___pleas", b"___pleas", "kept"),
    ("_fear", b"___fear_", "renamed"), ("_hope", b"___hope_", "renamed"),
])
def test_core_spellings(spelling, raw, action):
    for version in ("2.0", "3.0"):
        r = one(spelling, version)
        assert (r.cortical_id.raw, r.action) == (raw, action), (spelling, version)


@pytest.mark.parametrize("spelling", ["_right", "__back", "_steer", "_fatig", "_pleas", "______",
                                      "____abcd", "_abcdefg", "_power__", "_death__", "X2FiY2RlZmc="])
def test_unknown_core_ids_reject_the_genome(spelling):
    r = one(spelling)
    assert r.action == "rejected" and r.cortical_id is None
    assert re.fullmatch(r"Invalid input: Failed to parse genome: Invalid cortical area: Failed to "
                        r"determine cortical type from ID \S+: Bad Parameters: Unable to cast "
                        r"cortical ID bytes '_.{7}' to a core cortical type!", r.message), r.message


@pytest.mark.parametrize("spelling,raw", [
    ("CRSMot", b"cRSMot__"), ("CIHMot", b"cIHMot__"), ("MLIcom", b"mLIcom__"),
    ("M5Fmem", b"m5Fmem__"), ("t__pro", b"c__pro__"), ("T__pro", b"c__pro__"),
    ("ds_inc", b"cs_inc__"), ("1_test", b"c_test__"), ("I__pro", b"i__pro__"),
    ("Iabcdefg", b"iabcdefg"), ("xabcdefg", b"cabcdefg"), ("Cabcdefg", b"cabcdefg"),
])
def test_first_character_normalisation(spelling, raw):
    for version in ("2.0", "3.0"):
        r = one(spelling, version)
        assert (r.cortical_id.raw, r.action) == (raw, "renamed"), (spelling, version)


@pytest.mark.parametrize("spelling,raw", [
    ("c__for", b"c__for__"), ("c__for__", b"c__for__"), ("Y19fZm9yX18=", b"c__for__"),
    ("cM0Tim", b"cM0Tim__"), ("m__bac", b"m__bac__"), ("c_abcdef", b"c_abcdef"),
    ("iv00BL__", b"iv00BL__"), ("omot01__", b"omot01__"), ("i__pro__", b"i__pro__"),
    ("aW1pcwoAAAA=", b"imis\x0a\x00\x00\x00"),   # a base64 MiscData ID is not migrated by the release
])
def test_kept_spellings(spelling, raw):
    r = one(spelling, names={spelling: "vision_LL"})
    assert r == IdResolution(CorticalID(raw), "kept", r.message)


@pytest.mark.parametrize("spelling", ["c_abc", "c_abcde", "___pain", "_power_", "iic00", "abcd", "",
                                      "cabcdefgh", "Y19fZm9yX18", "aXBybwEAAAA==", "eHh4eHh4eHg=",
                                      "Q0FCQ0RFRkc=", "omot01x", "iv00BLx", "isvi"])
def test_dropped_spellings(spelling):
    r = one(spelling)
    assert r == IdResolution(None, "dropped", (
        f"Skipping invalid cortical_id '{spelling}': Invalid cortical area: Invalid cortical_id "
        f"length: '{spelling}' (expected 6 or 8 ASCII chars, or base64)"))


@pytest.mark.parametrize("spelling,error", [
    ("O__mot", "Invalid variant type!"), ("ipro____", "Invalid variant type!"),
    ("i__gyr__", "CartesianPlane variant does not support positioning parameter"),
    ("iic9____", "Invalid variant type!"), ("i__mot__", "Invalid variant type!"),
    ("aXF6azliX18=", "CartesianPlane variant does not support positioning parameter"),
])
def test_invalid_io_bytes_reject_the_genome(spelling, error):
    r = one(spelling)
    assert r.action == "rejected" and r.message.endswith("ConstError: " + error)


def test_io_flag_check():
    for n in range(16):
        for b5 in (0x60, 0x61, 0x62, 0x63):
            raw = b"iqzk" + bytes([0x30 + n, b5]) + b"Zz"
            err = io_flag_error(raw)
            if n >= 12:
                assert err == "Invalid variant type!"
            elif n >= 9 and b5 & 2:
                assert err.endswith("variant does not support positioning parameter")
            else:
                assert err is None


def test_version_3_has_no_legacy_migration():
    res = resolve_genome_ids(["iic000", "i__pro", "omot00", "c__for", "CRSMot", "_power"], "3.0")
    assert {s: r.cortical_id.raw for s, r in res.items()} == {
        "iic000": b"iic000__", "i__pro": b"i__pro__", "omot00": b"omot00__", "c__for": b"c__for__",
        "CRSMot": b"cRSMot__", "_power": b"___power"}
    r = one("i__gyr", "3.0")
    assert r.action == "rejected" and "from ID i__gyr: ConstError" in r.message
    assert "from ID _right: Bad Parameters" in one("_right", "3.0").message
    assert "from ID X3JpZ2h0X18=: Bad Parameters" in one("_right", "2.1").message


@pytest.mark.parametrize("version", ["2.5", "2", "3.1", "1.0", "2.0.1", ""])
def test_versions_the_engine_refuses(version):
    with pytest.raises(ValueError, match="Unsupported legacy genome version string"):
        resolve_genome_ids(["c__for"], version)


def test_collisions():
    res = resolve_genome_ids(["_power", "___pwr", "c__for", "c__for__", "iic000", "iv00BL"], "2.0")
    assert find_collisions(res) == {
        CorticalID(b"___power"): ["___pwr", "_power"],
        CorticalID(b"c__for__"): ["c__for", "c__for__"],
        CorticalID(SEGMENTED[0]): ["iic000", "iv00BL"]}
    assert "merges them" in res["_power"].message and "'_power'" in res["_power"].message
    assert "'iv00BL') winning" in res["iic000"].message
    assert "varies from run to run" in res["c__for"].message


def test_destination_keys():
    ids = ["c__src", "i__gyr", "CRSMot", "t__pro", "iic000", "omot00"]
    dst = ["i__gyr", "c__for__", "c__zzz", "CRSMot", "t__pro", "_power", "iic000", "i__pro",
           "i__acc", "o__mot", "_right", "O__mot", "isvi", "Y19fZm9yX18="]
    res = resolve_destination_keys(dst, "2.0", ids)
    got = {k: (r.cortical_id.raw if r.cortical_id else None) for k, r in res.items()}
    assert got == {   # engine: GET /v1/cortical_area/cortical_map_detailed, 2026-11-22
        "i__gyr": b"ci__gyr_", "c__for__": b"c__for__", "c__zzz": b"c__zzz__",
        "CRSMot": b"cRSMot__", "t__pro": b"c__pro__", "_power": b"___power",
        "iic000": SEGMENTED[0], "i__pro": b"ipro\x01\x00\x00\x00", "i__acc": b"i__acc__",
        "o__mot": b"co__mot_", "_right": b"_right__", "O__mot": b"o__mot__", "isvi": None,
        "Y19fZm9yX18=": b"c__for__"}
    assert res["isvi"].action == "dropped" and "keeping original" in res["isvi"].message
    assert res["_right"].action == "kept" and "not a valid cortical area ID" in res["_right"].message


# ---------------------------------------------------------------------------------------------
# brain regions (vision_genome's rejection)
# ---------------------------------------------------------------------------------------------
RB = "Root Brain Region"
U, U2 = "8315078e-b03f-49f6-9b63-f8066a33e7e6", "e570571e-027f-4b47-897c-79d0fe599e64"


@pytest.mark.parametrize("regions,parent", [   # each case run on the release engine, 2026-11-22
    ({"root": {"title": RB}, "kid": {"title": "K", "parent_region_id": "root"}}, "root"),
    ({"root": {"title": RB}, U2: {"title": "K", "parent_region_id": "root"}}, "root"),
    ({"root": {"title": RB}, "kid": {"title": "K", "parent_region_id": "nonexistent"}}, "nonexistent"),
    ({"root": {"title": RB}, "kid": {"title": "K", "parent_region_id": ""}}, ""),
    ({"root": {"title": RB}, "kid": {"title": "K", "parent_region_id": "kid"}}, "kid"),
    ({"root": {"title": RB}, "kid": {"title": "K", "parent_region_id": "k2"}, "k2": {"title": "2"}}, "k2"),
    ({U: {"title": RB}, "kid": {"title": "K", "parent_region_id": U2}}, U2),
    ({U: {"title": RB}, "kid": {"title": "K", "parent_region_id": U.upper()}}, U.upper()),
    ({U.replace("-", ""): {"title": RB}, "kid": {"title": "K", "parent_region_id": U.replace("-", "")}},
     U.replace("-", "")),
    ({"root": {"title": RB}, "kid": {"title": "K", "parent_region_id": "root"}, "x": 3}, "root"),
])
def test_brain_regions_rejected(regions, parent):
    assert brain_regions_rejection(regions) == (
        f"Backend error: Neuroembryogenesis failed: Invalid area: Parent region {parent} does not exist")


@pytest.mark.parametrize("regions", [
    None, {}, [],
    {"root": {"title": RB, "parent_region_id": None}},
    {"root": {"title": RB, "parent_region_id": "root"}},            # a root's parent is ignored
    {"root": {"title": RB, "parent_region_id": "nonexistent"}},
    {U: {"title": RB}, "kid": {"title": "K", "parent_region_id": U}},
    {U.upper(): {"title": RB}, "kid": {"title": "K", "parent_region_id": U}},
    {"root": {"title": RB}, "kid": {"title": "K", "parent_region_id": None}},
    {"root": {"title": "R"}, "kid": {"title": "K", "parent_region_id": "root"}},  # no root title
    {"root": {"title": "root brain region"}, "kid": {"title": "K", "parent_region_id": "root"}},
    {"kid": {"title": "K", "parent_region_id": "root"}},
    {"root": {"title": RB}, "root2": {"title": RB}},
    {U: {"title": RB}, U2: {"title": "A", "parent_region_id": U}},
])
def test_brain_regions_accepted(regions):
    assert brain_regions_rejection(regions) is None

"""FEAGI cortical-area IDs: the engine's 8-byte IDs and how a genome's spellings turn into them.

A cortical area is identified inside FEAGI by 8 raw bytes, written as 12-character standard base64
(with ``=``). A genome spells IDs in several ways: flat 2.x genomes use 6-character ASCII IDs
(``c__for``, ``iic000``, ``omot00``, ``_power``, ``CRSMot``…), sometimes 8-character ASCII or base64;
3.0 genomes use base64. :func:`resolve_genome_ids` maps every spelling of a genome to the ID the
**released** engine (PyPI ``feagi-core`` 2.6.10, binary ``feagi 0.0.67``, crates 0.0.49, e.g.
``feagi-evolutionary-0.0.49``) gives it, or says that the engine drops the area or rejects the genome.

Authority: the released engine's behaviour, recorded with ``/work/shared/tools/feagi-oracle`` and
with small synthetic genomes uploaded to the same binary (marked *oracle observation* below). The
source snapshot ``feagi/feagi-core@44cc7a79`` ("HEAD") is cited where it explains an observation;
where HEAD and the release differ, the release wins and the difference is listed in
:data:`HEAD_DIFFERENCES`.

Byte layout (``feagi-structures/src/genomic/cortical_area/cortical_id.rs`` for byte 0; IO layout from
oracle observation of the release, which differs from HEAD's
``io_cortical_area_configuration_flag.rs::as_io_cortical_id``)::

    byte 0     type: b"c" custom (LIF), b"m" memory, b"_" core, b"i" IPU (sensor), b"o" OPU (motor)
    core       the 8 ASCII bytes name the core area: ___death ___power ___fatig ___pain_ ___pleas
               ___fear_ ___hope_ (+ the legacy byte string ___pwr__ read as ___power)
    IPU/OPU    bytes 1-3  unit type reference, e.g. b"pro" proximity, b"svi" segmented vision
               byte 4     (sub_unit << 4) | variant   variant 0 Boolean, 1 Percentage, 2 Percentage2D,
                          3 Percentage3D, 4 Percentage4D, 5 SignedPercentage, 6 SignedPercentage2D,
                          7 SignedPercentage3D, 8 SignedPercentage4D, 9 CartesianPlane, 10 Misc,
                          11 PoseEstimation; 12-15 invalid
               byte 5     bit 0 frame handling (0 Absolute, 1 Incremental),
                          bit 1 neuron positioning (0 Linear, 1 Fractional; must be 0 for 9, 10, 11)
               bytes 6-7  unit (group) index, little-endian (0 for every ID the migration creates)

Example: segmented-vision tile 4 (centre), group 0, Absolute = ``b"isvi\\x49\\x00\\x00\\x00"`` =
``aXN2aUkAAAA=``; the release engine's REST API created ``b"ipro\\x01\\x00\\x03\\x00"`` for proximity
unit 3 (oracle observation, ``POST /v1/cortical_area/cortical_area``).

Pure Python, no third-party imports.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from typing import Iterable, Literal, Mapping

__all__ = [
    "CorticalID", "IdResolution", "Action",
    "CORE_AREA_IDS", "CORE_AREA_NAMES", "SUPPORTED_IO_UNITS", "SEGMENTED_VISION_TILES",
    "ACCEPTED_VERSIONS", "HEAD_DIFFERENCES", "ROOT_BRAIN_REGION_TITLE",
    "io_cortical_id", "io_flag_error", "resolve_genome_ids", "resolve_destination_keys",
    "find_collisions", "brain_regions_rejection",
]

Action = Literal["kept", "renamed", "migrated", "dropped", "rejected"]

_KINDS = {ord("c"): "custom", ord("m"): "memory", ord("_"): "core", ord("i"): "ipu", ord("o"): "opu"}


# --------------------------------------------------------------------------------------------------
# CorticalID
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class CorticalID:
    """The engine's 8-byte cortical-area ID (immutable, hashable, ordered by raw bytes).

    Attributes:
        raw: the 8 bytes (``bytes`` of length 8; byte 0 one of ``c m _ i o``).

    Properties: ``b64`` (12-char standard base64 with ``=``, FEAGI's external form), ``kind``
    (``"core" | "custom" | "memory" | "ipu" | "opu"`` from byte 0). ``str(cid)`` is ``b64``.
    Ordering (``<``) compares ``raw`` bytewise. The engine often iterates in the order of the
    base64 *strings*, which differs (``"X19f…"`` < ``"Y19f…"`` < ``"aXN2…"``); use
    ``sorted(ids, key=lambda c: c.b64)`` for that.

    Raises:
        ValueError: ``raw`` is not 8 bytes or byte 0 is not a valid type byte (FEAGI:
            ``cortical_id.rs::CorticalID::try_from_bytes`` -> "Unable to deserialize cortical ID
            bytes as any possible type!").
    """

    raw: bytes

    def __post_init__(self) -> None:
        raw = self.raw
        if isinstance(raw, (bytearray, memoryview)):
            raw = bytes(raw)
            object.__setattr__(self, "raw", raw)
        if not isinstance(raw, bytes) or len(raw) != 8:
            raise ValueError(f"a cortical ID is 8 bytes, got {raw!r}")
        if raw[0] not in _KINDS:
            raise ValueError(f"cortical ID {raw!r}: byte 0 must be one of c, m, _, i, o "
                             "(FEAGI: Unable to deserialize cortical ID bytes as any possible type!)")

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_b64(cls, text: str) -> "CorticalID":
        """Decode FEAGI's 12-character base64 form.

        Raises:
            ValueError: not canonical standard base64 of exactly 8 bytes, or invalid byte 0.
        """
        raw = _b64_to_raw(text)
        if raw is None:
            raise ValueError(f"{text!r} is not the base64 form of an 8-byte cortical ID")
        return cls(raw)

    @classmethod
    def from_ascii(cls, text: str) -> "CorticalID":
        """An 8-character ASCII ID, or a 6-character one right-padded with ``_`` (no migration).

        Raises:
            ValueError: not 6 or 8 ASCII characters, or invalid byte 0.
        """
        if not text.isascii() or len(text) not in (6, 8):
            raise ValueError(f"{text!r} is not a 6- or 8-character ASCII cortical ID")
        return cls(text.ljust(8, "_").encode("ascii"))

    # views ----------------------------------------------------------------------------------
    @property
    def b64(self) -> str:
        """12-character standard base64 with padding, e.g. ``"X19fcG93ZXI="`` for ``___power``."""
        return base64.b64encode(self.raw).decode("ascii")

    @property
    def kind(self) -> str:
        """``"core"``, ``"custom"``, ``"memory"``, ``"ipu"`` or ``"opu"`` (from byte 0)."""
        return _KINDS[self.raw[0]]

    @property
    def is_core(self) -> bool:
        return self.raw[0] == ord("_")

    def __str__(self) -> str:
        return self.b64

    def __repr__(self) -> str:
        return f"CorticalID({self.b64!r} = {self.raw!r})"


def _b64_to_raw(text: str) -> bytes | None:
    """Strict base64 -> 8 bytes (Rust ``base64::general_purpose::STANDARD``: canonical padding and
    zero trailing bits), else None."""
    if not isinstance(text, str) or len(text) != 12 or not text.isascii():
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 8 or base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


# --------------------------------------------------------------------------------------------------
# Core areas
# --------------------------------------------------------------------------------------------------
#: The 7 core areas the release engine always creates (adding missing ones with 1x1x1 voxels), in
#: ascending byte order. Oracle observation (every dump has exactly these 7; log lines
#: "Added missing core area: _fatigue (cortical_idx=2)"); HEAD
#: ``templates.rs::ensure_core_components`` adds only ``_death``, ``_power``, ``_fatigue``.
CORE_AREA_IDS: tuple[CorticalID, ...] = tuple(sorted(CorticalID(r) for r in (
    b"___death", b"___fatig", b"___fear_", b"___hope_", b"___pain_", b"___pleas", b"___power")))

#: Display names the release engine gives the core areas it adds itself (oracle observation: dumps
#: of genomes without these areas). A core area the genome declares keeps the genome's
#: ``__name-t`` (e.g. ``Brain_Power``, ``Brain_Death``, ``Power``).
CORE_AREA_NAMES: Mapping[CorticalID, str] = {
    CorticalID(b"___death"): "Death",
    CorticalID(b"___fatig"): "Fatigue",
    CorticalID(b"___fear_"): "Fear",
    CorticalID(b"___hope_"): "Hope",
    CorticalID(b"___pain_"): "Pain",
    CorticalID(b"___pleas"): "Pleasure",
    CorticalID(b"___power"): "Brain_Power",
}

_CORE_BYTES = {c.raw for c in CORE_AREA_IDS}
#: Byte strings the release engine reads as a core type besides the canonical 7 (oracle observation:
#: the 8-char spelling ``___pwr__`` becomes ``___power``; the binary holds ``___pwr__`` next to the
#: 7 canonical core byte strings).
_LEGACY_CORE_BYTES = {b"___pwr__": b"___power"}

#: Exact genome spellings the engine reads as core areas (oracle observation, every one tested on
#: the release binary; HEAD ``parser.rs::string_to_cortical_id`` knows only the first 7).
_CORE_ALIASES: dict[str, bytes] = {
    "_power": b"___power", "___pwr": b"___power", "___power": b"___power",
    "_death": b"___death", "___death": b"___death",
    "_fatigue": b"___fatig", "___fatig": b"___fatig",
    "_pain": b"___pain_", "___pain_": b"___pain_",
    "_pleasure": b"___pleas", "___pleas": b"___pleas",
    "_fear": b"___fear_", "___fear_": b"___fear_",
    "_hope": b"___hope_", "___hope_": b"___hope_",
}
#: The subset handled by the 2.x migration step (``migrator.rs::map_old_id_to_new``); the others are
#: resolved when the genome is parsed (same result, no engine warning either way).
_MIGRATOR_CORE = {"_power": b"___power", "___pwr": b"___power", "_death": b"___death"}


# --------------------------------------------------------------------------------------------------
# IO encoding
# --------------------------------------------------------------------------------------------------
_VARIANT_NAMES = ("Boolean", "Percentage", "Percentage2D", "Percentage3D", "Percentage4D",
                  "SignedPercentage", "SignedPercentage2D", "SignedPercentage3D",
                  "SignedPercentage4D", "CartesianPlane", "Misc", "PoseEstimation")


def io_cortical_id(kind: Literal["i", "o"], unit_ref: str, variant: int, *, sub_unit: int = 0,
                   unit_index: int = 0, incremental: bool = False,
                   fractional: bool = False) -> CorticalID:
    """Build an IPU/OPU ID in the release engine's layout (see the module docstring).

    Args:
        kind: ``"i"`` (IPU) or ``"o"`` (OPU).
        unit_ref: 3 ASCII characters, e.g. ``"svi"``.
        variant: 0…11 (``_VARIANT_NAMES``).
        sub_unit: 0…15, index of the area within a multi-area unit (segmented-vision tile, gaze part).
        unit_index: 0…65535, the unit's group index.
        incremental, fractional: the frame-handling / positioning bits of byte 5.

    Returns:
        The CorticalID. Raises ValueError on out-of-range arguments.

    Source: oracle observation (IDs the release engine's migration and REST API create).
    """
    if kind not in ("i", "o") or len(unit_ref) != 3 or not unit_ref.isascii():
        raise ValueError(f"bad IO kind/unit reference {kind!r}/{unit_ref!r}")
    if not 0 <= variant <= 11 or not 0 <= sub_unit <= 15 or not 0 <= unit_index <= 0xFFFF:
        raise ValueError("variant 0..11, sub_unit 0..15, unit_index 0..65535")
    raw = (kind + unit_ref).encode("ascii") + bytes([
        (sub_unit << 4) | variant, int(incremental) | (int(fractional) << 1),
        unit_index & 0xFF, unit_index >> 8])
    return CorticalID(raw)


def io_flag_error(raw: bytes) -> str | None:
    """Why the release engine refuses an IPU/OPU ID's configuration bytes, or None if it accepts them.

    Args:
        raw: 8 bytes starting with ``i`` or ``o``.

    Returns:
        The engine's ``ConstError`` text (``"Invalid variant type!"`` for variants 12…15,
        ``"<Variant> variant does not support positioning parameter"`` for CartesianPlane, Misc and
        PoseEstimation with byte-5 bit 1 set) or None. Bits of byte 5 other than 0 and 1, the high
        nibble of byte 4 and bytes 1-3 and 6-7 are not checked.

    Source: oracle observation (8-character IDs ``iqzk<b4><b5>Zz`` for every variant nibble and
    bits 0/1 of byte 5); HEAD ``io_cortical_area_configuration_flag.rs::
    try_from_data_type_configuration_flag`` uses the whole low byte as the variant instead.
    """
    variant = raw[4] & 0x0F
    if variant > 11:
        return "Invalid variant type!"
    if variant >= 9 and raw[5] & 0x02:
        return f"{_VARIANT_NAMES[variant]} variant does not support positioning parameter"
    return None


#: IO unit types the release engine's 2.x migration recognises in a legacy 6-character shorthand
#: ``[io]??XYZ`` (``XYZ`` = characters 3-5), with the ID it gives the first area of group 0
#: (Absolute, Linear). Oracle observation: every lowercase ``XYZ`` was tried for both domains; the
#: keys equal the release's ``GET /v1/cortical_area/ipu/types`` and ``.../opu/types``. Note
#: ``o…pos`` is the release's *Pose Estimation* unit (HEAD has none), positional servo is ``pse``.
SUPPORTED_IO_UNITS: Mapping[str, Mapping[str, CorticalID]] = {
    "i": {s: io_cortical_id("i", s, v) for s, v in (
        ("agp", 1), ("aud", 10), ("bat", 1), ("cnt", 1), ("cpo", 3), ("dgp", 0), ("dpt", 10),
        ("img", 9), ("inf", 1), ("mis", 10), ("pro", 1), ("rim", 7), ("seg", 10), ("shk", 1),
        ("sim", 8), ("svi", 9), ("svm", 1), ("ten", 10))},
    "o": {s: io_cortical_id("o", s, v) for s, v in (
        ("ang", 7), ("aud", 10), ("cnt", 1), ("gaz", 2), ("ifs", 1), ("img", 9), ("mis", 10),
        ("mot", 5), ("pos", 11), ("pse", 1), ("ptr", 3), ("seg", 10), ("ten", 10))},
}

#: Display names of the release's IO unit types (``GET /v1/cortical_area/ipu/types``, ``opu/types``).
_UNIT_NAMES = {
    "iagp": "Analog GPIO Sensor", "iaud": "Audio Input", "ibat": "Battery Sensor",
    "icnt": "Count Input", "icpo": "Cartesian Position Sensor", "idgp": "Digital GPIO Sensor",
    "idpt": "Depth Map", "iimg": "Simple Vision", "iinf": "Infrared Sensor",
    "imis": "Miscellaneous Input", "ipro": "Proximity Sensor", "irim": "Raw IMU",
    "iseg": "Object Segmentation", "ishk": "Shock sensor", "isim": "Smart IMU",
    "isvi": "Segmented Vision", "isvm": "Servo Encoder", "iten": "Text Input (English)",
    "oang": "Angular Pointer", "oaud": "Audio Output", "ocnt": "Count Output",
    "ogaz": "Gaze Control", "oifs": "Image Enhancements", "oimg": "Simple Vision",
    "omis": "Miscellaneous Output", "omot": "Rotary Motor", "opos": "Pose Estimation",
    "opse": "Positional Servo", "optr": "Spatial Pointer", "oseg": "Object Segmentation",
    "oten": "Text Output (English)"}

#: IPU shorthand endings (characters 3-5) that the release migration leaves untouched, without a
#: warning (oracle observation over all lowercase endings: only these two; they are HEAD's
#: Accelerometer and Gyroscope unit references, absent from the release's IPU type list). The
#: padded ID then parses as an IPU (``i__acc`` -> ``i__acc__``, Percentage3D(Incremental,
#: Fractional)).
_KEPT_IPU_ENDINGS = frozenset({"acc", "gyq"})

#: ``iv00XY`` segmented-vision shorthands -> tile index (release log text "Legacy segmented-vision
#: shorthand 'iv00BL' mapped to SegmentedVision(tile_index=0) (group=0)"; HEAD
#: ``migrator.rs::apply_legacy_io_shorthand_migration`` has the same table).
SEGMENTED_VISION_TILES: Mapping[str, int] = {
    "BL": 0, "BM": 1, "BR": 2, "ML": 3, "_C": 4, "MR": 5, "TL": 6, "TM": 7, "TR": 8}


def _segmented_vision(tile: int) -> CorticalID:
    return io_cortical_id("i", "svi", 9, sub_unit=tile)


# Gaze unit (2 areas): sub-unit 0 Percentage2D, sub-unit 1 Percentage (release: ogaz00 -> 0x02,
# ogaz01 -> 0x11; oracle observation).
_GAZE = (io_cortical_id("o", "gaz", 2, sub_unit=0), io_cortical_id("o", "gaz", 1, sub_unit=1))
_ROTARY_MOTOR = io_cortical_id("o", "mot", 5)

#: Genome ``version`` strings the release engine accepts (else: "Unsupported legacy genome version
#: string '2.5'. Expected '2.0', '2.1', or '3.0', or an explicit integer `genome_schema_version`";
#: oracle observation). HEAD ``parser.rs`` accepts any "2.*" and "3.0".
ACCEPTED_VERSIONS = ("2.0", "2.1", "3.0")

_ENGINE_PARSE = "Invalid input: Failed to parse genome: Invalid cortical area: "


# --------------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdResolution:
    """What the release engine does with one genome spelling of a cortical-area ID.

    Attributes:
        cortical_id: the engine's 8-byte ID, or None when the area is dropped or the genome rejected.
        action:
            ``"kept"``     the spelling names the ID directly (base64, 8-char ASCII, or 6-char ASCII
                           padded with ``_``);
            ``"renamed"``  the engine rewrites the spelling but keeps the area type: core aliases
                           (``_power``, ``___pwr``, ``_pain``…) and first-character normalisation
                           (``CRSMot`` -> ``cRSMot__``; any first character other than c/m/_/i/o,
                           e.g. ``t__pro``, becomes ``c``, i.e. a custom area);
            ``"migrated"`` the 2.x legacy-ID migration rewrote it (``iic``/``iv00`` -> segmented
                           vision, ``omot00``/``ogaz0x``, supported IO shorthands, and unsupported
                           IO shorthands turned into custom areas);
            ``"dropped"``  the engine skips the area with a warning (bad length/encoding);
            ``"rejected"`` the engine refuses the whole genome (``message`` = the engine's reason,
                           the text after "Failed to load genome: ").
        message: warning/error text for the user; empty for plain ``"kept"`` spellings. Where the
            engine logs its own text it is quoted after ``FEAGI: ``.
    """

    cortical_id: CorticalID | None
    action: Action
    message: str = ""


@dataclass
class _Step:
    spelling: str
    raw: bytes | None = None          # resolved bytes (None: dropped / unresolvable)
    action: Action = "kept"
    message: str = ""
    post_migration: str = ""          # string the blueprint key carries after the 2.x migration
    error: str | None = None          # rejection reason (areas only)


def _rust_parse_u8(text: str) -> int | None:
    """``str::parse::<u8>``: optional ``+``, ASCII digits, value <= 255."""
    if not re.fullmatch(r"\+?[0-9]+", text):
        return None
    v = int(text)
    return v if v <= 255 else None


def _map_old_id(s: str) -> tuple[bytes, str] | None:
    """Release/HEAD ``migrator.rs::map_old_id_to_new``: (target bytes, description) or None.

    Applies to any string with these prefixes (also 7-/8-char ASCII and base64 text), as observed.
    """
    if s.startswith("iic") and len(s) >= 6:
        c = s[3]
        if c.isascii() and c.isdigit() and int(c) <= 8:
            return _segmented_vision(int(c)).raw, f"SegmentedVision tile {c} (group 0)"
    if s.startswith("omot") and len(s) >= 6:
        if _rust_parse_u8(s[4:6]) == 0:
            return _ROTARY_MOTOR.raw, "RotaryMotor (group 0)"
    if s.startswith("ogaz") and len(s) >= 6:
        idx = _rust_parse_u8(s[4:6])
        if idx is not None and idx < len(_GAZE):
            return _GAZE[idx].raw, f"Gaze sub-unit {idx} (group 0)"
    if s in _MIGRATOR_CORE:
        return _MIGRATOR_CORE[s], "core area"
    return None


def _needs_migration(s: str) -> bool:
    """HEAD ``migrator.rs::needs_migration`` (matches the release's observed behaviour)."""
    return (s.startswith(("iic", "omot", "ogaz")) or (s.startswith("_") and len(s) < 8)
            or _is_legacy_io_shorthand(s))


def _is_legacy_io_shorthand(s: str) -> bool:
    """``migrator.rs::is_legacy_io_shorthand``: 6 characters starting with ``i`` or ``o``."""
    return len(s) == 6 and s[0] in "io"


def _normalise(s: str) -> tuple[bytes | None, bool]:
    """The engine's spelling -> bytes step after migration (parse + the v3 normaliser), without the
    type check. Returns (bytes or None if the spelling is dropped, whether it was rewritten).

    Rules (oracle observation): exact core aliases; 12-char canonical base64 of 8 bytes whose
    byte 0 is c/m/_/i/o (no other normalisation); 6- or 8-char ASCII: first character lower-cased,
    replaced by ``c`` unless it is then c/m/_/i/o, then right-padded with ``_`` to 8; the 8-byte
    legacy core string ``___pwr__`` -> ``___power``. Everything else is dropped.
    """
    if s in _CORE_ALIASES:
        raw = _CORE_ALIASES[s]
        return raw, raw.decode("ascii") != s.ljust(8, "_")
    raw = _b64_to_raw(s)
    if raw is not None:
        return (raw, False) if raw[0] in _KINDS else (None, False)
    if not s.isascii() or len(s) not in (6, 8):
        return None, False
    first = s[0].lower()
    if first not in "cm_io":
        first = "c"
    raw = (first + s[1:]).ljust(8, "_").encode("ascii")
    raw = _LEGACY_CORE_BYTES.get(raw, raw)
    return raw, first != s[0] or raw != s.ljust(8, "_").encode("ascii")


def _type_error(raw: bytes) -> str | None:
    """The engine's refusal of a parsed area ID (``CorticalID::as_cortical_type``), or None."""
    if raw[0] == ord("_"):
        if raw not in _CORE_BYTES:
            return ("Bad Parameters: Unable to cast cortical ID bytes "
                    f"'{raw.decode('ascii', 'replace')}' to a core cortical type!")
    elif raw[0] in (ord("i"), ord("o")):
        err = io_flag_error(raw)
        if err:
            return "ConstError: " + err
    return None


def _describe(raw: bytes) -> str:
    """Short human description of an ID for messages."""
    try:
        cid = CorticalID(raw)
    except ValueError:
        return repr(raw)
    text = raw.decode("ascii") if all(32 <= b < 127 for b in raw) else None
    return f"{cid.b64} ({text!r}, {cid.kind})" if text else f"{cid.b64} ({cid.kind})"


def _check_version(version: str) -> None:
    if version not in ACCEPTED_VERSIONS:
        raise ValueError(
            "Invalid input: Failed to parse genome: Invalid genome: Genome chain failed: Failed to "
            f"detect genome schema version: Invalid genome: Unsupported legacy genome version string "
            f"'{version}'. Expected '2.0', '2.1', or '3.0', or an explicit integer "
            "`genome_schema_version`")


# Long by design: one pass that mirrors the release engine's ID pipeline step by step, so that each
# step can be compared with the engine's source side by side.
def _resolve(ids: Iterable[str], version: str, names: Mapping[str, str] | None,
             dst_keys: Iterable[str]) -> tuple[dict[str, _Step], set[str]]:
    """Run the release engine's ID pipeline over the genome's whole ID universe.

    Returns the per-spelling steps (for every ID and destination key) and the set of area
    spellings (blueprint IDs).
    """
    _check_version(version)
    names = names or {}
    area_set = {s for s in ids}
    universe = sorted(area_set | set(dst_keys))   # Rust BTreeSet<String>: byte order
    steps = {s: _Step(s, post_migration=s) for s in universe}

    def label(s: str) -> str:
        return f"{s!r} ({names[s]!r})" if names.get(s) else repr(s)

    skipped_shorthands: set[str] = set()
    if version.startswith("2."):
        # ---- v2 -> v3 migration (release migrator; oracle observation, HEAD migrator.rs) ----
        # IDs already present occupy their bytes (also ASCII spellings, after first-character
        # normalisation; oracle observation: 'ci_abc', 'Ci_abc', 'ti_abc', 'xi_abc__' and the
        # base64 form all block the custom target of 'i_abc_').
        used: set[bytes] = set()
        for s in universe:
            if not _needs_migration(s):
                raw, _ = _normalise(s)
                if raw is not None:
                    used.add(raw)
        legacy: list[str] = []
        for s in universe:
            if not _needs_migration(s):
                continue
            mapped = _map_old_id(s)
            if mapped is not None:
                raw, what = mapped
                used.add(raw)
                st = steps[s]
                st.raw, st.post_migration = raw, CorticalID(raw).b64
                if raw in _CORE_BYTES:
                    st.action = "renamed" if s.ljust(8, "_").encode() != raw else "kept"
                    if st.action == "renamed":
                        st.message = (f"{label(s)} is the legacy spelling of core area "
                                      f"{_describe(raw)}")
                else:
                    st.action = "migrated"
                    st.message = (f"FEAGI migrates legacy ID {label(s)} to {what}: "
                                  f"{_describe(raw)} (engine: silent)")
            elif _is_legacy_io_shorthand(s):
                legacy.append(s)
            # else: engine notes "Cannot auto-migrate cortical ID: '<s>' - no mapping defined" and
            # leaves it to the parser (core aliases like '_pain', or a rejection like '_right').

        for s in legacy:                                    # apply_legacy_io_shorthand_migration
            st = steps[s]
            dom = "IPU" if s[0] == "i" else "OPU"
            if s.startswith("iv00") and s[4:6] in SEGMENTED_VISION_TILES:
                tile = SEGMENTED_VISION_TILES[s[4:6]]
                raw = _segmented_vision(tile).raw          # no collision check (as observed)
                used.add(raw)
                st.raw, st.action, st.post_migration = raw, "migrated", CorticalID(raw).b64
                st.message = (f"FEAGI migrates {label(s)} to segmented-vision tile {tile}: "
                              f"{_describe(raw)}. FEAGI: Legacy segmented-vision shorthand '{s}' "
                              f"mapped to SegmentedVision(tile_index={tile}) (group=0) → "
                              f"'{st.post_migration}'")
                continue
            ending = s[3:6]
            target = SUPPORTED_IO_UNITS[s[0]].get(ending)
            if target is not None and target.raw not in used:
                used.add(target.raw)
                st.raw, st.action, st.post_migration = target.raw, "migrated", target.b64
                unit = s[0] + ending
                st.message = (f"FEAGI migrates {label(s)} to the {dom} unit '{unit}' "
                              f"({_UNIT_NAMES.get(unit, '?')}, group 0): {_describe(target.raw)}. FEAGI: Legacy {dom} shorthand "
                              f"'{s}' matched supported IO type → '{target.b64}'")
                continue
            if s[0] == "i" and ending in _KEPT_IPU_ENDINGS:
                st.message = (f"FEAGI leaves legacy IPU shorthand {label(s)} unchanged (no warning); "
                              f"it is read as the IO ID {s.ljust(8, '_')!r}")
                skipped_shorthands.add(s)
                continue
            custom = b"c" + s.encode("ascii") + b"_"
            why = "not in supported IO types" if target is None else \
                f"its unit '{s[0]}{ending}' is already taken by another area"
            if custom not in used:
                used.add(custom)
                st.raw, st.action, st.post_migration = custom, "migrated", CorticalID(custom).b64
                st.message = (f"FEAGI turns legacy {dom} shorthand {label(s)} into a CUSTOM area "
                              f"{_describe(custom)} ({why}); it is no longer an {dom}. FEAGI: Legacy "
                              f"{dom} shorthand '{s}' not in supported IO types; mapped to custom → "
                              f"'{st.post_migration}'")
            else:
                st.message = (f"FEAGI: Legacy {dom} shorthand '{s}' not in supported IO types; "
                              "custom ID collision, skipped")
                skipped_shorthands.add(s)

    # ---- parse + normaliser (both versions) ----
    for s in universe:
        st = steps[s]
        if st.raw is not None:
            continue
        raw, rewritten = _normalise(s)
        if raw is None:
            st.action = "dropped"
            st.message = (f"Skipping invalid cortical_id '{s}': Invalid cortical area: Invalid "
                          f"cortical_id length: '{s}' (expected 6 or 8 ASCII chars, or base64)")
            continue
        st.raw = raw
        if s in _CORE_ALIASES and rewritten:
            st.action = "renamed"
            st.message = f"{label(s)} is the legacy spelling of core area {_describe(raw)}"
        elif rewritten:
            st.action = "renamed"
            became_custom = s[0].lower() not in "cm_io"
            st.message = (f"FEAGI rewrites {label(s)} to {_describe(raw)}"
                          + (f": first character {s[0]!r} is not a type letter, so the area becomes "
                             "a CUSTOM area" if became_custom else
                             f": first character {s[0]!r} is lower-cased") + " (engine: silent)")
        err = _type_error(raw)
        if err is not None:
            # How the engine prints the ID: 2.x flat genomes carry base64 by then, except legacy
            # IO shorthands the migration left alone; 3.0 genomes print the spelling.
            shown = s if (version == "3.0" or s in skipped_shorthands) else CorticalID(raw).b64
            st.error = (f"{_ENGINE_PARSE}Failed to determine cortical type from ID {shown}: {err}")
    return steps, area_set


def _collision_notes(steps: Mapping[str, _Step], spellings: Iterable[str]) -> dict[str, str]:
    groups: dict[bytes, list[str]] = {}
    for s in spellings:
        st = steps[s]
        if st.raw is not None and st.error is None and st.action != "dropped":
            groups.setdefault(st.raw, []).append(s)
    notes = {}
    for raw, group in groups.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda x: x + "-")
        same_key = len({steps[s].post_migration for s in group}) == 1
        how = (f"FEAGI merges them into one area, gene by gene, the spelling sorting last "
               f"({group[-1]!r}) winning" if same_key else
               "FEAGI keeps only one of them (which one varies from run to run)")
        for s in group:
            others = ", ".join(repr(o) for o in group if o != s)
            notes[s] = f"[collision: {others} also become{'s' if len(group) == 2 else ''} " \
                       f"{CorticalID(raw).b64}; {how}]"
    return notes


def resolve_genome_ids(ids: list[str], version: str, names: dict[str, str] | None = None, *,
                       dst_keys: Iterable[str] = ()) -> dict[str, IdResolution]:
    """Map every cortical-area ID spelled in a genome's blueprint to the release engine's ID.

    Args:
        ids: every area ID of the blueprint as spelled in the genome (flat genomes: the second
            ``-``-separated field of each ``_____10c-<ID>-…`` key; ``_____10b-…`` keys are not
            areas). Order and duplicates do not matter.
        version: the genome's ``version`` string: ``"2.0"`` or ``"2.1"`` (legacy-ID migration runs)
            or ``"3.0"`` (no migration; spellings are only parsed and normalised).
        names: optional area ID -> ``__name-t``, used in messages only (the engine derives neither
            IDs nor names from it: a migrated area keeps its genome name, e.g. ``iic000`` is shown as
            the genome's ``vision_LL``; oracle observation).
        dst_keys: every destination key of every ``cortical_mapping_dst`` (``dstmap-d``) in the
            genome. They take part in the migration like blueprint IDs (sorted together): e.g. a
            destination-only ``i__inf`` takes the Infrared unit away from a blueprint ``ii_inf``
            (oracle observation). Their own resolution: :func:`resolve_destination_keys`.

    Returns:
        ``{spelling: IdResolution}`` for every spelling in ``ids``. ``"kept"``/``"renamed"``/
        ``"migrated"`` carry the ID; ``"dropped"`` and ``"rejected"`` carry None. Spellings that
        end up with the same ID get a ``[collision: …]`` note (see :func:`find_collisions`).

    Raises:
        ValueError: ``version`` is not one the release engine accepts (message = engine text).

    Rules, in engine order (all oracle observations on the release binary; HEAD file::function
    where the same logic exists there):

    1. 2.x only — ``migrator.rs::build_id_mapping`` over the sorted union of IDs and destination
       keys. IDs not needing migration first occupy their (normalised) bytes.
       * ``iic<d>…`` (length >= 6, d = 0…8) -> segmented-vision tile d; ``omot`` + ``00`` ->
         rotary motor; ``ogaz`` + ``00``/``01`` -> gaze sub-unit 0/1 (``map_old_id_to_new``;
         silent; no collision check). ``_power``/``___pwr``/``_death`` -> core.
       * other 6-char IDs starting ``i``/``o`` ("legacy IO shorthands"), in sorted order
         (``apply_legacy_io_shorthand_migration``, release variant):
         ``iv00`` + BL/BM/BR/ML/_C/MR/TL/TM/TR -> segmented-vision tile (no collision check);
         else if characters 3-5 name a unit of :data:`SUPPORTED_IO_UNITS` whose ID is still free
         -> that unit, group 0; else IPU endings ``acc``/``gyq`` -> unchanged; else ->
         custom ``b"c" + id + b"_"`` (``i__gyr`` -> ``ci__gyr_``) if free, else unchanged
         ("custom ID collision, skipped"). **No MiscData group allocation happens** (HEAD would
         allocate MiscData groups 0,1,2… instead of creating custom areas).
    2. Parse + v3 normaliser (both versions): core aliases (``_pain``, ``_pleasure``, …);
       12-char base64 of 8 bytes (byte 0 c/m/_/i/o, else dropped); 6/8-char ASCII: first character
       lower-cased and, if not c/m/_/i/o, replaced by ``c`` (``CRSMot`` -> ``cRSMot__``,
       ``t__pro`` -> ``c__pro__``, ``I__pro`` -> ``i__pro__``), padded with ``_``; any other
       length (5, 7, 9…) or text -> dropped ("Skipping invalid cortical_id …").
    3. Type check (``CorticalID::as_cortical_type``): ``_…`` must be a core byte string, ``i…``/
       ``o…`` must have valid configuration bytes (:func:`io_flag_error`); otherwise the whole
       genome is rejected ("Failed to determine cortical type from ID …"). When a genome has several
       such IDs the engine names one of them, chosen at random (HashMap order, observed on
       brightness_change_detection).
    """
    steps, area_set = _resolve(ids, version, names, dst_keys)
    notes = _collision_notes(steps, area_set)
    out: dict[str, IdResolution] = {}
    for s in dict.fromkeys(ids):
        st = steps[s]
        if st.action == "dropped" or st.raw is None:
            out[s] = IdResolution(None, "dropped", st.message)
        elif st.error is not None:
            out[s] = IdResolution(None, "rejected", st.error)
        else:
            msg = st.message
            if s in notes:
                msg = (msg + " " if msg else "") + notes[s]
            out[s] = IdResolution(CorticalID(st.raw), st.action, msg)
    return out


def resolve_destination_keys(dst_keys: Iterable[str], version: str, ids: Iterable[str],
                             names: dict[str, str] | None = None) -> dict[str, IdResolution]:
    """Resolve the destination keys of ``cortical_mapping_dst`` dicts to engine IDs.

    Args:
        dst_keys: destination keys as spelled in the genome (all of them, from every area).
        version: genome version (see :func:`resolve_genome_ids`).
        ids: the blueprint's area ID spellings (needed: the migration runs over both together).
        names: optional, messages only.

    Returns:
        ``{key: IdResolution}``. Same rules as for areas, except that the engine never rejects a
        genome because of a destination key: a key whose bytes are not a valid area ID (``_right``,
        ``O__mot``) is still turned into bytes (``action`` as for an area, the ID names no area, so
        the mapping builds no synapses), and a key it cannot convert at all is kept as a raw string
        (``"dropped"``, ID None; engine text "Failed to convert dstmap key 'isvi' to base64: …,
        keeping original"). The caller decides whether the ID names an existing area (the release
        engine keeps mappings to non-existent areas in the genome but builds no synapses).

    Source: oracle observation (``GET /v1/cortical_area/cortical_map_detailed`` after uploading
    genomes whose dstmap keys were migrated, normalised, missing or invalid); HEAD
    ``parser.rs::convert_dstmap_keys_to_base64`` and ``migrator.rs::migrate_cortical_mappings``.
    """
    dst_keys = list(dict.fromkeys(dst_keys))
    steps, _ = _resolve(ids, version, names, dst_keys)
    out: dict[str, IdResolution] = {}
    for k in dst_keys:
        st = steps[k]
        if st.raw is None:
            out[k] = IdResolution(None, "dropped", (
                f"Failed to convert dstmap key '{k}' to base64: Invalid cortical area: Invalid "
                f"cortical_id length: '{k}' (expected 6 or 8 ASCII chars, or base64), keeping "
                "original"))
            continue
        msg = st.message
        if st.error is not None:
            msg = (msg + " " if msg else "") + (
                f"[{CorticalID(st.raw).b64} is not a valid cortical area ID "
                f"({st.error.rsplit(': ', 1)[-1]}); no area can have it]")
        out[k] = IdResolution(CorticalID(st.raw), st.action, msg)
    return out


def find_collisions(resolutions: Mapping[str, IdResolution]) -> dict[CorticalID, list[str]]:
    """Spellings that resolve to the same ID (the engine creates one area for them).

    Args:
        resolutions: output of :func:`resolve_genome_ids`.

    Returns:
        ``{CorticalID: [spellings…]}`` for IDs with two or more spellings, spellings sorted.
        When all of them were rewritten to the same string by the 2.x migration (``_power`` and
        ``___pwr``; ``iic000`` and ``iv00BL``; a base64 spelling equal to a migration target), the
        engine merges their genes deterministically (later key in sorted order wins per gene);
        otherwise (``c__for``/``c__for__``, ``CRSMot``/``cRSMot``) it keeps one of them at random.
        Oracle observation (repeated uploads).
    """
    groups: dict[CorticalID, list[str]] = {}
    for s, r in resolutions.items():
        if r.cortical_id is not None:
            groups.setdefault(r.cortical_id, []).append(s)
    return {c: sorted(v) for c, v in groups.items() if len(v) > 1}


# --------------------------------------------------------------------------------------------------
# Brain regions (why vision_genome is rejected)
# --------------------------------------------------------------------------------------------------
#: Title that marks the root region (HEAD ``neuroembryogenesis.rs::corticogenesis`` looks the root
#: up by this name; the release binary holds the constant ``ROOT_BRAIN_REGION_NAME``).
ROOT_BRAIN_REGION_TITLE = "Root Brain Region"


def brain_regions_rejection(brain_regions: object) -> str | None:
    """The release engine's verdict on a genome's ``brain_regions``: its error text, or None.

    Rule (oracle observation, 30 variants of vision_genome and of a minimal genome):

    * Region keys that parse as a UUID keep it (normalised to lower-case hyphenated form); every
      other key (``"root"``, ``"region_autogen_39e44152"``) gets a fresh random UUID.
    * Only when some region's ``title`` is exactly ``"Root Brain Region"`` are parent links
      checked: every region whose title is not ``"Root Brain Region"`` and whose
      ``parent_region_id`` is not null must name a region by its post-load ID, i.e. the parent
      string must equal the lower-case hyphenated UUID key of a region. Otherwise neuroembryogenesis
      fails with "Neuroembryogenesis failed: Invalid area: Parent region <parent> does not exist"
      (for the first such region found; the engine's order is a hash map's).
    * Without a region titled ``"Root Brain Region"`` parent links are not checked at all; the
      root's own ``parent_region_id`` is never checked; the ``regions``/``child_regions`` lists are
      not used.

    vision_genome.json has ``"root"`` (title "Root Brain Region") and
    ``"region_autogen_39e44152"`` with ``parent_region_id: "root"``: "root" is not a UUID, so the
    root region is re-keyed and the child's parent does not exist -> rejected. (HEAD
    ``converter_flat_full.rs`` discards ``brain_regions`` of flat genomes and would accept it.)

    Args:
        brain_regions: the genome's ``brain_regions`` value (dict of region key -> region dict);
            anything else (missing, null, not a dict) -> None.

    Returns:
        The engine's message (the text after "Failed to load genome: ") or None.
    """
    if not isinstance(brain_regions, dict):
        return None
    regions = {k: v for k, v in brain_regions.items() if isinstance(v, dict)}

    def title(key: str, r: dict) -> str:
        t = r.get("title")
        return t if isinstance(t, str) else key   # HEAD parse_brain_regions: title defaults to key

    if not any(title(k, r) == ROOT_BRAIN_REGION_TITLE for k, r in regions.items()):
        return None
    kept_ids = set()
    for k in regions:
        try:
            kept_ids.add(str(uuid.UUID(k)))
        except (ValueError, TypeError, AttributeError):
            pass
    for k in sorted(regions):
        r = regions[k]
        parent = r.get("parent_region_id")
        if title(k, r) == ROOT_BRAIN_REGION_TITLE or parent is None:
            continue
        if str(parent) not in kept_ids:
            return ("Backend error: Neuroembryogenesis failed: Invalid area: Parent region "
                    f"{parent} does not exist")
    return None


# --------------------------------------------------------------------------------------------------
# Release vs HEAD
# --------------------------------------------------------------------------------------------------
#: Behaviours of the release engine that differ from the HEAD source snapshot (for
#: docs/feagi-compatibility.md). Every item is an oracle observation.
HEAD_DIFFERENCES: tuple[str, ...] = (
    "IO ID layout: release byte 4 = (sub_unit << 4) | variant, byte 5 = frame/positioning bits, "
    "bytes 6-7 = unit index (LE); HEAD: bytes 4-5 = u16 flag (variant in the low byte, frame bit 8, "
    "positioning bit 9), byte 6 = sub-unit, byte 7 = unit index. Segmented-vision tile t is "
    "isvi+[(t<<4)|9,0,0,0] in the release, isvi+[9,0,t,0] in HEAD.",
    "Unsupported legacy IO shorthands (i__gyr, o__ser, o_init, ilidar, iv00CC, ...) become CUSTOM "
    "areas 'c'+id+'_' in the release; HEAD maps them to MiscData IPU/OPU with group 0,1,2...",
    "Release maps a shorthand whose characters 3-5 name a supported unit (i__pro, i__inf, i__bat, "
    "o__mot, o_spos -> opos = Pose Estimation, ...) to that unit, group 0; HEAD has no such rule.",
    "IPU shorthands ending in acc/gyq are left unchanged by the release (i__acc -> i__acc__).",
    "Release unit types: IPU agp aud bat cnt cpo dgp dpt img inf mis pro rim seg shk sim svi svm ten; "
    "OPU ang aud cnt gaz ifs img mis mot pos pse ptr seg ten. HEAD: IPU inf pro shk bat svm agp dgp "
    "mis ten cnt img svi acc gyq; OPU mot pse gaz mis ten cnt seg img ifs.",
    "Upper-case / unknown first characters are normalised (CRSMot -> cRSMot__, MLIcom -> mLIcom__, "
    "t__pro -> c__pro__, I__pro -> i__pro__); HEAD drops such areas.",
    "Release core aliases also include _pain, _pleasure, _fear, _hope and the 8-byte ___pwr__; the "
    "engine always creates all 7 core areas (HEAD: _death, _power, _fatigue).",
    "Base64 'mis' IDs named vision_XX / vision_ipu are not migrated by the release (HEAD migrates "
    "them to segmented vision / MiscData).",
    "Genome versions: release accepts exactly '2.0', '2.1', '3.0'; HEAD any '2.*' and '3.0'.",
    "Release keeps brain_regions of flat genomes and rejects dangling parent links when a region "
    "is titled 'Root Brain Region' (vision_genome); HEAD discards flat genomes' brain_regions.",
    "Release rejects a genome with an area whose name is missing or empty ('name cannot be empty').",
    "IO configuration check: release variant = low nibble of byte 4 (0-11 valid); HEAD low byte "
    "(0-10 valid).",
)

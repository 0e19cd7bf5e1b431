"""The io map (``feagi-embed build GENOME --board B --io io.toml``): pins and peripherals bound to
cortical areas, validated against the genome's model and the board, emitted as Arduino glue.

In the spirit of FEAGI's standalone controllers, whose ``configuration.py`` ``capabilities`` entries
bind a device kind and count to an area by ``"cortical_mapping": "o__mot"`` (feagi/feagi
``third_party/neuraville/virtual/configuration.py``), each ``[[input]]`` / ``[[output]]`` table
binds one device (a FEAGI *channel* of an IPU/OPU area) to pins::

    [[input]]                      # a sensor: pin -> encoder -> feagi_inject
    cortical_mapping = "i__pro"    # area: genome id, name or base64 id (an IPU area)
    channel = 0                    # device index inside the area
    pin = "A0"                     # "A<n>" analog input or a digital pin number
    read = "analog"                # analog | digital
    range = [0, 1023]              # raw reading mapped to 0..1 (signed areas: -1..1)
    invert = false

    [[output]]                     # an actuator: decoder -> analogWrite/digitalWrite/Servo
    cortical_mapping = "o__mot"
    channel = 0
    drive = "hbridge"              # hbridge (pwm_pin + dir_pin) | pwm | digital | servo (pin)
    pwm_pin = 5
    dir_pin = 4
    # servo: pin = 9, angle = [0, 180]

``axis`` (default 0) picks the value of a multi-value (2D-4D) channel. The board's pins are the
``[pins]`` facts of ``boards/<board>.toml`` (cited there). Coders: :mod:`feagi_embed.io.coders`;
semantics and decisions: ``docs/io.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from ..errors import FeagiEmbedError
from . import coders
from .coders import IoCoderError, IoDesc, desc_for

__all__ = [
    "DRIVES",
    "READS",
    "BoardPins",
    "InputBinding",
    "IoMap",
    "IoMapError",
    "OutputBinding",
    "board_pins",
    "load_io_map",
]

READS = ("analog", "digital")
DRIVES = ("hbridge", "pwm", "digital", "servo")
_IN_KEYS = {"name", "cortical_mapping", "channel", "axis", "pin", "read", "range", "invert"}
_OUT_KEYS = {"name", "cortical_mapping", "channel", "axis", "drive", "pin", "pwm_pin", "dir_pin",
             "angle"}


class IoMapError(FeagiEmbedError):
    """A bad io map: the message names the io file, the key, the value and what was expected."""


@dataclass(frozen=True)
class BoardPins:
    """Pin facts of a board (``[pins]`` of ``boards/<board>.toml``).

    Attributes:
        digital: digital pins are 0 … digital-1; analog: analog inputs A0 … A<analog-1>, which
            are digital pins analog_first …; pwm: pins with PWM (analogWrite); reserved: pins the
            firmware uses itself (the Serial UART) or the board needs (flash, boot straps);
            pwm_top: analogWrite full scale; adc_max: analogRead full scale.
        a_pins: the pin of each name A<i> (``-1``: no such name); default analog_first + i.
        adc: the pins analogRead accepts (default: the A<i> pins).
        missing: pin numbers below ``digital`` that do not exist (ESP32: 20, 24, 28 … 31).
        input_only: pins that cannot drive an output (ESP32: GPIO 34 … 39).
        strapping: boot-strapping pins that are usable but set the boot mode if held at reset
            (facts for docs and messages; the firmware does not refuse them).
    """

    board: str
    digital: int
    analog: int
    analog_first: int
    pwm: frozenset[int]
    reserved: frozenset[int]
    pwm_top: int
    adc_max: int
    a_pins: tuple[int, ...] = ()
    adc: frozenset[int] = frozenset()
    missing: frozenset[int] = frozenset()
    input_only: frozenset[int] = frozenset()
    strapping: frozenset[int] = frozenset()


#: boards whose ``[pins]`` table exists (for the "missing" message)
def _boards_with_pins() -> str:
    from ..resources import boards_dir

    return ", ".join(sorted(p.stem for p in Path(boards_dir()).glob("*.toml")
                            if "[pins]" in p.read_text(encoding="utf-8")))


def board_pins(board) -> BoardPins:
    """The ``[pins]`` facts of ``board`` (a :class:`~feagi_embed.boards.Board`).

    Raises:
        IoMapError: the board file has no ``[pins]`` table (no io maps for it yet).
    """
    data = tomllib.loads(Path(board.path).read_text(encoding="utf-8"))
    p = data.get("pins")
    if not isinstance(p, dict):
        raise IoMapError(f"{board.path}: [pins]: missing; expected the board's pin facts "
                         f"(io maps are supported on boards with a [pins] table: "
                         f"{_boards_with_pins()})")
    analog, first = int(p["analog"]), int(p.get("analog_first", 0))
    a_pins = tuple(int(v) for v in p.get("a_pins", [first + i for i in range(analog)]))
    ints = lambda k: frozenset(int(v) for v in p.get(k, ()))  # noqa: E731
    return BoardPins(board.name, int(p["digital"]), len(a_pins), first, ints("pwm"),
                     ints("reserved"), int(p["pwm_top"]), int(p["adc_max"]), a_pins,
                     ints("adc") or frozenset(v for v in a_pins if v >= 0), ints("missing"),
                     ints("input_only"), ints("strapping"))


@dataclass(frozen=True)
class InputBinding:
    """One sensor: ``area`` (model index), ``channel``, ``axis``, ``pin`` (Arduino pin number),
    ``digital`` read, raw ``lo``/``hi``, ``invert``; ``key`` names it in messages."""

    key: str
    name: str
    area: int
    channel: int
    axis: int
    pin: int
    digital: bool
    lo: int
    hi: int
    invert: bool


@dataclass(frozen=True)
class OutputBinding:
    """One actuator: ``drive`` (:data:`DRIVES`), ``pin`` (PWM/servo/digital pin), ``pin2`` (H-bridge
    direction pin, -1 none), servo ``lo``/``hi`` degrees."""

    key: str
    name: str
    area: int
    channel: int
    axis: int
    drive: str
    pin: int
    pin2: int
    lo: int
    hi: int


@dataclass(frozen=True)
class IoMap:
    """A validated io map: ``inputs``, ``outputs``, the coder of every bound area (``descs``:
    model area index -> :class:`~feagi_embed.io.coders.IoDesc`), the board pin facts."""

    path: str
    inputs: tuple[InputBinding, ...]
    outputs: tuple[OutputBinding, ...]
    descs: dict[int, IoDesc] = field(default_factory=dict)
    pins: BoardPins | None = None

    def queue_need(self) -> int:
        """Input-queue entries the inputs can inject in one burst (a Linear value 1 voxel, a
        signed zero 2, a Fractional value up to its z depth)."""
        n = 0
        for b in self.inputs:
            d = self.descs[b.area]
            n += d.d if d.fractional else (2 if d.is_signed else 1)
        return n


def _err(path: str, key: str, value: Any, expected: str) -> IoMapError:
    return IoMapError(f"{path}: {key} = {value!r}: expected {expected}")


def _int(path, key, v, lo=0, hi=None):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        raise _err(path, key, v, f"an integer {lo}…{hi}" if hi is not None else
                   f"an integer >= {lo}")
    return v


def _area(path, key, v, model, kind: str) -> int:
    areas = model.areas
    ok = [areas.label(a) for a in range(len(areas)) if areas.kinds[a] == kind]
    try:
        a = areas.index(v) if isinstance(v, str) else -1
    except KeyError:
        a = -1
    if a < 0 or areas.kinds[a] != kind:
        what = "an IPU (sensor) area" if kind == "ipu" else "an OPU (motor) area"
        raise _err(path, key, v, f"{what} of the genome: {', '.join(ok) or '(none)'}")
    return a


def _pin(path, key, v, pins: BoardPins, analog: bool = False, pwm: bool = False,
         output: bool = False) -> int:
    an = [f"A{i}" for i, n in enumerate(pins.a_pins) if n >= 0]
    names = f" or {an[0]}…{an[-1]}" if an else ""
    if isinstance(v, str) and v.upper().startswith("A") and v[1:].isdigit():
        i = int(v[1:])
        if i >= len(pins.a_pins) or pins.a_pins[i] < 0:
            raise _err(path, key, v, f"an analog input of {pins.board}: "
                       + (f"{an[0]}…{an[-1]}" if an else "(none)"))
        n = pins.a_pins[i]
    elif (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < pins.digital
          and v not in pins.missing):
        n = v
    else:
        raise _err(path, key, v, f"a pin of {pins.board}: 0…{pins.digital - 1}"
                   + (f" except {sorted(pins.missing)}" if pins.missing else "") + names)
    if n in pins.reserved:
        raise _err(path, key, v, f"a free pin (pins {sorted(pins.reserved)} of {pins.board} "
                   "carry Serial, the firmware's link, or the board's flash / boot straps)")
    if analog and n not in pins.adc:
        raise _err(path, key, v, f"an analog input of {pins.board} for read = \"analog\": "
                   + (f"{an[0]}…{an[-1]}" if an and set(pins.adc) == {a for a in pins.a_pins if a >= 0}
                      else f"pins {sorted(pins.adc)}"))
    if (output or pwm) and n in pins.input_only:
        raise _err(path, key, v, f"a pin that can drive an output (pins "
                   f"{sorted(pins.input_only)} of {pins.board} are input-only)")
    if pwm and n not in pins.pwm:
        raise _err(path, key, v, f"a PWM pin of {pins.board}: {sorted(pins.pwm)}")
    return n


def _common(path, key, t, model, kind, descs):
    a = _area(path, f"{key}.cortical_mapping", t.get("cortical_mapping"), model, kind)
    try:
        d = descs.setdefault(a, desc_for(model, a))
    except IoCoderError as e:
        raise _err(path, f"{key}.cortical_mapping", t.get("cortical_mapping"),
                   f"an area with a device coder ({e})") from None
    ch = _int(path, f"{key}.channel", t.get("channel", 0), 0, d.channels - 1)
    ax = _int(path, f"{key}.axis", t.get("axis", 0), 0, max(d.ndims, 1) - 1)
    return a, d, ch, ax


# Long by design: one validation pass over the io file's schema, key by key, so every refusal
# names its key path in the order a user reads the file.
def load_io_map(path: str | Path, model, board) -> IoMap:
    """Read and validate an io map for ``model`` on ``board``.

    Raises:
        IoMapError: unreadable TOML, unknown key, unknown or wrong-kind area (lists the valid
            ones), channel/axis outside the area, a pin the board does not have (or without the
            ADC/PWM the binding needs, or reserved), one pin used twice, one channel bound twice.
    """
    path = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise IoMapError(f"{path}: unreadable ({e}); expected a TOML io map "
                         "(docs/io.md)") from None
    extra = set(data) - {"input", "output"}
    if extra:
        k = min(extra)
        raise _err(path, k, data[k], "only [[input]] and [[output]] tables")
    pins = board_pins(board)
    descs: dict[int, IoDesc] = {}
    used: dict[int, str] = {}
    bound: dict[tuple[int, int, int], str] = {}

    def claim(key, v, n):
        if n in used:
            raise _err(path, key, v, f"a pin not used already (pin {n} is {used[n]})")
        used[n] = f"{key} = {v!r}"

    def bind(key, a, ch, ax):
        if (a, ch, ax) in bound:
            raise _err(path, f"{key}.channel", ch, f"a channel not bound already "
                       f"({bound[(a, ch, ax)]} binds {model.areas.label(a)} channel {ch})")
        bound[(a, ch, ax)] = key

    ins, outs = [], []
    tables = data.get("input", [])
    if not isinstance(tables, list):
        raise _err(path, "input", tables, "an array of [[input]] tables")
    for i, t in enumerate(tables):
        key = f"input[{i}]"
        bad = set(t) - _IN_KEYS
        if bad:
            k = min(bad)
            raise _err(path, f"{key}.{k}", t[k], f"one of the keys {', '.join(sorted(_IN_KEYS))}")
        a, _d, ch, ax = _common(path, key, t, model, "ipu", descs)
        read = t.get("read", "analog")
        if read not in READS:
            raise _err(path, f"{key}.read", read, " or ".join(READS))
        n = _pin(path, f"{key}.pin", t.get("pin"), pins, analog=read == "analog")
        claim(f"{key}.pin", t.get("pin"), n)
        rng = t.get("range", [0, pins.adc_max] if read == "analog" else [0, 1])
        if (not isinstance(rng, list) or len(rng) != 2 or
                not all(isinstance(v, int) and not isinstance(v, bool) for v in rng) or
                not 1 <= rng[1] - rng[0] <= coders.MAX_DEN or not -32768 <= rng[0] <= 32767 or
                not -32768 <= rng[1] <= 32767):
            raise _err(path, f"{key}.range", rng, "[low, high] integers, low < high, "
                       f"high - low <= {coders.MAX_DEN}, both in int16")
        inv = t.get("invert", False)
        if not isinstance(inv, bool):
            raise _err(path, f"{key}.invert", inv, "true or false")
        bind(key, a, ch, ax)
        ins.append(InputBinding(key, str(t.get("name", key)), a, ch, ax, n, read == "digital",
                                rng[0], rng[1], inv))
    tables = data.get("output", [])
    if not isinstance(tables, list):
        raise _err(path, "output", tables, "an array of [[output]] tables")
    for i, t in enumerate(tables):
        key = f"output[{i}]"
        bad = set(t) - _OUT_KEYS
        if bad:
            k = min(bad)
            raise _err(path, f"{key}.{k}", t[k], f"one of the keys {', '.join(sorted(_OUT_KEYS))}")
        a, _d, ch, ax = _common(path, key, t, model, "opu", descs)
        drive = t.get("drive")
        if drive not in DRIVES:
            raise _err(path, f"{key}.drive", drive, " | ".join(DRIVES))
        pin2, lo, hi = -1, 0, 0
        if drive == "hbridge":
            pin = _pin(path, f"{key}.pwm_pin", t.get("pwm_pin"), pins, pwm=True)
            claim(f"{key}.pwm_pin", t.get("pwm_pin"), pin)
            pin2 = _pin(path, f"{key}.dir_pin", t.get("dir_pin"), pins, output=True)
            claim(f"{key}.dir_pin", t.get("dir_pin"), pin2)
        else:
            pin = _pin(path, f"{key}.pin", t.get("pin"), pins, pwm=drive == "pwm", output=True)
            claim(f"{key}.pin", t.get("pin"), pin)
        if drive == "servo":
            ang = t.get("angle", [0, 180])
            if (not isinstance(ang, list) or len(ang) != 2 or
                    not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 360
                            for v in ang)):
                raise _err(path, f"{key}.angle", ang, "[low, high] degrees 0…360")
            lo, hi = ang
        bind(key, a, ch, ax)
        outs.append(OutputBinding(key, str(t.get("name", key)), a, ch, ax, drive, pin, pin2,
                                  lo, hi))
    if not ins and not outs:
        raise _err(path, "input", [], "at least one [[input]] or [[output]] table")
    return IoMap(path, tuple(ins), tuple(outs), descs, pins)

# feagi_io_glue.py - zero-code robot IO for MicroPython (the io map's tables in feagi_io_map.py).
# Part of the feagi-embed runtime (firmware/micropython/): copied unchanged into packages built
# with `feagi-embed build --lang micropython --io io.toml`; the MicroPython twin of the Arduino
# glue (templates/c/feagi_io_glue.cpp.j2), with the coders of feagi_io.py.
"""Before every burst each sensor is read (machine.ADC.read_u16 rescaled to the io map's
analogRead range, or machine.Pin.value), scaled, encoded the way FEAGI encodes its area
(feagi_io.encode, docs/io.md) and injected with potential 1.0 per voxel; during the burst the
engine reports the fired neurons of output areas (engine.on_fire); after it every actuator is
decoded (feagi_io.decode) and driven (machine.PWM duty_u16, machine.Pin). An actuator keeps its
last value while its x columns do not fire (FEAGI keeps the previous motor value).

    glue = Glue(engine)                      # machine pins; Glue(engine, TestReadings()) in tests
    glue.before_burst(b); engine.burst(); values = glue.after_burst(b)   # Q16 per actuator
"""

import feagi_io as C
import feagi_io_map as T

HBRIDGE, PWM_OUT, DIGITAL, SERVO = 0, 1, 2, 3
SERVO_HZ = 50  # hobby servo frame; pulse 500..2500 us for 0..180 degrees


class TestReadings:
    """Readings without hardware: sensor i before burst b reads lo + (((b * 2654435761 +
    i * 40503) mod 2^32) >> 8) mod (hi - lo + 1), as the Arduino glue's -DFEAGI_IO_TEST_READINGS
    (feagi_embed.io.glue.test_reading); actuators are not driven."""

    def setup(self):
        pass

    def read(self, i, b):
        lo, hi = T.INPUTS[i][6], T.INPUTS[i][7]
        h = ((b * 2654435761 + i * 40503) & 0xFFFFFFFF) >> 8
        return lo + h % (hi - lo + 1)

    def drive(self, i, q):
        pass


class MachinePins:
    """The board's pins through ``machine`` (ADC, Pin, PWM)."""

    def setup(self):
        from machine import ADC, PWM, Pin

        self.inputs = []  # type: list
        for ia, axis, ch, pin, digital, invert, lo, hi in T.INPUTS:
            self.inputs.append(Pin(pin, Pin.IN) if digital else ADC(Pin(pin)))
        self.outputs = []  # type: list
        for ia, axis, ch, drive, pin, pin2, lo, hi in T.OUTPUTS:
            if drive == DIGITAL:
                self.outputs.append((Pin(pin, Pin.OUT), None))
            else:
                pwm = PWM(Pin(pin), freq=SERVO_HZ if drive == SERVO else T.PWM_HZ)
                self.outputs.append((pwm, Pin(pin2, Pin.OUT) if drive == HBRIDGE else None))
        for i in range(len(T.OUTPUTS)):
            if T.OUTPUTS[i][3] != SERVO:
                self.drive(i, 0)

    def read(self, i, b):
        dev = self.inputs[i]
        if T.INPUTS[i][4]:
            return dev.value()
        return dev.read_u16() * T.ADC_MAX // 65535  # the io map's range is in analogRead units

    def drive(self, i, q):
        dev, dir_pin = self.outputs[i]
        drive, lo, hi = T.OUTPUTS[i][3], T.OUTPUTS[i][6], T.OUTPUTS[i][7]
        if drive == HBRIDGE:
            dir_pin.value(1 if q < 0 else 0)
            dev.duty_u16(C.duty(q, 65535))
        elif drive == PWM_OUT:
            dev.duty_u16(C.duty(max(0, q), 65535))
        elif drive == DIGITAL:
            dev.value(1 if q >= C.ONE_Q16 // 2 else 0)
        else:  # servo: angle -> pulse width -> duty of the 20 ms frame
            us = 500 + C.angle(q, lo, hi) * 2000 // 180
            dev.duty_u16(us * 65535 // (1000000 // SERVO_HZ))


class Glue:
    """Sensors in, motors out around ``engine.burst()`` (``pins``: MachinePins() by default)."""

    def __init__(self, engine, pins=None):
        self.engine = engine
        self.pins = pins if pins is not None else MachinePins()
        self.value = [0] * len(T.OUTPUTS)
        self.dropped = 0  # injections the input queue refused
        self.fired = {}  # type: dict
        self._opu = {}  # type: dict
        for j in range(len(T.AREAS)):
            if T.AREAS[j][2]:
                self._opu[T.AREAS[j][0]] = j
        engine.on_fire = self._on_fire
        self.pins.setup()

    def _on_fire(self, area, x, y, z, k):
        j = self._opu.get(area)
        if j is not None and y == 0:  # FEAGI's decoders read y = 0 only
            s = self.fired.get(j)
            if s is None:
                s = self.fired[j] = set()
            s.add((x, z))

    def before_burst(self, b):
        """Read, scale, encode and inject every sensor for burst ``b``."""
        one = 1 << T.F
        for i in range(len(T.INPUTS)):
            ia, axis, ch, pin, digital, invert, lo, hi = T.INPUTS[i]
            area, desc = T.AREAS[ia][0], T.AREAS[ia][1]
            num, den = C.scale(self.pins.read(i, b), lo, hi, desc[3], invert)
            for x, z in C.encode(desc, ch, axis, num, den):
                if self.engine.inject(area, x, 0, z, one) != 0:
                    self.dropped += 1
        self.fired = {}

    def after_burst(self, b):
        """Decode and drive every actuator; returns the Q16 values (held when not fired)."""
        for i in range(len(T.OUTPUTS)):
            ia, axis, ch = T.OUTPUTS[i][0], T.OUTPUTS[i][1], T.OUTPUTS[i][2]
            q = C.decode(T.AREAS[ia][1], self.fired.get(ia, set()), ch, axis)
            if q is not None:
                self.value[i] = q
                self.pins.drive(i, q)
        return self.value

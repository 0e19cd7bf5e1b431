"""``feagi-embed monitor PORT``: a live table of a linked device's bursts, digests, OPU firing,
decoded motor values (firmware with an io map) and link error counters (rich ``Live``)."""

from __future__ import annotations

import time

from . import protocol as P
from .client import LinkClient, ProcessTransport, SerialTransport


def open_transport(port: str, baudrate: int = 115200):
    """``exec:PATH`` spawns a native link build on a pipe; anything else is a pyserial URL
    (``/dev/ttyACM0``, ``/dev/pts/4``, ``socket://host:port``).

    Raises:
        LinkError: the port cannot be opened.
    """
    if port.startswith("exec:"):
        return ProcessTransport([port[len("exec:"):]])
    return SerialTransport(port, baudrate)


def motor_rows(model, motors) -> dict[str, str]:
    """``{"motor <area> <channel>": "value (held)"}`` of MotorValues entries ``(output, area,
    channel, axis, fired, q16)``; value = q16 / 65536, "held" when not decoded this burst."""
    rows = {}
    for _o, a, ch, axis, fired, q in motors:
        name = model.areas.genome_ids[a] if model is not None else f"area {a}"
        key = f"motor {name} {ch}" + (f"-{axis}" if axis else "")
        rows[key] = f"{q / 65536:+.4f}" + ("" if fired else " (held)")
    return rows


def _table(client: LinkClient, model, last: P.BurstDigest | None, firing: dict[str, int],
           state: P.StateDigest | None, rate: float, motors: dict[str, str] | None = None):
    from rich.table import Table

    caps = client.capabilities
    t = Table(title=f"feagi link: {caps.n_areas} areas, {caps.n_neurons} neurons, "
              f"{rate:.1f} bursts/s", title_justify="left")
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("burst", str(last.burst) if last else "-")
    t.add_row("fired", str(last.count) if last else "-")
    t.add_row("burst digest", f"{last.crc:08x}" if last else "-")
    t.add_row("state digest", f"{state.crc:08x} (burst {state.burst})" if state else "-")
    for ai in client.areas:
        if ai.output:
            name = model.areas.genome_ids[ai.index] if model is not None else f"area {ai.index}"
            t.add_row(f"OPU {name} fired", str(firing.get(name, 0)))
    for key, val in (motors or {}).items():
        t.add_row(key, val)
    bad = sum(client.reader.errors.values())
    t.add_row("bad frames from device", str(bad))
    return t


def monitor(port: str, model=None, bursts: int | None = None, state_every: int = 0,
            baudrate: int = 115200, console=None) -> P.BurstDigest | None:
    """Free-run the device (or step ``bursts`` bursts) and show a live table until Ctrl-C.

    Returns:
        The last BurstDigest seen.

    Raises:
        LinkError: the port cannot be opened or the device does not answer.
    """
    from rich.live import Live

    tr = open_transport(port, baudrate)
    client = LinkClient(tr, model)
    last = state = None
    firing: dict[str, int] = {}
    motors: dict[str, str] = {}
    t0, n0 = time.monotonic(), 0
    try:
        client.hello()
        flags = P.TRACE_BURST | P.TRACE_OPU | P.TRACE_MOTOR | (P.TRACE_STATE if state_every else 0)
        client.set_trace(flags, state_every)
        with Live(_table(client, model, None, {}, None, 0.0), console=console,
                  refresh_per_second=5, auto_refresh=False) as live:
            if bursts is not None:
                for _ in range(bursts):
                    (r,) = client.run(1)
                    last = P.BurstDigest(r.burst, r.count, r.crc)
                    firing = {g: sum(v.values()) for g, v in r.firing.items()}
                    if r.state_crc is not None:
                        state = P.StateDigest(r.burst, r.state_crc)
                    motors = motor_rows(model, r.motors)
                    n0 += 1
                    rate = n0 / max(1e-9, time.monotonic() - t0)
                    live.update(_table(client, model, last, firing, state, rate, motors),
                                refresh=True)
                return last
            client.free_run()
            cur: dict[str, int] = {}
            try:
                while True:
                    for m in client.poll():
                        if isinstance(m, P.BurstDigest):
                            last, firing, cur, n0 = m, cur, {}, n0 + 1
                        elif isinstance(m, P.StateDigest):
                            state = m
                        elif isinstance(m, P.MotorValues):
                            motors = motor_rows(model, m.values)
                        elif isinstance(m, P.NeuronFiring):
                            for a, *_ in m.fired:
                                g = model.areas.genome_ids[a] if model is not None else f"area {a}"
                                cur[g] = cur.get(g, 0) + 1
                    rate = n0 / max(1e-9, time.monotonic() - t0)
                    live.update(_table(client, model, last, firing, state, rate, motors),
                                refresh=True)
            except KeyboardInterrupt:
                client.stop()
    finally:
        if hasattr(tr, "close"):
            tr.close()
    return last

"""The two-way serial link between a host and the firmware (``docs/link.md``).

- :mod:`.protocol`: COBS framing, CRC-32, message encoders / decoders (pure Python).
- :mod:`.client`: :class:`~.client.LinkClient` over pyserial (serial ports, ptys, ``socket://``)
  or a subprocess pipe (the native build), taking sensor data in the FEAGI connector's shape.
- :mod:`.firmware`: builds link firmware (native, AVR, Cortex-M).
"""

from .protocol import LinkError  # noqa: F401

"""Long fuzz of the device side of the link under ASan + UBSan (docs/link.md).

Usage:
    python3 bench/link_fuzz.py [--frames 2000000] [--seed 1] [--genome logic_and_gate ...]

Builds the native link firmware of each genome with ``firmware/link/fuzz_driver.c`` as main and
``-fsanitize=address,undefined -fno-sanitize-recover=all``, sends FRAMES seeded random, well-formed
and mutated frames, and prints the driver's summary (counters, failures) and the wall time per
genome as Markdown rows. Exit status 1 when any run fails a check or a sanitizer reports.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=2_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--genome", action="append", default=None)
    a = ap.parse_args()
    from feagi_embed.cli import _load_model, resolve_genome_path
    from feagi_embed.link.firmware import build_link_firmware
    from feagi_embed.resources import firmware_dir

    status = 0
    print("| genome | neurons | frames | executed | bad (cobs/long/short/crc/version/type/length) "
          "| item errors | bursts | failures | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for g in a.genome or ["logic_and_gate", "test_genome"]:
        model = _load_model(resolve_genome_path(g), False, None)
        with tempfile.TemporaryDirectory() as tmp:
            elf = build_link_firmware(model, "native", Path(tmp), sanitize=True,
                                      main=firmware_dir() / "link" / "fuzz_driver.c")
            t0 = time.perf_counter()
            r = subprocess.run([str(elf), str(a.frames), str(a.seed)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, check=False)
            dt = time.perf_counter() - t0
        got = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", r.stderr)}
        if r.returncode != 0 or "runtime error" in r.stderr or "Sanitizer" in r.stderr:
            status = 1
            sys.stderr.write(r.stderr[-4000:])
        bad = "/".join(str(got.get(k, "?")) for k in ("bad_cobs", "too_long", "too_short",
                       "bad_crc", "bad_version", "bad_type", "bad_length"))
        print(f"| {g} | {model.n_neurons} | {got.get('sent_frames', '?'):,} | {got.get('ok', '?'):,} "
              f"| {bad} | {got.get('item_errors', '?'):,} | {got.get('bursts_run', '?'):,} "
              f"| {got.get('failures', '?')} (exit {r.returncode}) | {dt:.1f} |")
    return status


if __name__ == "__main__":
    sys.exit(main())

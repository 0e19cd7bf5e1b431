#!/usr/bin/env python3
"""Sustained burst rate of the FEAGI release engine (PyPI ``feagi-core`` 2.6.10, ``feagi 0.0.67``).

For each genome and each of ``--runs`` (3) fresh engine processes: start the engine (config bound
to 127.0.0.1, ports >= 20000, through the private glibc set up by
``/work/shared/tools/feagi-oracle --setup``), ``POST /v1/burst_engine/stop``,
``POST /v1/genome/upload``, then for each requested frequency F (ascending):
``PUT /v1/burst_engine/config {"burst_frequency_hz": F}``, ``POST /v1/burst_engine/start``, wait a
warm-up, sample ``GET /v1/burst_engine/burst_counter`` over ``--reps`` windows of ``--window`` s,
``POST /v1/burst_engine/stop``. The achieved rate of a window is Δcounter / Δwall-clock; the result
per F is the median over the windows. The ladder stops ``--after-fail`` (2) steps after the first F
whose median is below ``--keep-up`` (90 %) of F (the extra steps show whether the rate saturated).

Reported per process: ``kept_up_hz`` = the achieved rate at the highest F still kept up (>= 90 %:
the sustained burst rate in the strict sense) and ``max_achieved_hz`` = the highest achieved median
over all F tried (the engine's throughput ceiling, used for the twin/FEAGI ratios); the summary
gives the medians over the processes.

Stimulus (``--stim``):
  ``none`` (default): no stimulus — the ``___power`` neuron fires and drives whatever it is mapped
      to (nothing in webots_basic and essential_genome; ~70 fires/burst in learning_v1_1b).
  ``loop``: a background thread re-posts ``/v1/agent/manual_stimulation`` (force-fire) of the same
      seeded subset of neurons as ``bench_twin.py`` (areas with outgoing synapses, ``--stim-frac``) as
      fast as the REST API answers; each post lands in the engine's next burst, so at high F only
      a fraction of the bursts are stimulated (the number of posts per window is reported).

The engine is the oracle's: this script imports ``/work/shared/tools/feagi-oracle`` with importlib
(config template, port picking, REST client). Every engine started is stopped (SIGTERM, then SIGKILL)
and checked gone with ``ps``.

Example::

    python3 bench/bench_feagi.py --json-out bench/results/feagi_idle.json
    python3 bench/bench_feagi.py --stim loop --runs 1 --hz 100 300 1000 3000 10000
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ORACLE = "/work/shared/tools/feagi-oracle"
GENOME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "feagi_embed", "genomes")


def load_oracle(path: str = ORACLE):
    """Import the oracle script (a Python file without ``.py``) as a module."""
    loader = importlib.machinery.SourceFileLoader("feagi_oracle", path)
    spec = importlib.util.spec_from_loader("feagi_oracle", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def genome_path(name: str) -> str:
    """A bundled genome by name, or a path."""
    if os.path.exists(name):
        return name
    p = os.path.join(GENOME_DIR, name if name.endswith(".json") else name + ".json")
    if not os.path.exists(p):
        raise SystemExit(f"error: genome {name!r}: not a file and not a bundled genome ({GENOME_DIR})")
    return os.path.normpath(p)


def pid_alive(pid: int) -> bool:
    """True when ``ps`` still lists the process (zombies excluded)."""
    r = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    stat = r.stdout.strip()
    return bool(stat) and not stat.startswith("Z")


class Engine:
    """One FEAGI engine process started the oracle's way (context manager; stops it on exit)."""

    def __init__(self, oracle, *, port: int = 20000, precision: str = "fp32", keep: bool = False,
                 log=print):
        self.o = oracle
        self.log = log
        self.keep = keep
        self.base = oracle.pick_base_port(port)
        self.work = tempfile.mkdtemp(prefix="feagi_bench_")
        os.makedirs(os.path.join(self.work, "data"), exist_ok=True)
        cfg = os.path.join(self.work, "feagi_configuration.toml")
        with open(cfg, "w") as f:
            f.write(oracle.CONFIG_TEMPLATE.format(
                data_dir=os.path.join(self.work, "data"),
                **{f"p{i}": self.base + i for i in range(oracle.N_PORTS)}))
        libdir = oracle.DEFAULT_LIBDIR
        self.cmd = [os.path.join(libdir, "ld-linux-x86-64.so.2"), "--library-path", libdir,
                    oracle.DEFAULT_BIN, "--config", cfg, "--precision", precision]
        self.logf = open(os.path.join(self.work, "feagi.log"), "w")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"), NO_COLOR="1")
        self.proc = subprocess.Popen(self.cmd, cwd=self.work, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.pid = self.proc.pid
        self.api = oracle.Api(self.base)
        log(f"  engine pid {self.pid}, api port {self.base}, workdir {self.work}")
        t0 = time.time()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"feagi exited rc={self.proc.returncode}; see {self.work}/feagi.log")
            try:
                self.api.get("/system/health_check")
                break
            except Exception:
                if time.time() - t0 > 60:
                    raise RuntimeError("feagi API did not come up in 60 s")
                time.sleep(0.2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> None:
        """SIGTERM the engine by PID (SIGKILL after 10 s) and check with ``ps`` that it is gone."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        if pid_alive(self.pid):
            raise RuntimeError(f"engine pid {self.pid} still running after stop")
        self.log(f"  engine pid {self.pid} stopped (ps: gone)")
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def stim_payload(genome: str, frac: float, seed: int) -> dict[str, list[list[int]]]:
    """``{cortical_id (base64): [[x, y, z], ...]}`` of the neurons ``bench_twin.py`` force-fires."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_twin import load_model, stim_voxels  # noqa: E402  (needs feagi_embed installed)

    model = load_model(genome)
    payload: dict[str, list[list[int]]] = {}
    for area, vox in stim_voxels(model, frac, seed).items():
        payload[model.areas.ids[area]] = [list(map(int, v)) for v in vox]
    return payload


class StimLoop(threading.Thread):
    """Re-posts a force-fire payload as fast as the REST API answers, until stopped."""

    def __init__(self, oracle, port: int, payload: dict):
        super().__init__(daemon=True)
        self.api = oracle.Api(port)  # own connection
        self.payload = payload
        self.posts = 0
        self.errors = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                self.api.req("POST", "/agent/manual_stimulation",
                             {"stimulation_payload": self.payload})
                self.posts += 1
            except Exception:
                self.errors += 1
                time.sleep(0.01)

    def stop(self):
        self._halt.set()
        self.join(timeout=30)


def measure(eng: Engine, hz: float, *, warmup: float, window: float, reps: int,
            payload: dict | None) -> dict:
    """Run the burst loop at ``hz`` and return the achieved rate per window (bursts/s)."""
    api = eng.api
    api.req("PUT", "/burst_engine/config", {"burst_frequency_hz": hz})
    st0 = api.get("/burst_engine/status")
    loop = StimLoop(eng.o, eng.base, payload) if payload else None
    if loop:
        loop.start()
    api.req("POST", "/burst_engine/start")
    try:
        time.sleep(warmup)
        rates, posts = [], []
        c0, t0 = api.get("/burst_engine/burst_counter"), time.perf_counter()
        p0 = loop.posts if loop else 0
        for _ in range(reps):
            time.sleep(window)
            c1, t1 = api.get("/burst_engine/burst_counter"), time.perf_counter()
            p1 = loop.posts if loop else 0
            rates.append((c1 - c0) / (t1 - t0))
            posts.append(p1 - p0)
            c0, t0, p0 = c1, t1, p1
        st = api.get("/burst_engine/status")
    finally:
        api.req("POST", "/burst_engine/stop")
        if loop:
            loop.stop()
    med = statistics.median(rates)
    return {"requested_hz": hz, "status_frequency_hz": st0.get("frequency_hz"),
            "rates": [round(r, 2) for r in rates], "median_hz": round(med, 2),
            "ratio": round(med / hz, 4), "burst_count_end": st.get("burst_count"),
            "stim_posts_per_window": posts if loop else None}


def bench_genome(oracle, name: str, args, log) -> dict:
    path = genome_path(name)
    payload = stim_payload(path, args.stim_frac, args.seed) if args.stim == "loop" else None
    with Engine(oracle, port=args.port, precision=args.precision, keep=args.keep, log=log) as eng:
        api = eng.api
        version = api.get("/system/version")
        api.req("POST", "/burst_engine/stop")
        with open(path, "rb") as f:
            api.req("POST", "/genome/upload", raw_body=f.read())
        hc = api.get("/system/health_check")
        if api.get("/burst_engine/status").get("active"):
            raise RuntimeError("burst engine active after upload")
        rows = []
        fails = 0
        for hz in sorted(args.hz):
            r = measure(eng, hz, warmup=args.warmup, window=args.window, reps=args.reps,
                        payload=payload)
            rows.append(r)
            log(f"  {os.path.basename(path):24s} F={hz:>8g} Hz  achieved median {r['median_hz']:>10.1f}"
                f"  ({100 * r['ratio']:.1f} %)  windows {r['rates']}"
                + (f"  stim posts {r['stim_posts_per_window']}" if payload else ""))
            if r["ratio"] < args.keep_up:
                fails += 1
                if fails > args.after_fail:
                    break
        best = max(rows, key=lambda r: r["median_hz"])
        kept = sorted((r for r in rows if r["ratio"] >= args.keep_up),
                      key=lambda r: r["requested_hz"])
    return {"genome": os.path.basename(path), "engine_version": version,
            "neurons": hc.get("neuron_count"), "synapses": hc.get("synapse_count"),
            "stim": args.stim, "stim_posts": payload is not None,
            "ladder": rows, "max_achieved_hz": best["median_hz"], "at_requested_hz": best["requested_hz"],
            "highest_kept_up_hz": kept[-1]["requested_hz"] if kept else None,
            "kept_up_hz": kept[-1]["median_hz"] if kept else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", action="append", default=None,
                    help="bundled genome name or path (repeatable; default webots_basic, "
                         "learning_v1_1b, essential_genome)")
    ap.add_argument("--hz", type=float, nargs="+",
                    default=[100, 300, 1000, 3000, 10000, 15000, 20000, 30000, 100000],
                    help="burst frequencies to try, ascending")
    ap.add_argument("--keep-up", type=float, default=0.9,
                    help="stop raising F once achieved/requested < this (default 0.9)")
    ap.add_argument("--after-fail", type=int, default=2,
                    help="frequencies still tried after the first one not kept up (to show the "
                         "rate saturates; default 2)")
    ap.add_argument("--warmup", type=float, default=1.0, help="s after start before sampling")
    ap.add_argument("--window", type=float, default=2.0, help="s per sampling window")
    ap.add_argument("--reps", type=int, default=3, help="windows per frequency (median reported)")
    ap.add_argument("--runs", type=int, default=3,
                    help="fresh engine processes per genome (medians over them reported)")
    ap.add_argument("--stim", choices=["none", "loop"], default="none")
    ap.add_argument("--stim-frac", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    ap.add_argument("--port", type=int, default=20000, help="first port to try (>= 20000)")
    ap.add_argument("--oracle", default=ORACLE)
    ap.add_argument("--keep", action="store_true", help="keep the engine work folders (logs)")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    if args.port < 20000:
        ap.error("--port must be >= 20000")
    genomes = args.genome or ["webots_basic", "learning_v1_1b", "essential_genome"]
    oracle = load_oracle(args.oracle)
    if not os.path.exists(oracle.DEFAULT_BIN):
        raise SystemExit(f"error: {oracle.DEFAULT_BIN} missing; run {args.oracle} --setup")

    def log(m):
        print(m, file=sys.stderr, flush=True)

    results = []
    for g in genomes:
        runs = []
        for i in range(args.runs):
            log(f"{g} (engine process {i + 1}/{args.runs}):")
            runs.append(bench_genome(oracle, g, args, log))
        r = dict(runs[0])
        del r["ladder"]
        r["runs"] = runs
        r["max_achieved_hz_runs"] = [x["max_achieved_hz"] for x in runs]
        r["kept_up_hz_runs"] = [x["kept_up_hz"] for x in runs]
        r["highest_kept_up_hz_runs"] = [x["highest_kept_up_hz"] for x in runs]
        r["max_achieved_hz"] = statistics.median(r["max_achieved_hz_runs"])
        ku = [x for x in r["kept_up_hz_runs"] if x is not None]
        r["kept_up_hz"] = statistics.median(ku) if ku else None
        hk = [x for x in r["highest_kept_up_hz_runs"] if x is not None]
        r["highest_kept_up_hz"] = statistics.median(hk) if hk else None
        r["at_requested_hz"] = statistics.median(x["at_requested_hz"] for x in runs)
        results.append(r)
    print(f"\n{'genome':24s} {'neurons':>8s} {'synapses':>9s} {'stim':>5s} {'kept up at F':>13s}"
          f" {'achieved':>9s} {'max achieved':>13s} {'at F':>8s}")
    for r in results:
        print(f"{r['genome']:24s} {r['neurons']:>8} {r['synapses']:>9} {r['stim']:>5s} "
              f"{r['highest_kept_up_hz'] or 0:>13g} {r['kept_up_hz'] or 0:>9.1f} "
              f"{r['max_achieved_hz']:>13.1f} {r['at_requested_hz']:>8g}")
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        doc = {"tool": "bench/bench_feagi.py", "argv": sys.argv[1:] if argv is None else argv,
               "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "settings": vars(args), "results": results}
        with open(args.json_out, "w") as f:
            json.dump(doc, f, indent=1)
        log(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()

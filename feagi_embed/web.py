"""The brain in a browser: ``feagi-embed build GENOME --board wasm --out site/`` and ``serve``.

:func:`build_site` compiles ``firmware/feagi_runtime.c`` and the generated model with clang
``--target=wasm32`` + wasm-ld (``-nostdlib``: the runtime is freestanding, its wasm HAL is
``firmware/hal/hal_wasm.c``) into ``feagi.wasm`` and writes a static page next to it
(``templates/web/``: HTML + ES modules, no framework, no network at run time): the burst loop
runs in a Web Worker at a chosen rate, a canvas shows a per-area raster and an activity heat map,
IPU areas take inputs, OPU areas show their fired voxels, and the burst number, bursts/s and the
running digest are displayed. ``schedule.json`` holds a compiled test stimulus the page (and Node)
can run from a fresh brain, printing the device protocol (``docs/model.md`` §4).

Executors (the ``Executor`` shape of ``feagi_embed.verify``: ``name``, ``available()``,
``run(model, stimulus, bursts, state_every, trace_ids) -> Trace``):

- :class:`WasmExecutor`: the page's module and JS host (``feagi_core.mjs``) under Node;
- :class:`BrowserExecutor`: the page itself in headless Chromium, driven by Selenium.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from . import __version__
from .errors import FeagiEmbedError

from .resources import firmware_dir, templates_dir
from .trace import Trace, parse_fired_ids, parse_protocol

#: page template folder (package data in a wheel, else the checkout)
WEB_TEMPLATES = templates_dir() / "web"
#: files copied verbatim into the site
STATIC_FILES = ("feagi_core.mjs", "worker.mjs", "page.mjs", "run_node.mjs", "style.css")
#: queue capacity cap for interactive IPU input (entries per burst, 9 B each in the module)
MAX_INTERACTIVE_QUEUE = 1 << 18
#: runtime functions of feagi_runtime.h the module exports (the feagi_wasm_* ones are exported
#: by firmware/hal/wasm_exports.c itself)
EXPORTS = ("feagi_init", "feagi_burst", "feagi_inject", "feagi_force_fire", "feagi_inject_id",
           "feagi_force_fire_id", "feagi_burst_number", "feagi_fired_count", "feagi_burst_digest",
           "feagi_state_digest", "feagi_final_digest", "feagi_trace_burst", "feagi_trace_state",
           "feagi_trace_end")
#: Chromium flags of the browser test and benchmark (no network, no first-run work, no GPU)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1100")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class WebError(FeagiEmbedError):
    """The page could not be built, served or run (missing tool, compiler error, page error)."""


# ------------------------------------------------------------------ model metadata
def model_facts(model) -> dict[str, Any]:
    """What the page needs to know about ``model`` (written as ``model.json``).

    Returns:
        ``{"genome", "genome_sha256", "neurons", "synapses", "frac_bits", "max_sensory",
        "timestep" (s), "area_first" ([A+1] ints), "areas": [{"index", "id" (genome id), "name",
        "kind" (ipu/opu/core/custom...), "dims" [w, h, d], "npv", "first", "neurons"}]}``.
    """
    first = np.asarray(model.area_first, np.int64)
    t = model.areas
    areas = [{"index": a, "id": t.genome_ids[a], "name": t.names[a], "kind": t.kinds[a],
              "dims": [int(v) for v in t.dims[a]], "npv": int(t.npv[a]), "first": int(first[a]),
              "neurons": int(first[a + 1] - first[a])} for a in range(len(first) - 1)]
    return {"genome": os.path.basename(str(model.provenance.genome_name)),
            "genome_sha256": model.provenance.genome_sha256,
            "neurons": int(model.n_neurons), "synapses": int(model.n_synapses),
            "frac_bits": int(model.frac_bits), "max_sensory": float(model.max_sensory),
            "timestep": float(model.simulation_timestep or 0.025),
            "area_first": [int(v) for v in first], "areas": areas}


def missing_wasm_tools() -> list[str]:
    """Executables :func:`build_site` needs that are not on PATH (clang, wasm-ld)."""
    return [t for t in ("clang", "wasm-ld") if not shutil.which(t)]


def missing_node() -> list[str]:
    """``["node"]`` when Node is not on PATH."""
    return [] if shutil.which("node") else ["node"]


def missing_browser() -> list[str]:
    """What the headless-Chromium executor lacks: the chromium and chromedriver binaries
    (Debian ``chromium``, ``chromium-driver``) and the ``selenium`` package."""
    miss = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        miss.append("selenium (pip)")
    return miss


# ------------------------------------------------------------------ build
@dataclass
class SiteResult:
    """What :func:`build_site` wrote: the folder, the memory plan, the module's size (bytes), the
    compiler command and the files."""

    out_dir: Path
    plan: Any
    wasm_bytes: int
    command: list[str]
    files: list[Path]


def site_queue_len(model, stimulus, bursts: int) -> int:
    """Injection queue capacity of the page's module: what a build's default queue takes
    (:func:`~feagi_embed.plan.input_queue_len`: the test schedule, every sensor voxel), and room
    for every voxel of every IPU area, camera frames included, in one burst (the page's "all"
    pattern), at most :data:`MAX_INTERACTIVE_QUEUE`."""
    from .plan import input_queue_len

    facts = model_facts(model)
    ipu = sum(int(np.prod(a["dims"])) for a in facts["areas"] if a["kind"] == "ipu")
    return max(input_queue_len(model, stimulus, bursts), min(ipu, MAX_INTERACTIVE_QUEUE))


def compile_command(gen_dir: Path, out: Path, board) -> list[str]:
    """clang command that links the generated model, the runtime (included by
    ``firmware/hal/wasm_exports.c``: one translation unit with the page's exports), the wasm HAL
    into ``out`` (a reactor module: no entry point)."""
    from .targets.toolchain import WASM_FLAGS

    fw = firmware_dir()
    hal = fw / "hal"
    cmd = [board.cc, *board.cflags, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
           *WASM_FLAGS, "-Wl,--no-entry", *[f"-Wl,--export={e}" for e in EXPORTS],
           f"-I{gen_dir}", f"-I{fw}", f"-I{hal}", str(gen_dir / "feagi_model.c"),
           *[str(hal / f) for f in ("hal_wasm.c", "hal_common.c", "wasm_exports.c")],
           "-o", str(out)]
    return cmd


def build_site(model, out_dir: str | os.PathLike, *, stimulus=None, bursts: int | None = None,
               state_every: int = 10, board: str = "wasm") -> SiteResult:
    """Write the page for ``model`` into ``out_dir``: ``feagi.wasm``, ``index.html``, the ES
    modules, ``style.css``, ``model.json`` (:func:`model_facts`), ``schedule.json`` (``stimulus``
    compiled for ``bursts`` bursts, default its length or 100: ``{"bursts", "state_every", "ptr",
    "nrn", "val", "kind"}`` as :meth:`Stimulus.compile`) and ``README.md``.

    Raises:
        CapacityError: the model does not fit the board's budgets (nothing is written).
        StimulusError: bad stimulus.
        WebError: clang / wasm-ld missing, or the compiler failed (command and output included).
    """
    from .boards import load_board
    from .build import c_plan, check_stimulus, test_bursts
    from .codegen import emit_c_model
    from .plan import budget_for, check_fit
    from .stimulus import Stimulus

    b = load_board(board)
    bud = budget_for(b)
    stim = stimulus or Stimulus()
    n = test_bursts(stim, bursts)
    plan = c_plan(model, b, stim, n, site_queue_len(model, stim, n))
    check_fit(plan, bud)
    check_stimulus(model, plan, stim, n, b.name)
    ptr, nrn, val, kind = stim.compile(model, n)
    miss = missing_wasm_tools()
    if miss:
        raise WebError(f"board {b.name}: {', '.join(miss)} not installed (Debian packages clang, "
                       "lld; run .ci/install-toolchains.sh)")
    facts = model_facts(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="feagi-wasm-") as tmp:
        gen = Path(tmp)
        emit_c_model(model, plan, bud, gen)
        cmd = compile_command(gen, out / "feagi.wasm", b)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise WebError(f"board {b.name}: clang failed (rc {proc.returncode})\n  command: "
                       f"{' '.join(cmd)}\n  output:\n{(proc.stdout + proc.stderr)[-4000:]}")
    size = (out / "feagi.wasm").stat().st_size
    facts["queue_len"] = int(plan.constants["queue_len"])
    written = [out / "feagi.wasm"]
    (out / "model.json").write_text(json.dumps(facts))
    (out / "schedule.json").write_text(json.dumps({
        "bursts": n, "state_every": int(state_every), "ptr": [int(v) for v in ptr],
        "nrn": [int(v) for v in nrn], "val": [int(v) for v in val], "kind": [int(v) for v in kind]}))
    written += [out / "model.json", out / "schedule.json"]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(WEB_TEMPLATES)),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=True)
    banner = (f"Generated by feagi-embed {__version__} from genome {facts['genome']} (sha256 "
              f"{facts['genome_sha256']}) for board {b.name}. Do not edit (regenerate instead).")
    (out / "index.html").write_text(env.get_template("index.html.j2").render(
        banner=banner, genome_name=facts["genome"].removesuffix(".json"),
        neurons=f"{facts['neurons']:,}", synapses=f"{facts['synapses']:,}",
        areas=len(facts["areas"]), wasm_kib=f"{size / 1024:,.1f}", version=__version__,
        default_rate=min(1000, max(1, round(1 / facts["timestep"]))), has_schedule=True,
        schedule_bursts=n))
    written.append(out / "index.html")
    for f in STATIC_FILES:
        shutil.copyfile(WEB_TEMPLATES / f, out / f)
        written.append(out / f)
    (out / "README.md").write_text(
        f"# {facts['genome']} in the browser\n\n{banner}\n\n"
        f"- `feagi-embed serve {out}` then open the printed http://127.0.0.1 address "
        "(ES modules and workers need http, not file://).\n"
        f"- `node {out}/run_node.mjs {out}` runs `schedule.json` ({n} bursts) under Node and "
        "prints the device protocol (B/S/E lines, docs/model.md §4).\n"
        f"- feagi.wasm: {size:,} B, built with `{' '.join(Path(c).name if c.startswith('/') else c for c in cmd)}`\n")
    written.append(out / "README.md")
    return SiteResult(out, plan, size, cmd, written)


# ------------------------------------------------------------------ serve
class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the MIME types ES modules and WebAssembly streaming need; quiet."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".js": "text/javascript",
                      ".wasm": "application/wasm", ".json": "application/json"}

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def make_server(site: str | os.PathLike, port: int = 8000, host: str = "127.0.0.1",
                verbose: bool = False) -> http.server.ThreadingHTTPServer:
    """A standard-library HTTP server for ``site`` on ``host:port`` (port 0: any free one).

    Raises:
        WebError: ``site`` has no ``index.html``, or the port cannot be bound.
    """
    site = Path(site)
    if not (site / "index.html").is_file():
        raise WebError(f"{site}: no index.html (build it with feagi-embed build GENOME --board wasm "
                       f"--out {site})")
    try:
        srv = http.server.ThreadingHTTPServer(
            (host, port), functools.partial(_Handler, directory=str(site)))
    except OSError as e:
        raise WebError(f"cannot serve {site} on {host}:{port}: {e.strerror}") from None
    srv.verbose = verbose
    return srv


# ------------------------------------------------------------------ executors
def checked_trace(text: str, trace_ids: bool = False, detail: str = "") -> Trace:
    """A :class:`~feagi_embed.trace.Trace` from device protocol text (B/S lines; ``fired`` from
    ``I`` lines when ``trace_ids``, else empty), checking that the ``E`` line chains the ``B``s.

    Raises:
        WebError: the ``E`` line's final digest does not chain the ``B`` digests.
    """
    import zlib

    bursts, states, final = parse_protocol(text)
    if final is not None and final != zlib.crc32(np.asarray(bursts, "<u4").tobytes()):
        raise WebError(f"final digest {final:08x} does not chain the {len(bursts)} burst digests")
    fired = []
    if trace_ids:
        ids = parse_fired_ids(text)
        fired = [np.asarray(ids.get(b, []), np.uint32) for b in range(1, len(bursts) + 1)]
    return Trace(fired=fired, burst_crc=bursts, state_crc=states, detail=detail)


class WasmExecutor:
    """The page's wasm module and its JS host (``feagi_core.mjs``, the same code the Web Worker
    runs) under Node: builds the site into a work folder, runs ``run_node.mjs`` on its
    ``schedule.json``. ``seconds`` after :meth:`run`: time Node spent in the burst loop."""

    name = "wasm page module (node)"
    compares_state = True
    can_trace_ids = True

    def __init__(self, work_dir: str | os.PathLike | None = None, timeout: float = 600.0):
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.timeout = timeout
        self.seconds: float | None = None
        self.site: SiteResult | None = None

    def available(self) -> str | None:
        """None when clang, wasm-ld and Node are installed, else what is missing."""
        miss = missing_wasm_tools() + missing_node()
        return f"missing {', '.join(miss)}" if miss else None

    def run(self, model, stimulus, bursts: int, state_every: int = 10, trace_ids: bool = False):
        """Trace of ``bursts`` bursts of ``model`` under ``stimulus`` (burst and state digests;
        fired ids with ``trace_ids``).

        Raises:
            WebError: build failure, Node failure or timeout.
        """
        with tempfile.TemporaryDirectory(prefix="feagi-wasm-") as tmp:
            site = (self.work_dir or Path(tmp)) / "site"
            self.site = build_site(model, site, stimulus=stimulus, bursts=bursts,
                                   state_every=state_every)
            cmd = ["node", str(site / "run_node.mjs"), str(site)] + (["--ids"] if trace_ids else [])
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout,
                                      check=False)
            except subprocess.TimeoutExpired:
                raise WebError(f"{' '.join(cmd)}: no result within {self.timeout:g} s") from None
        if proc.returncode != 0:
            raise WebError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        for line in proc.stdout.splitlines():
            if line.startswith("T "):
                self.seconds = float(line.split()[1])
        return checked_trace(proc.stdout, trace_ids, f"feagi.wasm {self.site.wasm_bytes:,} B; "
                             f"{self.seconds or 0:.3f} s in Node")


class BrowserExecutor:
    """The page in headless Chromium (Debian ``chromium`` + ``chromium-driver``, Selenium): the
    site is served on 127.0.0.1, the page's "Run test schedule" button runs ``schedule.json`` in
    its Web Worker, and the protocol text is read back from the page. After :meth:`run`:
    ``seconds`` (loop time measured in the worker), ``bursts_per_s``, ``screenshot`` (PNG bytes,
    taken when a ``screenshot`` path is given) and ``canvas_lit`` (non-background pixels of the raster canvas).

    One Chromium (fresh ``--user-data-dir``) serves every :meth:`run` until :meth:`close` (also a
    context manager)."""

    name = "wasm page (headless chromium)"
    compares_state = True
    can_trace_ids = False

    def __init__(self, work_dir: str | os.PathLike | None = None, timeout: float = 300.0,
                 screenshot: str | os.PathLike | None = None):
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.timeout = timeout
        self.screenshot_path = Path(screenshot) if screenshot else None
        self.seconds: float | None = None
        self.bursts_per_s: float | None = None
        self.screenshot: bytes | None = None
        self.canvas_lit: int | None = None
        self.site: SiteResult | None = None
        self._driver = None
        self._profile: str | None = None

    def __enter__(self) -> BrowserExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Quit Chromium and remove its profile folder."""
        if self._driver is not None:
            self._driver.quit()
            self._driver = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def driver(self):
        """The Selenium Chrome driver (started on first use)."""
        if self._driver is None:
            from selenium import webdriver
            from selenium.webdriver.chrome.options import Options
            from selenium.webdriver.chrome.service import Service

            self._profile = tempfile.mkdtemp(prefix="feagi-chromium-")
            opts = Options()
            opts.binary_location = CHROMIUM
            for f in (*CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"):
                opts.add_argument(f)
            self._driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        return self._driver

    def available(self) -> str | None:
        """None when clang, wasm-ld, chromium, chromedriver and selenium are installed."""
        miss = missing_wasm_tools() + missing_browser()
        return f"missing {', '.join(miss)}" if miss else None

    def run(self, model, stimulus, bursts: int, state_every: int = 10, trace_ids: bool = False):
        """Trace of the page's run (burst and state digests; ``trace_ids`` is not supported by
        the page and leaves ``fired`` empty).

        Raises:
            WebError: build failure, page error, or no result within ``timeout``.
        """
        with tempfile.TemporaryDirectory(prefix="feagi-browser-") as tmp:
            site = (self.work_dir or Path(tmp)) / "site"
            self.site = build_site(model, site, stimulus=stimulus, bursts=bursts,
                                   state_every=state_every)
            text = self.run_site(site)
        return checked_trace(text, detail=f"{self.bursts_per_s:,.0f} bursts/s in the page")

    def run_site(self, site: str | os.PathLike) -> str:
        """Serve ``site`` on 127.0.0.1, run its test schedule in the page, return the protocol
        text the page shows; fills ``seconds``, ``bursts_per_s``, ``canvas_lit``, ``screenshot``."""
        from selenium.webdriver.common.by import By

        srv = make_server(site, 0)
        th = threading.Thread(target=srv.serve_forever, daemon=True)
        th.start()
        driver = self.driver()
        try:
            driver.get(f"http://127.0.0.1:{srv.server_address[1]}/index.html")
            state = self._wait(driver, ("ready",), 60)
            driver.find_element(By.ID, "run-schedule").click()
            if state != "ready":
                raise WebError(f"page state {state!r}")
            self._wait(driver, ("schedule-done",), self.timeout)
            text = driver.find_element(By.ID, "protocol").get_attribute("textContent")
            self.bursts_per_s = float(driver.execute_script("return document.body.dataset.scheduleBps"))
            self.canvas_lit = int(driver.execute_script(
                "const c = document.getElementById('raster'), d = c.getContext('2d')"
                ".getImageData(170, 0, c.width - 170, c.height).data; let n = 0;"
                "for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 150) n++; return n;"))
            self.screenshot = None
            if self.screenshot_path:
                time.sleep(0.3)  # the heat map is drawn on the next animation frames
                self.screenshot = driver.get_screenshot_as_png()
                self.screenshot_path.write_bytes(self.screenshot)
        finally:
            driver.get("about:blank")
            srv.shutdown()
            srv.server_close()
        bursts = [ln for ln in text.splitlines() if ln.startswith("B ")]
        if not bursts:
            raise WebError(f"the page printed no burst lines: {text[-500:]!r}")
        self.seconds = len(bursts) / self.bursts_per_s if self.bursts_per_s else None
        return text

    @staticmethod
    def _wait(driver, states: tuple[str, ...], timeout: float) -> str:
        """Wait until ``body[data-state]`` is one of ``states`` (``error``: raise)."""
        t0 = time.monotonic()
        while True:
            st = driver.execute_script("return document.body.dataset.state")
            if st in states:
                return st
            if st == "error":
                msg = driver.execute_script("return document.getElementById('status').textContent")
                raise WebError(f"the page reports {msg}")
            if time.monotonic() - t0 > timeout:
                msg = driver.execute_script("return document.getElementById('status').textContent")
                raise WebError(f"page state {st!r} after {timeout:g} s (waiting for "
                               f"{'/'.join(states)}; status {msg!r})")
            time.sleep(0.05)

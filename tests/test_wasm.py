"""The brain in a browser: the C runtime compiled to wasm32 equals the numba twin bit for bit.

Independent expectation: the fixed-point twin (host/twin.py, pinned to the FEAGI release engine by
tests/test_oracle_traces.py). The page's module (``feagi-embed build --board wasm``) runs the same
schedules as tests/test_firmware_native.py (the oracle force-fire schedules of every bundled genome
plus positive/negative injections, and every conformance micro-genome), through the page's own JS
host (feagi_core.mjs) under Node, and a few of them in the page itself in headless Chromium
(Selenium + Debian's chromedriver), reading the digests from the page. Every burst digest, state
digest and the final digest must equal the twin's. Missing clang/wasm-ld/Node/Chromium skip
locally and fail in CI (FEAGI_EMBED_REQUIRE_TOOLS=1).
"""

from __future__ import annotations

import io
import os
import urllib.request
import zlib

import numpy as np
import pytest
from click.testing import CliRunner

from feagi_embed.cli import main
from feagi_embed.host.twin import Twin
from feagi_embed.stimulus import Stimulus
from feagi_embed.targets.wasm import wasm_sizes
from feagi_embed.trace import compare_digests
from feagi_embed.web import (
    BrowserExecutor,
    WasmExecutor,
    WebError,
    build_site,
    make_server,
    missing_browser,
    missing_node,
    missing_wasm_tools,
    checked_trace,
)

from .conftest import require
from .test_firmware_native import BURSTS, CONFORMANCE, REAL_GENOMES, STATE_EVERY, _case

#: the bundled genomes the browser test runs in CI (FEAGI_EMBED_BROWSER_ALL=1: every bundled one)
BROWSER_GENOMES = (REAL_GENOMES if os.environ.get("FEAGI_EMBED_BROWSER_ALL") == "1"
                   else ["essential_genome", "webots_basic", "test_timer"])


def need_node():
    require(missing_wasm_tools() + missing_node(), "wasm executor (clang, lld, nodejs)")


def need_browser():
    require(missing_wasm_tools() + missing_browser(), "browser test (clang, lld, chromium, "
            "chromium-driver, selenium)")


def assert_equal_to_twin(model, stim, trace, bursts: int, state_every: int) -> None:
    ref = Twin(model).run(bursts, stim, state_every=state_every)
    eq, first = compare_digests(ref, trace.burst_crc, trace.state_crc)
    assert eq, f"first divergence {first}"
    assert len(trace.burst_crc) == bursts and set(trace.state_crc) == set(ref.state_crc)
    assert zlib.crc32(np.asarray(trace.burst_crc, "<u4").tobytes()) == ref.final_digest


@pytest.mark.parametrize("name", REAL_GENOMES)
def test_real_genome_wasm_node_equals_twin(name, tmp_path):
    need_node()
    model, stim, _, _ = _case(name)
    tr = WasmExecutor(tmp_path).run(model, stim, BURSTS, STATE_EVERY)
    assert_equal_to_twin(model, stim, tr, BURSTS, STATE_EVERY)


@pytest.mark.parametrize("name", CONFORMANCE)
def test_conformance_wasm_node_equals_twin(name, tmp_path):
    need_node()
    model, stim, _, _ = _case(name)
    tr = WasmExecutor(tmp_path).run(model, stim, BURSTS, 1, trace_ids=True)
    assert_equal_to_twin(model, stim, tr, BURSTS, 1)
    ref = Twin(model).run(BURSTS, stim)
    assert all(np.array_equal(a, b) for a, b in zip(tr.fired, ref.fired))  # the I lines too


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for all page tests of this module."""
    need_browser()
    with BrowserExecutor() as ex:
        yield ex


@pytest.mark.parametrize("name", BROWSER_GENOMES)
def test_page_in_headless_chromium_equals_twin(name, browser, tmp_path):
    model, stim, _, _ = _case(name)
    shot = tmp_path / f"{name}.png"
    ex = browser
    ex.work_dir, ex.screenshot_path = tmp_path, shot
    tr = ex.run(model, stim, BURSTS, STATE_EVERY)
    assert_equal_to_twin(model, stim, tr, BURSTS, STATE_EVERY)
    # the screenshot is a real rendering, not a blank page: many colours, and the raster canvas
    # lit where neurons fired (the twin says some did)
    from PIL import Image

    img = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    assert img.size[0] >= 1000 and img.size[1] >= 700
    assert len(img.getcolors(maxcolors=1 << 20) or []) > 50
    assert np.asarray(img, np.float32).std() > 10
    fired = sum(len(f) for f in Twin(model).run(BURSTS, stim).fired)
    assert fired > 0 and ex.canvas_lit > 0
    assert ex.bursts_per_s > 0


@pytest.mark.parametrize("name", CONFORMANCE)
def test_conformance_in_chromium(name, browser, tmp_path):
    """Every conformance case through the page too (state digest after every burst)."""
    model, stim, _, _ = _case(name)
    browser.work_dir, browser.screenshot_path = tmp_path, None
    tr = browser.run(model, stim, BURSTS, 1)
    assert_equal_to_twin(model, stim, tr, BURSTS, 1)


def test_site_files_sizes_and_serving(tmp_path):
    need_node()
    model, stim, _, _ = _case("test_timer")
    res = build_site(model, tmp_path / "site", stimulus=stim, bursts=40)
    names = {p.name for p in res.files}
    assert {"index.html", "feagi.wasm", "model.json", "schedule.json", "worker.mjs", "page.mjs",
            "feagi_core.mjs", "run_node.mjs"} <= names
    html = (tmp_path / "site" / "index.html").read_text()
    assert "Generated by feagi-embed" in html and "test_timer" in html
    assert "http" not in html.replace("http://127.0.0.1", "")  # no network at run time
    # the module's data segments hold the model's constant arrays, .bss the state arrays
    s = wasm_sizes(tmp_path / "site" / "feagi.wasm")
    assert res.plan.flash_bytes <= s.rodata + s.data <= res.plan.flash_bytes + 4096
    assert res.plan.static_bytes <= s.bss <= res.plan.static_bytes + 4 * model.n_neurons + 4096
    assert s.text > 1000 and res.wasm_bytes == (tmp_path / "site" / "feagi.wasm").stat().st_size
    srv = make_server(tmp_path / "site", 0)
    import threading

    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}/"
        for f, ctype in (("feagi.wasm", "application/wasm"), ("worker.mjs", "text/javascript"),
                         ("index.html", "text/html")):
            with urllib.request.urlopen(base + f) as r:
                assert r.headers["Content-Type"].startswith(ctype)
                assert r.read() == (tmp_path / "site" / f).read_bytes()
    finally:
        srv.shutdown()
        srv.server_close()


def test_cli_build_wasm_and_serve_errors(tmp_path):
    need_node()
    r = CliRunner().invoke(main, ["build", "test_timer", "--board", "wasm", "--out",
                                  str(tmp_path / "site"), "--bursts", "30"])
    assert r.exit_code == 0, r.output
    assert "feagi.wasm" in r.output and (tmp_path / "site" / "index.html").is_file()
    r = CliRunner().invoke(main, ["serve", str(tmp_path)])
    assert r.exit_code == 2 and "no index.html" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["build", "test_timer", "--board", "wasm", "--lang", "micropython"])
    assert r.exit_code == 2


def test_protocol_chain_is_checked():
    good = "B 1 0 11111111\nB 2 1 22222222\n"
    final = zlib.crc32(np.asarray([0x11111111, 0x22222222], "<u4").tobytes())
    tr = checked_trace(good + f"S 2 abcdef01\nE 2 {final:08x}\n")
    assert tr.burst_crc == [0x11111111, 0x22222222] and tr.state_crc == {2: 0xABCDEF01}
    with pytest.raises(WebError, match="does not chain"):
        checked_trace(good + f"E 2 {final ^ 1:08x}\n")


def test_verify_has_a_wasm_row(tmp_path):
    need_node()
    from feagi_embed.boards import load_board
    from feagi_embed.executors import default_executors
    from feagi_embed.verify import verify

    model, stim, _, _ = _case("test_timer")
    exs = [e for e in default_executors(load_board("native"), "c", tmp_path)
           if isinstance(e, WasmExecutor)]
    rows = verify(model, exs, stim, 30)
    row = next(r for r in rows if r["name"] == WasmExecutor.name)
    assert row["equal"] is True and row["bursts"] == 30


def test_interactive_run_with_ipu_input_equals_twin(browser, tmp_path):
    """The page's own controls: vision_TM set to "all" voxels, value 10 (inject), Run, Pause. The
    burst count depends on timing, the digests must not: the twin under the equivalent stimulus
    (every voxel of vision_TM, ascending x, y, z, injected with 10.0 on every burst) gives the same
    last burst digest and running (final) digest."""
    import threading
    import time

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    model, _, _, _ = _case("essential_genome")
    a = model.areas.names.index("vision_TM")
    build_site(model, tmp_path / "site", bursts=10)
    srv = make_server(tmp_path / "site", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    d = browser.driver()
    try:
        d.get(f"http://127.0.0.1:{srv.server_address[1]}/index.html")
        browser._wait(d, ("ready",), 60)
        row = d.find_element(By.CSS_SELECTOR, f"tr[data-area='{a}']")
        Select(row.find_element(By.CSS_SELECTOR, "select[data-k=pattern]")).select_by_visible_text("all")
        d.find_element(By.ID, "run").click()
        time.sleep(1.5)
        d.find_element(By.ID, "run").click()  # pause
        time.sleep(0.5)
        burst = int(d.find_element(By.ID, "burst").text)
        digest = int(d.find_element(By.ID, "digest").text, 16)
        final = int(d.find_element(By.ID, "final").text, 16)
        assert float(d.find_element(By.ID, "bps").text) > 0
    finally:
        d.get("about:blank")
        srv.shutdown()
        srv.server_close()
    assert burst >= 3
    w, h, dd = model.areas.dims[a]
    stim = Stimulus.from_json({"stimuli": [{
        "area": model.areas.genome_ids[a], "bursts": [1, burst], "kind": "inject", "value": 10.0,
        "voxels": [[x, y, z] for x in range(w) for y in range(h) for z in range(dd)]}]}, "page")
    ref = Twin(model).run(burst, stim)
    assert (digest, final) == (ref.burst_crc[-1], ref.final_digest)
    assert sum(len(f) for f in ref.fired) > burst  # the input did make neurons fire

"""`feagi-embed sweep` (issue 17): seeded stimuli, cell results, cache, and a real Dask cluster.

The cluster test starts a `dask scheduler` and two `dask worker` processes on 127.0.0.1 (random
free ports, killed at teardown) and checks that a sweep of every bundled genome x every board x 3
seeded stimuli x (twin, native C, esp32c3 in QEMU) equals the same sweep run serially, cell for cell.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from feagi_embed.sweep import (
    GenomeSpec,
    ResultCache,
    SerialRunner,
    Sweep,
    SweepError,
    cell_task,
    comparable,
    compile_task,
    parse_executors,
    parse_stimuli,
    project_task,
    random_stimulus,
    reference_task,
)
from tests.conftest import genome_names, genome_path, require, require_board

BURSTS, STATE_EVERY = 12, 4
EMULATED = "esp32c3"


def _model(name):
    from feagi_embed.sweep import load_model

    return load_model(str(genome_path(name)))


# ------------------------------------------------------------------------- random stimuli
def test_random_stimulus_is_seeded_fits_the_default_queue_and_every_boards_grid():
    from feagi_embed.boards import load_board
    from feagi_embed.build import c_plan, check_stimulus
    from feagi_embed.plan import DEFAULT_QUEUE_LEN
    from feagi_embed.stimulus import KIND_FORCE

    m = _model("essential_genome")  # its IPU areas keep 16-bit V on the esp32
    a, b, c = (random_stimulus(m, 30, s) for s in (7, 7, 8))
    assert a.to_json() == b.to_json() and a.to_json() != c.to_json()
    ar = m.areas
    assert {e["area"] for e in a.entries} <= {ar.genome_ids[i] for i in range(len(ar))
                                              if ar.kinds[i] == "ipu"}
    ptr, _nrn, val, kind = a.compile(m, 30)
    per = np.diff(ptr)
    assert per.max() <= DEFAULT_QUEUE_LEN and per.min() > 0
    assert (kind == KIND_FORCE).any() and (kind != KIND_FORCE).any()
    # and the build accepts it where V is 16 bits (it refuses values off that grid)
    plan = c_plan(m, load_board("esp32"), a, 30)
    assert plan.narrow_v
    check_stimulus(m, plan, a, 30, "esp32")
    with pytest.raises(ValueError, match="bursts=0"):
        random_stimulus(m, 0, 0)


def test_bad_sweep_arguments_name_the_value(tmp_path):
    with pytest.raises(SweepError, match="'gpu'"):
        parse_executors(["twin,gpu"])
    with pytest.raises(SweepError, match="only emulator"):
        parse_executors(["native:uno"])
    assert parse_executors(["twin", "emulator:uno+esp32c3"]) == [
        ("twin", None), ("emulator", frozenset({"uno", "esp32c3"}))]
    assert [s.label for s in parse_stimuli(["3"], seed=5)] == ["seed5", "seed6", "seed7"]
    with pytest.raises(SweepError, match="got 0"):
        parse_stimuli(["0"])


# ------------------------------------------------------------------------- cells
def test_cell_refusal_carries_the_numbers_and_runs_nothing():
    from feagi_embed.boards import load_board
    from feagi_embed.build import c_plan, report

    m = _model("essential_genome")
    st = [random_stimulus(m, BURSTS, 0)]
    proj = project_task(m, "uno", st, BURSTS, STATE_EVERY)
    rep = report(m, load_board("uno"), c_plan(m, load_board("uno"), st[0], BURSTS))
    assert proj.refusal and not proj.model_files
    objs = compile_task(proj, "native")
    assert not objs.objects
    cell = {"genome": "essential_genome", "board": "uno", "stimulus": "seed0", "executor": "native"}
    row = cell_task(cell, m, proj, objs, None, 0)
    ram = rep["regions"]["ram"]
    assert row["status"] == "refused" and row["bursts"] == 0
    assert row["capacity"]["regions"]["ram"] == {"used": ram["used"], "available": ram["available"],
                                                  "missing": ram["used"] - ram["available"]}
    assert f"missing {ram['used'] - ram['available']:,} B" in row["detail"]


def test_random_stimulus_is_redrawn_non_negative_for_a_board_that_needs_it():
    """webots_basic fits the nucleo_f401re only with 16-bit V proven for inputs >= 0 in some
    areas: the sweep's seeded random stimulus (seed 14 draws negative values there) is redrawn
    for that board with those values made non-negative — the same entries otherwise — and gets a
    driver; given as a file (no seed) the same schedule is refused, naming the rule."""
    from feagi_embed.boards import load_board
    from feagi_embed.build import c_plan
    from feagi_embed.plan import nonneg_areas

    m = _model("webots_basic")
    st = random_stimulus(m, BURSTS, 14)
    areas = nonneg_areas(c_plan(m, load_board("nucleo_f401re"), st, BURSTS))
    assert areas
    as_file = project_task(m, "nucleo_f401re", [st], BURSTS, STATE_EVERY)
    assert as_file.variants == [None] and "expected a value >= 0" in as_file.drivers[0]
    proj = project_task(m, "nucleo_f401re", [st], BURSTS, STATE_EVERY, [14])
    (v,) = proj.variants
    assert isinstance(proj.drivers[0], dict)
    ids = {g: i for i, g in enumerate(m.areas.genome_ids)}
    a, b = st.to_json()["stimuli"], v.to_json()["stimuli"]
    assert len(a) == len(b) and any(e.get("value", 0) < 0 and ids[e["area"]] in areas for e in a)
    for e, f in zip(a, b):
        want = abs(e["value"]) if "value" in e and ids[e["area"]] in areas else e.get("value")
        assert {**e, "value": want} == {**f, "value": f.get("value")}


def test_cell_names_the_first_divergence(tmp_path):
    """A native run compared with the twin trace of *another* stimulus must differ at the first
    burst where the two twin traces differ, naming a neuron whose firing differs there."""
    require_board("native")
    m = _model("test_timer")
    st = [random_stimulus(m, BURSTS, s) for s in (0, 1)]
    proj = project_task(m, "native", st, BURSTS, STATE_EVERY)
    objs = compile_task(proj, "native")
    ref0, ref1 = (reference_task(m, s, BURSTS, STATE_EVERY) for s in st)
    cell = {"genome": "test_timer", "board": "native", "stimulus": "seed0", "executor": "native"}
    same = cell_task(cell, m, proj, objs, ref0, 0)
    assert same["status"] == "equal" and same["bursts"] == BURSTS
    other = cell_task(cell, m, proj, objs, ref1, 0)
    first = next(i + 1 for i, (x, y) in enumerate(zip(ref0.burst_crc, ref1.burst_crc)) if x != y)
    fd = other["first_divergence"]
    assert other["status"] == "differs" and fd["burst"] == first and fd["what"] == "burst digest"
    n = fd["neuron"]
    fired0, fired1 = set(ref0.fired[first - 1].tolist()), set(ref1.fired[first - 1].tolist())
    assert n["id"] == min(fired0 ^ fired1)
    assert n["target_fired"] == (n["id"] in fired0) and n["twin_fired"] == (n["id"] in fired1)
    # the report lists the failing cell with that divergence
    from feagi_embed.trace import describe_divergence
    from feagi_embed.sweep import SweepResult, write_outputs

    res = SweepResult([dict(same, cached=False), dict(other, cached=False)], 2, 0, 1.0, "serial",
                      1, BURSTS, STATE_EVERY)
    paths = write_outputs(res, tmp_path)
    text = describe_divergence(fd)
    assert f"burst {first} (burst digest), neuron {n['id']}" in text
    import html
    assert html.escape(text) in paths["html"].read_text()
    assert text in paths["csv"].read_text()


# ------------------------------------------------------------------------- the cluster
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A `dask scheduler` and two single-threaded `dask worker` processes on 127.0.0.1."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        require(["dask[distributed]"], "pip install -e '.[dev]'")
    d = tmp_path_factory.mktemp("dask")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    procs = []
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))

    def spawn(args, name):
        log = open(d / f"{name}.log", "w")
        p = subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT,
                             env=env, cwd=d, start_new_session=True)
        procs.append((p, log))
        return p

    try:
        spawn(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
               "--no-dashboard", "--no-show"], "scheduler")
        for i in range(2):
            spawn(["distributed.cli.dask_worker", addr, "--host", "127.0.0.1", "--nthreads", "1",
                   "--nworkers", "1", "--no-dashboard", "--name", f"w{i}",
                   "--local-directory", str(d / f"w{i}")], f"worker{i}")
        from distributed import Client

        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(addr, timeout=5) as c:
                    if len(c.scheduler_info()["workers"]) == 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs = "\n".join((d / f).read_text()[-1500:] for f in os.listdir(d) if f.endswith(".log"))
                pytest.fail(f"dask cluster did not start:\n{logs}")
            time.sleep(0.5)
        yield addr
    finally:
        for p, log in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p, log in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            log.close()


def _sweep(cache):
    from feagi_embed.boards import list_boards

    genomes = [GenomeSpec(n, str(genome_path(n))) for n in genome_names()]
    return Sweep(genomes, list_boards(), parse_stimuli(["3"]),
                 parse_executors(["twin,native", f"emulator:{EMULATED}"]), bursts=BURSTS,
                 state_every=STATE_EVERY, cache=cache)


def test_sweep_on_a_dask_cluster_equals_the_serial_sweep(cluster, tmp_path):
    from feagi_embed.boards import list_boards
    from feagi_embed.sweep import DaskRunner, write_outputs

    require_board("native")
    require_board(EMULATED)
    objects = tmp_path / "objects"
    runner = DaskRunner(cluster)
    try:
        from distributed import get_task_stream

        assert runner.workers == 2
        with get_task_stream(client=runner.client) as ts:
            dist = _sweep(ResultCache(tmp_path / "dist", objects_root=objects)).run(runner)
        # the cells really ran on both workers
        ran_on = {t["worker"] for t in ts.data if str(t["key"]).startswith("cell-")}
        assert len(ran_on) == 2, ran_on
        # the rerun reads every cell from the cache and computes nothing
        again = _sweep(ResultCache(tmp_path / "dist", objects_root=objects)).run(runner)
    finally:
        runner.close()
    # serially, with a result cache of its own (the compiled objects are reused)
    serial = _sweep(ResultCache(tmp_path / "serial", objects_root=objects)).run(SerialRunner())
    from feagi_embed.errors import FeagiEmbedError

    unloadable = set()
    for g in genome_names():
        try:
            _model(g)
        except FeagiEmbedError:
            unloadable.add(g)
    per_genome = 3 * (1 + len(list_boards()) + 1)  # twin, native on every board, the emulator
    n = len(genome_names()) * per_genome
    assert len(dist.cells) == len(serial.cells) == n
    ran = n - len(unloadable) * per_genome
    assert dist.computed == serial.computed == ran and again.computed == 0
    assert again.cached == ran
    for a, b, c in zip(dist.cells, serial.cells, again.cells):
        assert comparable(a) == comparable(b) == comparable(c)
    status = {}
    for c in serial.cells:
        status.setdefault(c["status"], []).append(c)
    # every cell that ran equals the twin; refusals and unloadable genomes are the only others
    assert set(status) <= {"equal", "refused", "error"}
    assert {c["genome"] for c in status.get("error", [])} == unloadable
    ran = [c for c in status["equal"] if c["executor"] == "emulator"]
    assert ran and all(c["metric_kind"] == "instructions" and c["per_burst"] > 0 for c in ran)
    assert any(c["board"] == "uno" for c in status["refused"])
    paths = write_outputs(dist, tmp_path / "out")
    doc = json.loads(paths["json"].read_text())
    assert len(doc["cells"]) == n
    assert paths["csv"].read_text().count("\n") == n + 1
    html = paths["html"].read_text()
    for png in ("fit.png", "memory.png", "equality.png", "cycles.png"):
        assert (tmp_path / "out" / png).stat().st_size > 1000
    assert html.count("data:image/png;base64,") == 4


def test_cli_sweep_serial_writes_table_json_csv_html_and_reuses_the_cache(tmp_path):
    """The thin command: a small serial sweep, then the same again (all cached), exit codes."""
    from click.testing import CliRunner

    from feagi_embed.cli import main

    require_board("native")
    args = ["sweep", "test_timer", "logic_and_gate", "-b", "native,uno", "-s", "2", "-e",
            "twin,native", "-n", "6", "--serial", "--out", str(tmp_path / "out"),
            "--cache", str(tmp_path / "cache")]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "12 cells (12 computed, 0 cached)" in first.output  # 2 genomes x 2 x (1 + 2 boards)
    doc = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert {c["status"] for c in doc["cells"]} == {"equal"}
    again = CliRunner().invoke(main, args + ["--json"])
    assert again.exit_code == 0
    doc2 = json.loads(again.output)
    assert doc2["computed"] == 0 and doc2["cached"] == 12
    assert [comparable(c) for c in doc2["cells"]] == [comparable(c) for c in doc["cells"]]
    # a third stimulus: only its 6 cells are computed
    more = CliRunner().invoke(main, [a if a != "2" else "3" for a in args] + ["--json"])
    doc3 = json.loads(more.output)
    assert (doc3["computed"], doc3["cached"]) == (6, 12)
    assert {c["stimulus"] for c in doc3["cells"] if not c["cached"]} == {"seed2"}
    # a stimulus file gets its own cells, keyed by its content
    stim = tmp_path / "s.json"
    stim.write_text(json.dumps({"stimuli": []}))
    files = CliRunner().invoke(main, ["sweep", "test_timer", "-b", "native", "-s", str(stim),
                                      "-e", "twin,native", "-n", "6", "--serial", "--json",
                                      "--out", str(tmp_path / "o2"), "--cache", str(tmp_path / "cache")])
    doc4 = json.loads(files.output)
    assert [(c["stimulus"], c["status"]) for c in doc4["cells"]] == [("s.json", "equal")] * 2
    bad = CliRunner().invoke(main, ["sweep", "test_timer", "-b", "nosuchboard", "--serial"])
    assert bad.exit_code == 2 and "nosuchboard" in bad.output

"""Mutation fuzzing of genomes and stimuli (issue 12), shared by ``tests/test_fuzz_inputs.py``
(hypothesis, seeded and bounded) and ``bench/bench_fuzz.py`` (the long run).

A case is a bundled genome (or a stimulus written for one) plus a list of mutation classes and a
seed; :func:`mutate_genome` / :func:`mutate_stimulus` turn it into bytes deterministically. Every
case runs in a forked child (:func:`run_isolated`) under ``RLIMIT_AS`` = inherited + 2 GB with a 10 s
wall limit, through the real stages: ``feagi-embed inspect`` (CLI: load, develop, the table renderer),
quantize, the numba twin, and ``build`` for the classic ESP32 (16-bit membrane potentials, heap
placement, the test-stimulus header) without compiling. The verdict (:func:`classify`) is one of

- ``ok``: every stage ran;
- ``error``: a :class:`~feagi_embed.errors.FeagiEmbedError` whose message is one line (and, for
  input errors, starts with the file it is about); the CLI says it in one line with exit code 2;
- a failure: ``traceback`` (any other exception), ``bad-message``, ``timeout``, ``killed``
  (a signal, e.g. the kernel's OOM killer) or ``memory`` (``MemoryError`` under the 2 GB cap).
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import resource
import select
import signal
import tempfile
import time
import traceback
from functools import cache
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
GENOMES = ROOT / "feagi_embed" / "genomes"

MEMORY_CAP = 2 * 1024**3
TIMEOUT_S = 10.0
FAILURES = ("traceback", "bad-message", "timeout", "killed", "memory")

#: lower resource limits for fuzzing (docs/limits.md): one case must stay far below 2 GB and 10 s
FUZZ_LIMITS = {"FEAGI_EMBED_LIMIT_MAX_NEURONS": "300000", "FEAGI_EMBED_LIMIT_MAX_SYNAPSES": "3000000",
               "FEAGI_EMBED_LIMIT_MAX_STIMULUS_EVENTS": "2000000"}

#: small genomes for CI (fast stages); the bench uses all bundled genomes
CI_GENOMES = ("test_timer", "logic_and_gate", "barebones_genome", "webots_pioneer2",
              "autopilot_static_1", "essential_genome")


def all_genomes() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in GENOMES.glob("*.json")))


@cache
def base_doc(name: str) -> dict:
    return json.loads((GENOMES / f"{name}.json").read_text())


# ------------------------------------------------------------------ JSON helpers

def _paths(doc: Any, limit: int = 20000) -> list[tuple]:
    out, stack = [], [((), doc)]
    while stack and len(out) < limit:
        path, node = stack.pop()
        out.append(path)
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
    return out


def _get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def _set(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


EXTREME_NUMBERS = [2**63, 2**63 - 1, -(2**63) - 1, 2**64, 2**31, 2**32, 65535, 65536, 10**9,
                   -1, 0, 1e308, -1e308, 3.5e38, 1e39, 1e-45, -0.0, 1e30, 123456.789, -2**31]
EXTREME_LITERALS = ["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "9" * 5000, "-" + "1" * 30,
                    "1" + "0" * 19, "0.000000000000000000000000000000000001", "1E+308"]
WRONG_VALUES = [None, True, False, "x", "", [], {}, [1, 2], {"a": 1}, 1.5, -1, 0, "1e9",
                [[0, 0, 0]], "\u00e9\u4e2d", ["*", "?", "!"]]
DIM_VALUES = [0, 1, 65535, 65536, 10**5, 10**6, 10**9, 2**32, 2**63 - 1, -1]
BAD_IDS = ["", "x", "a" * 30, "____", "iv00_C", "c__aaa", "Y0lITW90X18=", "!!!!!!", "___pwr",
           "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "i__inf", "o__mot", "C0Ymov", "_power", "-", "a-b-c"]
BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf", b"\xfe\xff", b"\x80",
             b"\\ud800", b"\\udfff\\ud800", b"\xf4\x90\x80\x80", b"\"", b"\\", b"{", b"]"]
_NUMBER = re.compile(rb"(?<![\w.\"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_KEY = re.compile(rb'"(?:[^"\\]|\\.)*"\s*:')


# ------------------------------------------------------------------ mutation classes
# JSON-level: (doc, rng) -> doc; byte-level: (raw, rng) -> raw

def m_wrong_type(doc, rng):
    path = rng.choice(_paths(doc))
    return _set(doc, path, copy.deepcopy(rng.choice(WRONG_VALUES)))


def m_delete_key(doc, rng):
    cands = [p for p in _paths(doc) if p]
    if not cands:
        return doc
    p = rng.choice(cands)
    parent = _get(doc, p[:-1])
    del parent[p[-1]]
    return doc


def m_extreme_number(doc, rng):
    nums = [p for p in _paths(doc) if isinstance(_get(doc, p), (int, float))
            and not isinstance(_get(doc, p), bool)]
    path = rng.choice(nums or _paths(doc))
    return _set(doc, path, rng.choice(EXTREME_NUMBERS))


def m_huge_dims(doc, rng):
    bp = doc.get("blueprint") if isinstance(doc, dict) else None
    if not isinstance(bp, dict):
        return m_extreme_number(doc, rng)
    keys = [k for k in bp if isinstance(k, str) and k.rsplit("-", 2)[-2:-1] and
            k.split("-")[-2] in ("___bbx", "___bby", "___bbz", "_n_cnt")]
    for k in rng.sample(keys, min(len(keys), rng.randint(1, 4))):
        bp[k] = rng.choice(DIM_VALUES)
    return doc


def m_bad_id(doc, rng):
    bp = doc.get("blueprint") if isinstance(doc, dict) else None
    if not isinstance(bp, dict) or not bp:
        return m_wrong_type(doc, rng)
    ids = sorted({k.split("-")[1] for k in bp if isinstance(k, str) and k.count("-") >= 4})
    if not ids:
        return doc
    old, new = rng.choice(ids), rng.choice(BAD_IDS)
    if rng.random() < 0.5:  # rename the area everywhere (blueprint keys and mapping targets)
        text = json.dumps(doc).replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
        return json.loads(text)
    for k in [k for k in bp if isinstance(k, str) and k.split("-")[1:2] == [old]]:
        bp[k.replace(f"-{old}-", f"-{new}-", 1)] = bp.pop(k)
        if rng.random() < 0.5:
            break
    return doc


def m_stimulus_fields(doc, rng):
    """Stimulus-specific: bursts ranges, voxels, kinds, values, areas."""
    ents = doc.get("stimuli") if isinstance(doc, dict) else None
    if not isinstance(ents, list) or not ents or not isinstance(ents[0], dict):
        return m_wrong_type(doc, rng)
    e = rng.choice(ents)
    if not isinstance(e, dict):
        return doc
    field = rng.choice(["bursts", "voxels", "kind", "value", "area", "extra", "dup"])
    if field == "bursts":
        e["bursts"] = rng.choice([[1, 10**9], [1, 10**7], [1, 10**6], [0, 1], [5, 2], [1],
                                  [1, 2, 3], [2**63 - 1, 2**63 - 1], [1, 1e9], [-1, 3], [1, 100000]])
    elif field == "voxels":
        e["voxels"] = rng.choice([[], [[0, 0]], [[-1, 0, 0]], [[2**40, 0, 0]], [[10**6, 0, 0]],
                                  [[0, 0, 0]] * 5000, [[1.5, 0, 0]], "all", [[0, 0, 0, 0]]])
    elif field == "kind":
        e["kind"] = rng.choice(["inject", "force", "Inject", "", None, 1])
    elif field == "value":
        e["value"] = rng.choice([128, 255, 255.5, 256, 0.3, 1e308, -1e308, 0, -255, 1e-300,
                                 True, "5", None, 2**63 - 1, 0.00390625])
        if rng.random() < 0.5:
            e["kind"] = "inject"
    elif field == "area":
        e["area"] = rng.choice(["nope", "", "___power", "_____10c-iv00_C", 5, None] + BAD_IDS)
    elif field == "extra":
        e[rng.choice(["valeu", "burst", "voxel", "Kind", ""])] = 1
    else:  # the same voxel twice in one burst (the 16-bit-V budget)
        ents.append(copy.deepcopy(e))
    return doc


def b_truncate(raw, rng):
    return raw[: rng.randrange(0, max(1, len(raw)))]


def b_bad_bytes(raw, rng):
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:  # inside a string: after a quote
            quotes = [m.start() for m in re.finditer(rb'"', raw[:200000])]
            pos = rng.choice(quotes) + 1 if quotes else 0
        else:
            pos = rng.randrange(0, len(raw) + 1)
        raw = raw[:pos] + rng.choice(BAD_BYTES) + raw[pos:]
    return raw


def b_extreme_literal(raw, rng):
    nums = list(_NUMBER.finditer(raw[:300000]))
    if not nums:
        return raw
    m = rng.choice(nums)
    return raw[:m.start()] + rng.choice(EXTREME_LITERALS).encode() + raw[m.end():]


def b_nesting(raw, rng):
    nums = list(_NUMBER.finditer(raw[:300000]))
    if not nums:
        return raw
    m = rng.choice(nums)
    n = rng.choice([10, 63, 64, 65, 1000, 100_000])
    o, c = (b"[", b"]") if rng.random() < 0.7 else (b'{"a":', b"}")
    return raw[:m.start()] + o * n + m.group(0) + c * n + raw[m.end():]


def b_duplicate_key(raw, rng):
    keys = list(_KEY.finditer(raw[:300000]))
    if not keys:
        return raw
    m = rng.choice(keys)
    val = rng.choice([b"0", b"null", b'"x"', b"[]", b"1e9"])
    return raw[:m.start()] + m.group(0) + b" " + val + b", " + raw[m.start():]


JSON_OPS: dict[str, Callable] = {
    "wrong-type": m_wrong_type, "deleted-key": m_delete_key, "extreme-number": m_extreme_number,
    "huge-dims": m_huge_dims, "bad-id": m_bad_id}
BYTE_OPS: dict[str, Callable] = {
    "truncation": b_truncate, "bad-bytes": b_bad_bytes, "extreme-literal": b_extreme_literal,
    "nesting": b_nesting, "duplicate-key": b_duplicate_key}
GENOME_OPS = tuple(JSON_OPS) + tuple(BYTE_OPS)
STIMULUS_OPS = ("stimulus-fields", "wrong-type", "deleted-key", "extreme-number") + tuple(BYTE_OPS)


def _apply(doc: Any, ops, seed: int, json_ops: dict) -> bytes:
    rng = random.Random(seed)
    doc = copy.deepcopy(doc)
    for op in ops:
        if op in json_ops:
            doc = json_ops[op](doc, rng)
    raw = json.dumps(doc).encode()
    for op in ops:
        if op in BYTE_OPS:
            raw = BYTE_OPS[op](raw, rng)
    return raw


def mutate_genome(name: str, ops, seed: int) -> bytes:
    """Bytes of bundled genome ``name`` after mutation classes ``ops`` (deterministic in seed)."""
    return _apply(base_doc(name), ops, seed, JSON_OPS)


def base_stimulus(model, seed: int) -> dict:
    """A valid stimulus for ``model``: force-fires and injections (multiples of 1/256, <= 255)."""
    rng = random.Random(seed)
    ids, dims = model.areas.genome_ids, model.areas.dims
    areas = [a for a in range(len(ids)) if model.area_first[a + 1] > model.area_first[a]]
    out = []
    for _ in range(rng.randint(1, 5)):
        a = rng.choice(areas)
        w, h, d = dims[a]
        vox = [[rng.randrange(w), rng.randrange(h), rng.randrange(d)]
               for _ in range(rng.randint(1, 4))]
        b0 = rng.randint(1, 10)
        e = {"bursts": [b0, b0 + rng.randint(0, 10)], "area": ids[a], "voxels": vox}
        if rng.random() < 0.6:
            e.update(kind="inject", value=rng.choice([1, 2.5, 37.5, 128, 200, 255, -3]))
        else:
            e["kind"] = "force"
        out.append(e)
    return {"stimuli": out}


STIMULUS_JSON_OPS = dict(JSON_OPS, **{"stimulus-fields": m_stimulus_fields})


def mutate_stimulus(model, ops, seed: int) -> bytes:
    """Bytes of a stimulus for ``model`` after mutation classes ``ops``."""
    return _apply(base_stimulus(model, seed), ops, seed, STIMULUS_JSON_OPS)


# ------------------------------------------------------------------ running one case

def _address_space() -> int:
    """Bytes of virtual address space this process maps now (``VmSize`` of /proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run_isolated(fn: Callable[[], Any], *, timeout: float = TIMEOUT_S,
                 memory: int = MEMORY_CAP) -> dict:
    """Run ``fn()`` in a forked child whose ``RLIMIT_AS`` lets it add ``memory`` bytes to the
    address space it inherits (the parent's mappings: JIT code, thread stacks and, after GPU tests
    in the same process, a Vulkan driver's reservations, can exceed 2 GB of virtual space by
    themselves), and under a wall-clock limit.

    Returns:
        ``{"outcome": ..., "detail": str, "seconds": float}``: ``fn``'s own ``(outcome, detail)``,
        or ``traceback`` (uncaught exception), ``memory`` (MemoryError), ``timeout``, ``killed``.
    """
    r, w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            limit = _address_space() + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            try:
                outcome, detail = fn()
            except MemoryError:
                outcome, detail = "memory", traceback.format_exc()[-3000:]
            except BaseException:  # noqa: BLE001 - that is the point
                outcome, detail = "traceback", traceback.format_exc()[-3000:]
            os.write(w, json.dumps({"outcome": outcome, "detail": detail[:6000]}).encode())
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    os.close(w)
    data, deadline, timed_out = b"", t0 + timeout, False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([r], [], [], left)
        if not ready:
            continue
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    secs = time.monotonic() - t0
    if timed_out:
        return {"outcome": "timeout", "detail": f"over {timeout:g} s", "seconds": secs}
    if os.WIFSIGNALED(status):
        return {"outcome": "killed", "detail": f"signal {os.WTERMSIG(status)}", "seconds": secs}
    try:
        res = json.loads(data)
    except ValueError:
        return {"outcome": "killed", "detail": f"no result (status {status})", "seconds": secs}
    res["seconds"] = secs
    return res


def classify(e: Exception, path: str) -> tuple[str, str]:
    """``("error", msg)`` for an acceptable FeagiEmbedError, else ``("bad-message", why)``."""
    from feagi_embed.boards import BoardError
    from feagi_embed.plan import CapacityError
    msg = str(e)
    if isinstance(e, CapacityError):  # the TFLM-style report: a verdict line, then per region
        msg = msg.split("\n", 1)[0]
    if not msg or "\n" in msg or "Traceback" in msg:
        return "bad-message", f"{type(e).__name__}: {msg!r}"
    # an input error must name the file; "does not fit the board" is about the board
    if not isinstance(e, (CapacityError, BoardError)) and path not in msg:
        return "bad-message", f"{type(e).__name__} does not name {path}: {msg}"
    return "error", f"{type(e).__name__}: {msg[:300]}"


def _cli_one_line(args: list[str], path: str) -> tuple[str, str] | None:
    """Run the CLI in-process; None when it succeeded, else the verdict of its failure."""
    from click.testing import CliRunner

    from feagi_embed.cli import main
    r = CliRunner().invoke(main, args, catch_exceptions=True)
    if r.exit_code == 0:
        return None
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        if isinstance(r.exception, MemoryError):
            raise r.exception
        return "traceback", "".join(traceback.format_exception(r.exception))[-3000:]
    lines = r.output.strip().splitlines()
    if r.exit_code != 2 or len(lines) != 1 or not lines[0].startswith("error: ") \
            or "Traceback" in r.output:
        return "bad-message", f"exit {r.exit_code}: {r.output[-500:]!r}"
    if path not in lines[0] and "does not fit" not in lines[0] and "requested" not in lines[0]:
        return "bad-message", f"CLI error does not name {path}: {lines[0]}"
    return "error", lines[0][7:307]


def genome_pipeline(raw: bytes, label: str = "fuzz") -> Callable[[], tuple[str, str]]:
    """The stages a mutated genome goes through (run it with :func:`run_isolated`)."""
    def run():
        os.environ.update(FUZZ_LIMITS)
        from feagi_embed.build import build_project
        from feagi_embed.connectome import develop
        from feagi_embed.errors import FeagiEmbedError
        from feagi_embed.genome import load_genome
        from feagi_embed.host.twin import Twin
        from feagi_embed.quantize import quantize
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, f"{label}.json")
            with open(path, "wb") as f:
                f.write(raw)
            verdict = _cli_one_line(["inspect", path], path)  # load, develop, table renderer
            if verdict is not None:
                return verdict
            try:
                model = quantize(develop(load_genome(path)))
                Twin(model).run(3)
                build_project(model, "esp32", os.path.join(d, "p"), bursts=3)
            except FeagiEmbedError as e:
                return classify(e, path)
            return "ok", ""
    return run


@cache
def stimulus_model(name: str):
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.quantize import quantize
    return quantize(develop(load_genome(GENOMES / f"{name}.json")))


def stimulus_pipeline(model, raw: bytes, label: str = "fuzz", build_bursts: bool = True
                      ) -> Callable[[], tuple[str, str]]:
    """The stages a mutated stimulus goes through: load, compile + twin (<= 30 bursts), build for
    the ESP32 (16-bit V checks, queue, header caps), and the CLI ``run`` on its file."""
    def run():
        os.environ.update(FUZZ_LIMITS)
        from feagi_embed.build import build_project
        from feagi_embed.errors import FeagiEmbedError
        from feagi_embed.host.twin import Twin
        from feagi_embed.stimulus import Stimulus
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, f"{label}.json")
            with open(path, "wb") as f:
                f.write(raw)
            try:
                st = Stimulus.load(path)
                n = max(1, min(st.last_burst(), 30))
                Twin(model).run(n, st)
                build_project(model, "esp32", os.path.join(d, "p"), stimulus=st,
                              bursts=n if build_bursts else None)
            except FeagiEmbedError as e:
                return classify(e, path)
            return "ok", ""
    return run


def stimulus_cli(genome: str, raw: bytes, label: str = "fuzz") -> Callable[[], tuple[str, str]]:
    """``feagi-embed run GENOME --stimulus FILE --bursts 5`` in-process (exit 0 or a 2 line)."""
    def run():
        os.environ.update(FUZZ_LIMITS)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, f"{label}.json")
            with open(path, "wb") as f:
                f.write(raw)
            v = _cli_one_line(["run", genome, "--stimulus", path, "--bursts", "5", "--json"], path)
            return v or ("ok", "")
    return run


def warm_up() -> None:
    """Import and JIT everything in the parent once, so forked children start warm."""
    raw = json.dumps(base_doc("test_timer")).encode()
    genome_pipeline(raw)()
    m = stimulus_model("essential_genome")
    stimulus_pipeline(m, json.dumps(base_stimulus(m, 0)).encode())()
    stimulus_cli(str(GENOMES / "test_timer.json"), b'{"stimuli": []}')()

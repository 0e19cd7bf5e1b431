"""Golden hashes of every generated file: bundled genomes × boards, C and MicroPython.

``python -m tests.emit_golden --record`` writes ``tests/fixtures/emit/hashes.json``; the test
(``tests/test_emit_golden.py``) re-emits a subset (all of it with ``FEAGI_EMBED_GOLDEN_ALL=1``)
and compares byte for byte through SHA-256. A refusal (model does not fit) is recorded as the hash
of its error message, so refusals stay worded the same too.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

HASHES = Path(__file__).parent / "fixtures" / "emit" / "hashes.json"


def stimulus_doc(model) -> dict:
    """A force-fire and an injection into the first non-empty area, to cover the test schedule."""
    ids = model.areas.genome_ids
    first = [int(x) for x in model.area_first]
    a = next(i for i in range(len(ids)) if first[i + 1] > first[i])
    return {"stimuli": [
        {"area": ids[a], "bursts": [1, 12], "kind": "force", "voxels": [[0, 0, 0]]},
        {"area": ids[a], "bursts": [3, 9], "kind": "inject", "value": 1.0, "voxels": [[0, 0, 0]]}]}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _sha(p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()}


def rejection_sha(genome: str, error: Exception) -> str:
    """SHA-256 of a rejection message with the genome's folder removed (checkouts differ)."""
    from feagi_embed.cli import resolve_genome_path

    path = resolve_genome_path(genome)
    return _sha(str(error).replace(path, f"{genome}.json").encode())


def model_for(genome: str):
    """The quantized model of a bundled genome, as ``feagi-embed build`` makes it."""
    from feagi_embed.cli import resolve_genome_path
    from feagi_embed.connectome import develop
    from feagi_embed.genome import load_genome
    from feagi_embed.quantize import quantize

    return quantize(develop(load_genome(resolve_genome_path(genome))))


def emit_case(model, board: str, lang: str, with_stimulus: bool) -> dict[str, str]:
    """``{relative path: sha256}`` of one build, or ``{"refused": sha256(message)}``."""
    from feagi_embed.build import build_micropython, build_project
    from feagi_embed.errors import FeagiEmbedError
    from feagi_embed.stimulus import Stimulus

    stim = Stimulus.from_json(stimulus_doc(model)) if with_stimulus else None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "p"
        try:
            if lang == "c":
                build_project(model, board, out, stimulus=stim, bursts=20 if stim else None)
            else:
                build_micropython(model, board, out, stimulus=stim, bursts=20 if stim else None)
        except FeagiEmbedError as e:
            return {"refused": _sha(str(e).encode())}
        return _tree(out)


def cases(all_cases: bool = True):
    """``(genome, board, lang, with_stimulus)`` tuples: every bundled genome × board × language
    without a stimulus, plus every genome × board in C with the test stimulus."""
    from feagi_embed.boards import list_boards
    from feagi_embed.cli import bundled_genomes

    for g in bundled_genomes():
        for b in list_boards():
            yield g, b, "c", False
            yield g, b, "micropython", False
            yield g, b, "c", True


def key(g, b, lang, stim) -> str:
    return f"{g}/{b}/{lang}" + ("/stimulus" if stim else "")


def record() -> dict[str, dict[str, str]]:
    """Emit every case; ``{case key: {path: sha256}}`` (rejected genomes keyed by name)."""
    from feagi_embed.errors import FeagiEmbedError

    out: dict[str, dict[str, str]] = {}
    models = {}
    for g, b, lang, stim in cases():
        if g not in models:
            models.clear()
            try:
                models[g] = model_for(g)
            except FeagiEmbedError as e:
                models[g] = None
                out[g] = {"rejected": rejection_sha(g, e)}
        if models[g] is None:
            continue
        out[key(g, b, lang, stim)] = emit_case(models[g], b, lang, stim)
        print(key(g, b, lang, stim), len(out[key(g, b, lang, stim)]), file=sys.stderr)
    return out


if __name__ == "__main__":
    if "--record" in sys.argv:
        HASHES.parent.mkdir(parents=True, exist_ok=True)
        HASHES.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    elif "--check" in sys.argv:
        want = json.loads(HASHES.read_text())
        got = record()
        bad = [k for k in want if want[k] != got.get(k)]
        files = sorted({f for k in bad for f in set(want[k]) | set(got.get(k, {}))
                        if want[k].get(f) != got.get(k, {}).get(f)})
        print(f"{len(want) - len(bad)} of {len(want)} cases identical; differ: {bad[:20]}; "
              f"files: {files}")
        sys.exit(1 if bad else 0)

"""Command-line interface: ``feagi-embed <command>``.

Exit codes: 0 success, 2 bad input (genome errors, refusals), 1 unexpected internal failure.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources

import click

from . import __version__
from .errors import FeagiEmbedError

#: Genome used when none is given: FEAGI's own essential genome (bundled).
DEFAULT_GENOME = "essential_genome"


def bundled_genomes() -> list[str]:
    """Names (file stems) of the real FEAGI genomes shipped with feagi-embed."""
    d = resources.files("feagi_embed") / "genomes"
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".json"))


def resolve_genome_path(arg: str | None) -> str:
    """A genome argument → file path: an existing file, or the name of a bundled genome.

    Raises:
        click.BadParameter: neither a file nor a bundled genome name.
    """
    arg = arg or DEFAULT_GENOME
    if os.path.exists(arg):
        return arg
    stem = arg[:-5] if arg.endswith(".json") else arg
    if stem in bundled_genomes():
        return str(resources.files("feagi_embed") / "genomes" / f"{stem}.json")
    raise click.BadParameter(f"{arg!r} is neither a file nor a bundled genome "
                             f"({', '.join(bundled_genomes())})", param_hint="GENOME")


class _Group(click.Group):
    """Turns :class:`FeagiEmbedError` into a one-line message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FeagiEmbedError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feagi-embed")
def main() -> None:
    """Compile FEAGI genomes into bit-exact microcontroller firmware."""


@main.command()
@click.argument("genome", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of a table.")
@click.option("--strict", is_flag=True, help="Treat warnings (input FEAGI drops/rewrites) as errors.")
def inspect(genome: str | None, as_json: bool, strict: bool) -> None:
    """Develop GENOME (file or bundled name; default: essential_genome) and summarise it.

    Per cortical area: id, name, type, dims, neurons per voxel, neurons, synapses out/in and the
    key neuron parameters; totals; warnings.
    """
    from rich.console import Console

    from .connectome import develop
    from .genome import load_genome
    from .inspect import inspect_report, render_inspect

    path = resolve_genome_path(genome)
    g = load_genome(path, strict=strict)
    c = develop(g, strict=strict)
    report = inspect_report(c)
    if as_json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        render_inspect(report, Console())


@main.command("genomes")
def list_genomes() -> None:
    """List the real FEAGI genomes bundled with feagi-embed."""
    for name in bundled_genomes():
        click.echo(name)


if __name__ == "__main__":  # pragma: no cover
    main()

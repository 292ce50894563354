"""What every experiment script does at its edge: save a figure as PNG and PDF, and the data
behind it as tidy CSV with a manifest beside it."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from simsearch.io.output import atomic_path, manifest, write_with_manifest  # noqa: E402
from simsearch.io.tables import csv_text  # noqa: E402

FIGURES = Path(__file__).resolve().parent.parent / "figures"


def save_figure(fig, stem: Path) -> None:
    """``stem``.png (150 dpi) and ``stem``.pdf, with no timestamps: reruns give the same bytes."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(stem.with_suffix(".png")) as tmp:
        fig.savefig(tmp, format="png", dpi=150, metadata={"Software": None})
    with atomic_path(stem.with_suffix(".pdf")) as tmp:
        fig.savefig(tmp, format="pdf", metadata={"CreationDate": None, "Producer": None})


def save_data(stem: Path, columns: dict, script: str, config: dict, seed) -> None:
    """``stem``.csv with ``stem``.csv.json (config, seed, versions)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    write_with_manifest(stem.with_suffix(".csv"), csv_text(columns),
                        manifest(script, config, seed))


def run_sweep_table(plan, table: str = "results.csv") -> tuple[str, dict]:
    """Run a sweep in a temporary directory; one of its tables (CSV text) and its manifest."""
    import json
    import tempfile

    from simsearch.sweep import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        run_sweep(plan, Path(tmp) / "sweep", progress=True)
        return ((Path(tmp) / "sweep" / table).read_text(),
                json.loads((Path(tmp) / "sweep" / "manifest.json").read_text()))


def save_sweep_table(plan, stem: Path, table: str) -> list[dict]:
    """Run a sweep and keep one of its tables as ``stem``.csv, with the sweep's manifest
    beside it; returns the table's rows."""
    import csv

    text, meta = run_sweep_table(plan, table)
    stem.parent.mkdir(parents=True, exist_ok=True)
    write_with_manifest(stem.with_suffix(".csv"), text, meta)
    with open(stem.with_suffix(".csv"), newline="") as fh:
        return list(csv.DictReader(fh))


class _ExperimentParser(argparse.ArgumentParser):
    """Quick runs default to ./figures-quick: they never replace the committed full-size
    figures unless --figures names that directory."""

    def parse_args(self, *args, **kwargs):
        parsed = super().parse_args(*args, **kwargs)
        if parsed.figures is None:
            parsed.figures = Path("figures-quick").resolve() if parsed.quick else FIGURES
        return parsed


def experiment_parser(doc: str, quick_help: str) -> argparse.ArgumentParser:
    """The options every experiment script takes: ``--quick`` and ``--figures DIR``."""
    parser = _ExperimentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--figures", type=Path, default=None,
                        help="output directory (default: figures/; with --quick, "
                             "./figures-quick)")
    return parser

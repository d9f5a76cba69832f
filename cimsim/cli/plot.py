"""``cimsim plot``: render saved results to PNG or PDF, without re-running anything.

What each input is, is read from its content (file names may be anything):

==============================================  ====================================================
input                                           figures
==============================================  ====================================================
``anneal.json`` / ``anneal.csv`` (or its dir)   TTS vs the swept parameter in steps and in seconds
                                                (bootstrap intervals), final-energy distributions
``phase.json`` or a phase-diagram ``--out`` dir  the phase-diagram set (energy/radius, distinct minima,
                                                lambda_min, amplitudes, Hessian spectra vs a), from
                                                the stored tasks
``landscape --points`` ``.npz``                 energy histogram, index vs energy, amplitude density
                                                with the RS law, Hessian spectrum with the Pastur law
``landscape --json``                            eps histogram, index/N and lambda_min vs eps
``solve --json`` / ``Result.to_json()``         spin raster, replica energies, summary; trajectories
                                                when the record carries them (``-p record=true``)
``sample --json``                               residual-energy histogram, Hamming histograms (to the
                                                nearest ground state, between successive samples),
                                                coverage curve of the target set
==============================================  ====================================================
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Callable

import click
import numpy as np

from ..errors import CimsimError
from .common import path_error

PLOT_EPILOG = """\b
Examples:
  cimsim plot study1                        (an anneal --out directory: TTS and energy figures)
  cimsim plot study1/anneal.csv --format pdf --out paper/
  cimsim plot pd                            (a phase-diagram --out directory, from its task store)
  cimsim plot pts.npz land.json --out figs  (landscape --points and --json files)
  cimsim solve maxcut G1.txt --json r.json && cimsim plot r.json
  cimsim sample maxcut graph16.txt --samples 5000 --json s.json && cimsim plot s.json
"""


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CimsimError(f"{path}: cannot read ({exc})") from None
    except ValueError as exc:
        raise CimsimError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise CimsimError(f"{path}: expected a JSON object")
    return data


def _floats_back(value):
    """Undo :func:`cimsim.result.to_jsonable`'s strings for non-finite floats ("nan", "inf", "-inf")."""
    if isinstance(value, dict):
        return {k: _floats_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats_back(v) for v in value]
    if value in ("nan", "inf", "-inf", "Infinity", "-Infinity", "NaN"):
        return float(value)
    return value


def _cell(text: str):
    """CSV cell back to a value: numbers (inf/nan too), true/false, JSON lists and objects, else the string."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _anneal_from_csv(path: Path) -> tuple[list[dict], list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise CimsimError(f"{path}: empty CSV file") from None
        rows = [{k: _cell(v) for k, v in zip(header, line)} for line in reader]
    if "setting" not in header or "runs" not in header or "tts_steps" not in header:
        raise CimsimError(f"{path}: not an anneal table (needs the columns setting, runs, tts_steps)")
    # columns: setting, the swept parameters in order, steps (appended last unless it was swept), runs, ...
    between = header[header.index("setting") + 1: header.index("runs")]
    if between and between[-1] == "steps" and len(between) > 1 and len({repr(r.get("steps")) for r in rows}) == 1:
        between = between[:-1]  # a fixed step count, not a swept one
    return rows, between


Job = Callable[[], list]


def _plot_anneal(rows: list[dict], swept: list[str], out: Path, stem: str, meta: dict) -> Job:
    from ..plotting.anneal import plot_energy_distribution, plot_tts

    level = float(meta.get("ci_level", 0.95))
    tts_target = float(meta.get("tts_target", 0.99))
    ok = [r for r in rows if r.get("status") in ("ok", "partial")]
    if not ok:
        raise CimsimError(f"{stem}: no finished setting to plot")
    missing = [c for c in ("tts_steps", "tts_steps_lo", "tts_steps_hi", "tts_s", "energy_q50") if c not in ok[0]]
    if missing or any(k not in ok[0] for k in swept):
        raise CimsimError(f"{stem}: anneal rows lack the columns {', '.join(missing or swept)}")

    def draw() -> list:
        return [
            plot_tts(rows, swept, out / f"{stem}_tts_steps.png", cost="steps", level=level, tts_target=tts_target),
            plot_tts(rows, swept, out / f"{stem}_tts_seconds.png", cost="s", level=level, tts_target=tts_target),
            plot_energy_distribution(rows, swept, out / f"{stem}_energies.png",
                                     target_energy=meta.get("target_energy")),
        ]

    return draw


def _plot_phase(directory: Path, out: Path) -> Job:
    from ..landscape.phase import estimate_transitions
    from ..plotting.landscape import plot_phase_diagram
    from ..sweep import load_store

    records = load_store(directory)
    raw = [{**rec["params"], **rec["row"], "task_key": key} for key, rec in sorted(records.items())
           if rec.get("status") == "ok" and isinstance(rec.get("row"), dict) and isinstance(rec.get("params"), dict)]
    raw = [r for r in raw if r.get("kind") in ("path", "minima")]
    if not any(r["kind"] == "path" for r in raw):
        raise CimsimError(f"{directory}: no finished phase-diagram path task in {directory / 'tasks'}")
    raw.sort(key=lambda r: (r["kind"], r["n"], r["instance"], r.get("a", 0.0)))
    summary = directory / "phase.json"
    transitions = _floats_back(_load_json(summary).get("transitions")) if summary.is_file() else None
    if not isinstance(transitions, dict):
        transitions = estimate_transitions(raw)
    return lambda: plot_phase_diagram(raw, transitions, str(out))


def _plot_points(path: Path, out: Path) -> Job:
    from ..landscape.critical import classify
    from ..plotting.landscape import plot_reporter

    import zipfile

    if not zipfile.is_zipfile(path):
        raise CimsimError(f"{path}: not a NumPy .npz archive")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = {"J", "a", "x", "instance"} - set(z.files)
            arrays = None if missing else (z["J"], float(z["a"]), z["x"], z["instance"])
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CimsimError(f"{path}: cannot read .npz ({str(exc).splitlines()[0]})") from None
    if arrays is None:
        raise CimsimError(f"{path}: not a landscape --points file (missing {', '.join(sorted(missing))})")
    J, a, X, inst = arrays
    if X.ndim != 2 or J.shape[-1] != X.shape[1] or inst.shape != (X.shape[0],):
        raise CimsimError(f"{path}: inconsistent shapes J {J.shape}, x {X.shape}, instance {inst.shape}")
    Js = [J] if J.ndim == 2 else list(J)

    def draw() -> list:
        pts = [classify(Js[i], a, X[inst == i]) for i in range(len(Js))]  # spectra recomputed from J, a, x
        return plot_reporter(pts, a, str(out), prefix=f"{path.stem}")

    return draw


def _plot_solve(record: dict, out: Path, stem: str) -> Job:
    from ..plotting.anneal import extract_trace, plot_trajectories
    from ..plotting.results import plot_solve_record

    trace = extract_trace(record.get("extra") or {})

    def draw() -> list:
        files = [plot_solve_record(record, out / f"{stem}.png")]
        if trace is not None:
            files.append(plot_trajectories([(record.get("solver", ""), trace)], out / f"{stem}_trajectories.png"))
        return files

    return draw


def prepare(path: Path, out: Path | None) -> Job:
    """Read and check one saved result (see the module docstring); return the job that draws its figures into
    ``out`` (default: next to the input). Every input is prepared before anything is drawn."""
    try:
        path.stat()
    except FileNotFoundError:
        raise CimsimError(f"{path}: no such file or directory") from None
    except OSError as exc:  # a name too long, no permission
        raise path_error(path, exc) from None
    if path.is_dir():
        target = out or path
        if (path / "anneal.json").is_file():
            return prepare(path / "anneal.json", target)
        if (path / "phase.json").is_file() or (path / "tasks").is_dir():
            return _plot_phase(path, target)
        raise CimsimError(f"{path}: no anneal.json, phase.json or task store in this directory")
    target = out or path.parent
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _plot_points(path, target)
    if suffix == ".csv":
        rows, swept = _anneal_from_csv(path)
        return _plot_anneal(rows, swept, target, path.stem, {})
    if suffix != ".json":
        raise CimsimError(f"{path}: expected a .json, .csv or .npz result or a result directory")
    data = _load_json(path)
    if data.get("command") == "phase-diagram":
        return _plot_phase(path.parent, target)
    if data.get("command") == "landscape":
        from ..plotting.results import plot_landscape_summary

        if not isinstance(data.get("points"), list):
            raise CimsimError(f"{path}: landscape JSON without its 'points' list")
        return lambda: [plot_landscape_summary(data, target / f"{path.stem}.png")]
    if isinstance(data.get("rows"), list) and "swept" in data and "tts_target" in data:
        data = _floats_back(data)
        return _plot_anneal(data["rows"], list(data["swept"]), target, path.stem, data)
    if data.get("command") == "sample":
        from ..plotting.sampling import plot_sample_record

        if not isinstance(data.get("target"), dict) or not isinstance(data.get("states"), list):
            raise CimsimError(f"{path}: sample record without its 'target' and 'states'")
        return lambda: [plot_sample_record(data, target / f"{path.stem}.png")]
    if "spins" in data and "energy" in data:
        return _plot_solve(data, target, path.stem)
    raise CimsimError(f"{path}: cannot tell which result this is (expected anneal, phase-diagram, landscape, solve or "
                      "sample JSON)")


@click.command(context_settings={"show_default": True}, epilog=PLOT_EPILOG)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(), metavar="RESULT...")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory for the figures [next to each input; a result directory itself].")
@click.option("--format", "-f", "fmt", type=click.Choice(["png", "pdf"]), default="png", help="Figure file format.")
@click.option("--quiet", "-q", is_flag=True, help="No list of written files and no progress on stderr.")
def plot(inputs, out_dir, fmt, quiet):
    """Render saved results to figures: anneal TTS curves and energy distributions, phase diagrams, landscape
    Hessian spectra and statistics, solve records and their trajectories.

    \b
    RESULT is any of
      anneal.json, anneal.csv or an 'anneal --out' directory
      phase.json or a 'phase-diagram --out' directory (figures rebuilt from its task store)
      a 'landscape --points' .npz (spectra recomputed from J, a and x) or a 'landscape --json' file
      a 'solve --json' record, or Result.to_json() from Python (trajectories when recorded)
      a 'sample --json' record (residual-energy and Hamming histograms, coverage curve)
    What a file holds is read from its content, not its name.

    Exit status: 0 on success, 2 when an input cannot be read or recognised (nothing is drawn then).
    """
    from ..plotting.results import figure_format
    from .progress import timed_progress

    paths = [Path(p) for p in inputs]
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        try:
            if out.exists() and not out.is_dir():
                raise CimsimError(f"{out}: exists and is not a directory")
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a name too long, no permission
            raise path_error(out, exc) from None
    jobs = [prepare(p, out) for p in paths]  # every input read and checked before anything is drawn
    written: list[str] = []
    with timed_progress("plot", None, quiet=quiet), figure_format(fmt, written):
        for job in jobs:
            job()
    if not quiet:
        for f in dict.fromkeys(written):
            click.echo(f)

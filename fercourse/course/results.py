"""The one generated file of real-FER2013 figures that the Results page and the lessons read.

Figures a quick build on the synthetic sample cannot produce (the shipped model's test score, the
lessons run on real FER2013 at their full budgets) are written here by the commands that measure
them, never typed by hand:

- ``fercourse evaluate MODEL --data ../shared/fer2013 --record KEY`` records one model's score;
- ``fercourse book build --data ../shared/fer2013 --record`` (or ``fercourse notebooks run`` on real
  data with ``--record``) records, per lesson, the values the lesson glued
  (:func:`fercourse.glue.glue`) and the budget it ran with.

The file is ``results/fer2013.json`` in the course checkout. :func:`render_markdown` turns it into
the tables of the book's Results page; :func:`result_value` lets a lesson quote one figure.

Examples
--------
>>> entry = {"title": "shipped model", "kind": "model", "measured": "2026-12-03",
...          "metrics": {"accuracy": 0.6458, "macro_f1": 0.6221}}
>>> validate_entry("model/shipped", entry)["metrics"]["accuracy"]
0.6458
>>> glued_value({"text/plain": "0.4321"})
0.4321
>>> glued_value({"application/papermill.record/text/plain": "'fear'"})
'fear'
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import os
import platform
from pathlib import Path

from fercourse.course.checkout import RESULTS_NAME, course_folders
from fercourse.errors import InputError

__all__ = ["HEADLINES", "RESULTS_NAME", "glued_value", "harvest_glue", "lesson_headlines", "load_results",
           "record_lesson", "record_result", "render_markdown", "result_value", "results_path",
           "validate_entry"]

ABOUT = ("Generated: real-FER2013 figures written by the commands that measured them "
         "(fercourse evaluate --record, fercourse book build --data). Do not edit by hand; "
         "the book's Results page and the lessons read it.")
KINDS = ("model", "lesson", "experiment")
#: Keys of the shipped model's scores (``fercourse evaluate pretrained --record model/shipped...``).
SHIPPED_PREFIX = "model/shipped"


def results_path(course: str | os.PathLike | None = None) -> Path:
    """``results/fer2013.json`` of the course checkout (``course``, or the current directory's).

    Outside a checkout (an installed package run from elsewhere) it is ``./results/fer2013.json``.
    """
    if course is None:
        try:
            return course_folders().results_file
        except FileNotFoundError:
            return Path.cwd() / RESULTS_NAME
    return course_folders(course).results_file


def load_results(path: str | os.PathLike | None = None) -> dict:
    """The results file as ``{"about": ..., "entries": {key: entry}}`` (empty entries if absent).

    Raises
    ------
    fercourse.errors.InputError
        The file exists but is not the JSON this module writes.
    """
    path = Path(path) if path is not None else results_path()
    if not path.is_file():
        return {"about": ABOUT, "entries": {}}
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON (line {error.lineno}: {error.msg}); it is generated, "
                         "so restore it with git or delete it and measure again") from None
    if not isinstance(results, dict) or not isinstance(results.get("entries"), dict):
        raise InputError(f"{path}: expected an object with an 'entries' object (a fercourse results file)")
    for key, entry in results["entries"].items():
        validate_entry(key, entry, source=path)
    return results


def validate_entry(key: str, entry: dict, *, source: str | os.PathLike | None = None) -> dict:
    """Check one entry's shape and return it; raises InputError naming the key and field."""
    where = f"{source}: entry {key!r}" if source else f"entry {key!r}"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object")
    for field in ("title", "kind", "measured"):
        if not isinstance(entry.get(field), str) or not entry[field]:
            raise InputError(f"{where}: field {field!r} must be a non-empty string")
    if entry["kind"] not in KINDS:
        raise InputError(f"{where}: kind {entry['kind']!r}; expected one of {', '.join(KINDS)}")
    values = entry.get("metrics" if entry["kind"] == "model" else "values")
    if not isinstance(values, dict):
        field = "metrics" if entry["kind"] == "model" else "values"
        raise InputError(f"{where}: field {field!r} must be an object of measured values")
    return entry


def record_result(key: str, entry: dict, path: str | os.PathLike | None = None) -> Path:
    """Add or replace one entry (with today's date and the library versions) and write the file.

    The write is atomic (a temporary file renamed over the old one), so an interrupted run never
    leaves half a file, and the read-change-write holds the file's lock
    (:func:`fercourse.files.locked`), so two processes recording at once (an experiment and a book
    build) both keep their entries.
    """
    from fercourse.files import atomic_write_text, locked
    from fercourse.provenance import library_versions

    path = Path(path) if path is not None else results_path()
    entry = {"measured": _dt.date.today().isoformat(), **entry}
    entry.setdefault("versions", library_versions())
    entry.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} CPUs")
    validate_entry(key, entry)
    with locked(path):
        results = load_results(path)
        results["about"] = ABOUT
        results["entries"][key] = entry
        results["entries"] = dict(sorted(results["entries"].items()))
        return atomic_write_text(path, json.dumps(results, indent=2) + "\n")


def glued_value(data: dict) -> object:
    """The value behind one glue output: a Python literal when ``text/plain`` is one, else the text."""
    # glue(..., display=False) stores it as application/papermill.record/text/plain (fercourse.glue)
    text = next((value for mime, value in data.items() if mime.endswith("text/plain")), "")
    if isinstance(text, list):
        text = "".join(text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def harvest_glue(executed: str | os.PathLike) -> dict[str, object]:
    """The values an executed lesson glued (:func:`fercourse.glue.glue`), by name, in cell order."""
    import nbformat

    values: dict[str, object] = {}
    for cell in nbformat.read(executed, as_version=4).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and "data" in output:
                values[name] = glued_value(output["data"])
    return values


def record_lesson(executed: str | os.PathLike, *, parameters: dict[str, object], seconds: float,
                  data: str, path: str | os.PathLike | None = None) -> Path | None:
    """Record what one lesson measured on real data: its glued values, budget and run time.

    Returns the results file, or None when the lesson glued nothing (nothing to record).
    """
    import nbformat

    executed = Path(executed)
    values = harvest_glue(executed)
    if not values:
        return None
    notebook = nbformat.read(executed, as_version=4)
    title = next((line.lstrip("# ").strip() for cell in notebook.cells if cell.cell_type == "markdown"
                  for line in cell.source.splitlines() if line.startswith("# ")), executed.stem)
    budget = {name: value for name, value in parameters.items()
              if name not in ("data", "model_path", "submission_path")}
    return record_result(f"lesson/{executed.stem}", {
        "title": title, "kind": "lesson", "data": Path(str(data)).name, "budget": budget,
        "seconds": round(seconds, 1), "values": values,
        "command": f"fercourse book build --data {Path(str(data)).name}"}, path)


def result_value(key: str, name: str, path: str | os.PathLike | None = None, default: object = None):
    """One recorded figure (``result_value("model/shipped", "accuracy")``), or ``default``.

    A lesson uses it to quote a real-FER2013 figure measured elsewhere without typing it.
    """
    entry = load_results(path)["entries"].get(key)
    if entry is None:
        return default
    return entry.get("metrics" if entry["kind"] == "model" else "values", {}).get(name, default)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, dict):
        return ", ".join(f"`{k} = {v!r}`" for k, v in value.items()) or "defaults"
    return str(value).replace("|", "\\|")


def render_markdown(results: dict, kind: str = "model") -> str:
    """The Results page's generated table(s) for ``kind``: ``"model"`` or ``"lesson"`` entries."""
    entries = {key: entry for key, entry in results.get("entries", {}).items() if entry["kind"] == kind}
    if kind == "model":
        # the section holding this table is about the shipped model; every other recorded model is a
        # row of the all-model table (fercourse.course.model_table)
        shipped = {key: entry for key, entry in entries.items() if key.startswith(SHIPPED_PREFIX)}
        return _model_table(shipped or entries)
    if kind == "lesson":
        return _lesson_tables(entries)
    raise ValueError(f"kind {kind!r}: expected one of {', '.join(KINDS)}")


def _model_table(models: dict) -> str:
    if not models:
        return ("No model has been scored on real FER2013 in this checkout yet "
                "(`fercourse evaluate MODEL --data ../shared/fer2013 --record KEY`).\n")
    parts = ["| model | split | images | TTA | accuracy | macro-F1 | disgust recall | measured |",
             "|---|---|---|---|---|---|---|---|"]
    for entry in models.values():
        metrics = entry["metrics"]
        recall = metrics.get("per_class_recall", {}).get("disgust", "")
        left_out = f" (without {metrics['left_out']} also in train)" if metrics.get("left_out") else ""
        parts.append(f"| {entry['title']} | {entry.get('split', 'test')}{left_out} | {metrics.get('n', '')} "
                     f"| {metrics.get('tta') or 'no'} | {_cell(metrics.get('accuracy', ''))} "
                     f"| {_cell(metrics.get('macro_f1', ''))} | {_cell(recall)} | {entry['measured']} |")
    commands = [entry["command"] for entry in models.values() if entry.get("command")]
    if commands:
        parts += ["", "Measured with:", "", "```bash", *dict.fromkeys(commands), "```"]
    return "\n".join(parts) + "\n"


#: What the Results page's overview quotes of each lesson, as ``str.format`` templates over the values
#: the lesson glued. A template whose values the entry lacks is left out; every value stays in the
#: lesson's full list below the overview.
HEADLINES: dict[str, tuple[str, ...]] = {
    "01_eda": ("majority class {dummy_class}: validation accuracy {dummy_accuracy:.3f}, "
               "macro-F1 {dummy_macro_f1:.3f}",
               "disgust {disgust_share:.1%} of train ({disgust_count} faces)",
               "{components_90} principal components keep 90 % of the pixel variance"),
    "02_baselines": ("best baseline on validation: {leader}, accuracy {leader_accuracy:.3f}, "
                     "macro-F1 {leader_macro_f1:.3f}",
                     "class weights: disgust recall {class_weights_disgust_change:+.2f}, "
                     "accuracy {class_weights_accuracy_change:+.3f}"),
    "03_mlp": ("early stopping kept epoch {best_epoch} of {epochs_run}",
               "regularisation ablation: {ablation_best} leads {ablation_runner_up} by "
               "{ablation_lead:.3f} macro-F1, {ablation_verdict} than the spread {ablation_spread:.3f}",
               "test: disgust recall {disgust_recall:.2f}; most frequent confusion {confused_true} "
               "read as {confused_predicted}"),
    "04_recurrent": ("validation accuracy: LSTM {lstm_val_accuracy:.3f}, GRU with attention "
                     "{gru_attention_val_accuracy:.3f}",
                     "attention peaks at row {attention_peak_row} ({attention_peak_ratio:.1f} x uniform)"),
    "05_cnn": ("{cnn_variant_name} CNN on test: accuracy {test_accuracy:.3f}, macro-F1 {test_macro_f1:.3f}",
               "tuner, best of {tuner_trials} trials ({tuner_epochs} epoch(s) each): validation accuracy "
               "{tuned_accuracy:.3f}"),
    "06_augmentation": ("augmentation {augmentation_effect} validation accuracy by "
                        "{augmentation_difference:.1f} points after {num_epochs_run} epochs",
                        "best schedule {best_schedule}: validation accuracy {best_schedule_accuracy:.3f}",
                        "class weights: disgust recall {disgust_recall_plain:.2f} -> "
                        "{disgust_recall_weighted:.2f}, accuracy {accuracy_plain:.3f} -> "
                        "{accuracy_weighted:.3f}"),
    "07_demo": ("shipped CNN: temperature {shipped_temperature:.3f}, test ECE "
                "{shipped_test_ece_before:.3f} -> {shipped_test_ece_after:.3f}",
                "small CNN without label smoothing ({calibration_epochs} epochs): temperature "
                "{cnn_temperature:.3f}, test ECE {cnn_test_ece_before:.3f} -> {cnn_test_ece_after:.3f}",
                "'uncertain' below {threshold:.3f}: keeps {threshold_test_coverage:.1%} of the test faces, "
                "right on {threshold_test_accuracy:.1%} of them"),
    "08_trust": ("honest test accuracy: forest {honest_forest:.3f}, small CNN {honest_cnn:.3f}, shipped CNN "
                 "{honest_shipped:.3f}",
                 "best of {num_trials} trials by test score: {worth_test_choice:+.2f} points over the "
                 "validation choice",
                 "the {duplicates_count} test faces also in Training: {worth_duplicates:+.2f} points to the "
                 "shipped CNN",
                 "oversampling before the split: validation {leak_val:.3f} against {leak_honest_val:.3f}",
                 "a two-pixel shift changes accuracy by {shift2_forest:+.3f} (forest), {shift2_cnn:+.3f} "
                 "(small CNN), {shift2_shipped:+.3f} (shipped CNN) on {robustness_n} faces"),
    # Only the model's figure: the lesson's labeller and class are simulated on the book's run.
    "09_labeller": ("the shipped CNN matches FER2013's label on {model_accuracy:.0%} of the {n_faces} "
                    "course faces",),
}


def lesson_headlines(stem: str, values: dict) -> list[str]:
    """The overview lines for lesson ``stem`` that its recorded ``values`` can fill.

    >>> lesson_headlines("04_recurrent", {"lstm_val_accuracy": 0.385, "gru_attention_val_accuracy": 0.398})
    ['validation accuracy: LSTM 0.385, GRU with attention 0.398']
    """
    lines = []
    for template in HEADLINES.get(stem, ()):
        try:
            lines.append(template.format(**values))
        except (KeyError, ValueError, TypeError):  # not recorded (an older lesson) or not a number
            continue
    return lines


def _lesson_tables(lessons: dict) -> str:
    if not lessons:
        return ("The lessons have not been run on real FER2013 in this checkout yet "
                "(`make book-fer2013` runs them and records what they measure).\n")
    total = sum(entry.get("seconds", 0) for entry in lessons.values()) / 60
    parts = ["| lesson | budget | run time | what it measured |", "|---|---|---|---|"]
    for key, entry in lessons.items():
        headlines = lesson_headlines(key.split("/", 1)[-1], entry["values"])
        parts.append(f"| {entry['title']} | {_cell(entry.get('budget', {}))} "
                     f"| {entry.get('seconds', 0) / 60:.1f} min | {_cell('; '.join(headlines))} |")
    parts += ["", f"The lessons ran for {total:.0f} min in all on `{_common(lessons, 'data')}` (machine: "
              f"{_common(lessons, 'machine')}; measured {_common(lessons, 'measured')}).", ""]
    for entry in lessons.values():
        parts += [f":::{{admonition}} Every value {entry['title'].split(':')[0]} recorded",
                  ":class: dropdown", "",
                  "The names are those the lesson's page quotes (`fercourse.glue.glue`).", "",
                  "| value | measured |", "|---|---|"]
        parts += [f"| `{name}` | {_cell(value)} |" for name, value in entry["values"].items()
                  if not isinstance(value, (list, dict))]
        parts += [":::", ""]
    return "\n".join(parts)


def _common(entries: dict, field: str) -> str:
    """``field`` of the entries when they share it, else every distinct value, comma-separated."""
    return ", ".join(dict.fromkeys(str(entry.get(field, "?")) for entry in entries.values()))

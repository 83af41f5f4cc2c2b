"""The instructor guide's tier tables, generated from ``thresholds.json``: ``fercourse grade tiers``.

The tiers and what was measured to set them live in one file, the course's ``thresholds.json``
(written by ``fercourse grade calibrate``). The guide shows them as tables between two marker
lines (:data:`BEGIN`, :data:`END`); :func:`update_guide` rewrites what lies between from the file, and
a test compares the committed guide with :func:`guide_block`, so a recalibration that is not
carried into the guide fails CI instead of leaving the guide's figures stale.

A calibration record comes in one of three shapes, and each row says which rule made its tiers:

- ``grade calibrate``'s (``reference_accuracies``: one test accuracy per seed, the simple baselines,
  the rules): tier 1 above the lessons' simple baselines, tier 3 = mean - 2 std of the seeds;
- the shape of 2026-12-07 (``seeds``: a dict of seed -> validation and test accuracy): the earlier
  single-run rule applied to the lowest seed;
- the earliest (one ``reference_accuracy``): the single-run rule, between the dummy and one run.
"""

from __future__ import annotations

from pathlib import Path

from fercourse.errors import InputError

BEGIN = ("<!-- tiers: generated from thresholds.json by `fercourse grade tiers --write`; "
         "change that file (grade calibrate), not these lines -->")
END = "<!-- end of the generated tiers -->"
#: The datasets of a thresholds file, in the order the guide shows them, with their headings.
DATASET_TITLES = {"fer2013": "FER2013", "sample": "The built-in sample"}
_HEADER = ("| assignment | tiers | rule | reference test accuracy (seeds) | validation (test - validation, "
           "points) | simple baselines | measured (train/test faces, reference run time) |\n"
           "|---|---|---|---|---|---|---|")


def _number(value) -> str:
    return f"{float(value):.4f}"


def _runs(record: dict) -> tuple[str, list, list]:
    """The rule's name, the reference's test accuracies and the validation accuracies of a record."""
    if isinstance(record.get("reference_accuracies"), list):
        validations = record.get("validation_accuracies") or [None] * len(record["reference_accuracies"])
        return "mean - 2 spreads of the seeds", record["reference_accuracies"], validations
    if isinstance(record.get("seeds"), dict):
        seeds = record["seeds"].values()
        return ("single-run rule on the lowest seed", [seed.get("test_accuracy") for seed in seeds],
                [seed.get("validation_accuracy") for seed in seeds])
    if record.get("reference_accuracy") is not None:
        return "single-run rule (one run)", [record["reference_accuracy"]], [None]
    return "not recorded", [], []


def tiers_row(assignment: str, tiers, record: dict | None) -> str:
    """One table row: the tiers, the rule that set them and what the calibration measured.

    Examples
    --------
    >>> record = {"reference_accuracies": [0.43, 0.418, 0.4285],
    ...           "validation_accuracies": [0.4192, 0.4181, None],
    ...           "reference_accuracy": 0.4255, "reference_std": 0.0066, "seeds": [0, 1, 2],
    ...           "baselines": {"dummy": 0.2494, "naive_bayes": 0.2203}, "date": "2026-12-07T15:00Z",
    ...           "reference_seconds": 780.0, "n_train": 28709, "n_test": 3589}
    >>> print(tiers_row("a1_baselines", [0.26, 0.336, 0.412], record))  # doctest: +NORMALIZE_WHITESPACE
    | a1_baselines | 0.26, 0.336, 0.412 | mean - 2 spreads of the seeds |
    0.4300, 0.4180, 0.4285 (seeds 0, 1, 2;
    mean 0.4255, std 0.0066) | 0.4192 (+1.1), 0.4181 (+0.0), - | dummy 0.2494, naive_bayes 0.2203 |
    2026-12-07, 28,709/3,589 faces, 13 min |
    """
    shown_tiers = "not set" if tiers is None else ", ".join(str(tier) for tier in tiers)
    if not record:
        return f"| {assignment} | {shown_tiers} | not recorded | | | | |"
    rule, tests, validations = _runs(record)
    seeds = record["seeds"] if isinstance(record.get("seeds"), list) else list(record.get("seeds") or [])
    reference = ", ".join("-" if value is None else _number(value) for value in tests)
    if len(tests) > 1:
        spread = f"; mean {_number(record['reference_accuracy'])}, std {_number(record['reference_std'])}" \
            if record.get("reference_std") is not None else ""
        if record.get("reference_spread") is not None:
            spread += f", spread {_number(record['reference_spread'])}"
        reference += f" (seeds {', '.join(map(str, seeds))}{spread})"
    validation = ", ".join("-" if valid is None or test is None else
                           f"{_number(valid)} ({round(100 * (float(test) - float(valid)), 1) + 0.0:+.1f})"
                           for test, valid in zip(tests, validations))
    baselines = record.get("baselines") or {"dummy": record.get("dummy_accuracy")}
    shown_baselines = ", ".join(f"{name} {_number(value)}" for name, value in baselines.items()
                                if value is not None)
    seconds = record.get("reference_seconds")
    measured = str(record.get("date", "?"))[:10]
    if record.get("n_train") and record.get("n_test"):
        measured += f", {int(record['n_train']):,}/{int(record['n_test']):,} faces"
    if seconds is not None:
        seconds = float(seconds)
        measured += f", {seconds:.0f} s" if seconds < 120 else f", {seconds / 60:.0f} min"
    return (f"| {assignment} | {shown_tiers} | {rule} | {reference} | {validation} | {shown_baselines} "
            f"| {measured} |")


def guide_block(table: dict) -> str:
    """The generated part of the guide: one table per dataset, an assignment a row, between the markers."""
    parts = [BEGIN]
    for dataset, title in DATASET_TITLES.items():
        rows = []
        for assignment, entry in table.items():
            if assignment.startswith("_") or not isinstance(entry, dict):
                continue
            record = (entry.get("calibration") or {}).get(dataset)
            rows.append(tiers_row(assignment, entry.get(dataset), record))
        parts += ["", f"**{title}**", "", _HEADER, *rows]
    parts += ["", END]
    return "\n".join(parts)


def _block_span(text: str, guide: Path) -> tuple[int, int]:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise InputError(f"{guide}: no generated tiers block: expected a line {BEGIN!r} and, after it, "
                         f"a line {END!r} where the tables go")
    return start, end + len(END)


def update_guide(guide: str | Path, table: dict) -> bool:
    """Rewrite the tiers block of ``guide`` from ``table``; returns whether anything changed.

    Raises
    ------
    InputError
        The guide has no block (the marker lines are missing or out of order).
    """
    from fercourse.files import atomic_write_text

    guide = Path(guide)
    text = guide.read_text(encoding="utf-8")
    start, end = _block_span(text, guide)
    updated = text[:start] + guide_block(table) + text[end:]
    if updated != text:
        atomic_write_text(guide, updated)
    return updated != text


def guide_tables(guide: str | Path) -> str:
    """The tiers block as it stands in ``guide`` (to compare with :func:`guide_block`)."""
    guide = Path(guide)
    text = guide.read_text(encoding="utf-8")
    start, end = _block_span(text, guide)
    return text[start:end]

"""``fercourse export``: turn a training run into a model people can load anywhere, with its record."""

from __future__ import annotations

import argparse
import json

from fercourse.cli import add_command
from fercourse.cli.options import SOURCE_HELP, add_sample_size_options, load_data

#: Fields of a training record (fercourse.training.record.TrainRecord) the exported record keeps;
#: the others are paths on the training machine.
KEPT_FIELDS = ("recipe", "quick", "data", "seed", "split_sizes", "validation", "budget", "epochs_run",
               "best_epoch", "best_val_accuracy", "final_val_accuracy", "stopped_by", "train_seconds", "tta",
               "precision", "width", "batch_size", "versions", "machine", "history", "finished_at")


def register(subparsers) -> None:
    parser = add_command(subparsers, "export",
        description="Save MODEL (a .keras file from 'fercourse train') for inference only: float32 "
                    "weights, no optimizer state (a third of the checkpoint's size). Beside OUT goes "
                    "OUT's stem + .json: the training record without machine paths and, with --data, "
                    "the test scores of the exported file (with the recipe's TTA, without TTA, and "
                    "without the test images that also appear in train). This is how the model that "
                    "ships with fercourse was made (see MODEL_CARD.md).",
        epilog="Example: fercourse export artifacts/reference.keras --out "
               "fercourse/models/weights/fer2013_reference.keras --data ../shared/fer2013")
    parser.add_argument("model", metavar="MODEL", help="a .keras file from 'fercourse train'")
    parser.add_argument("--out", required=True, metavar="OUT.keras", help="where to write the exported model")
    parser.add_argument("--data", default=None, metavar="SOURCE",
                        help=SOURCE_HELP + "; score the exported model on its test split (once, at the end)")
    add_sample_size_options(parser)
    parser.set_defaults(handler=run, tensorflow=True)


def training_record(model) -> dict:
    """The training record beside ``model`` (its stem + ``.json``), or {} when there is none."""
    from pathlib import Path

    source = Path(model).with_suffix(".json")
    return json.loads(source.read_text(encoding="utf-8")) if source.is_file() else {}


def exported_record(model, scores: dict | None, trained: dict | None = None) -> dict:
    """The record beside an exported model: the training record's portable fields and the scores."""
    from pathlib import Path

    trained = training_record(model) if trained is None else trained
    record = {key: trained[key] for key in KEPT_FIELDS if key in trained}
    record["exported_from"] = Path(model).name
    record.update(scores or {})
    return record


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fercourse.files import atomic_write_text
    from fercourse.models.pretrained import MAX_BYTES, export_for_inference
    from fercourse.models.scoring import evaluate_saved
    from fercourse.training.record import tta_from_record

    source = Path(args.model)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such model file (expected a .keras file from fercourse train)")
    out = export_for_inference(source, args.out)
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1e6:.1f} MB{', over the 10 MiB package limit' if size > MAX_BYTES else ''})")
    trained = training_record(source)
    scores = None
    if args.data:
        dataset = load_data(args)
        tta = tta_from_record(trained.get("tta"), source.with_suffix(".json"))
        runs = {"test": dict(tta=tta), "test_no_tta": dict(tta=None),
                "test_without_train_duplicates": dict(tta=tta, without_train_duplicates=True)}
        scores = {}
        for name, options in runs.items():
            result = evaluate_saved(out, dataset, split="test", **options)
            scores[name] = {key: result[key] for key in ("n", "left_out", "tta", "accuracy", "macro_f1",
                                                         "per_class_recall", "confusion")}
            print(f"{name}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f} "
                  f"({result['n']} images, TTA {result['tta'] or 'no'})")
    record_path = out.with_suffix(".json")
    atomic_write_text(record_path, json.dumps(exported_record(source, scores, trained), indent=2) + "\n")
    print(f"wrote {record_path}")
    _note_stale_calibration(out)
    return 0


def _note_stale_calibration(out) -> None:
    """Say so when a calibration file beside ``out`` was measured for the model just replaced."""
    import sys

    from fercourse.models.calibrated import StaleCalibrationError, calibration_path, read_calibration_record

    try:
        read_calibration_record(out)
    except StaleCalibrationError:
        print(f"note: {calibration_path(out).name} was measured for the previous model, and the demo now "
              f"ignores it; recompute it: fercourse calibrate {out} --data ../shared/fer2013 --write",
              file=sys.stderr)
    except ValueError:  # a broken file: the demo names it when it loads
        pass

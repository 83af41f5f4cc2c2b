"""``fercourse evaluate``: score a saved Keras model on one split (accuracy, macro-F1, recall, confusion)."""

from __future__ import annotations

import argparse
import json

from fercourse.cli import add_command
from fercourse.cli.options import add_data_option, add_sample_size_options, load_data
from fercourse.errors import InputError


def register(subparsers) -> None:
    parser = add_command(subparsers, "evaluate",
        description="Load MODEL (a .keras file, e.g. from 'fercourse train') and score it on one split of "
                    "SOURCE. Score the test split once, at the end: choose models and epochs on 'val' "
                    "(the 10% of train that 'fercourse train' held out).",
        epilog="Example: fercourse evaluate artifacts/reference.keras --data ../shared/fer2013 --tta shift "
               "--json")
    parser.add_argument("model", metavar="MODEL",
                        help="a saved Keras model (.keras), or 'pretrained' for the FER2013 model that ships "
                             "with fercourse")
    add_data_option(parser)
    parser.add_argument("--split", default="test", choices=("test", "val", "train"),
                        help="test (default), val (the validation images 'fercourse train' held out) or "
                             "train (the rest of train)")
    parser.add_argument("--tta", nargs="?", const="flip", default=None, choices=("flip", "shift"),
                        help="test-time augmentation: 'flip' (the default when given alone) averages the "
                             "predictions for each face and its mirror image; 'shift' also those two moved "
                             "two pixels up, down, left and right (ten views)")
    parser.add_argument("--without-train-duplicates", action="store_true",
                        help="leave out the images of the split that also appear, pixel for pixel, in train "
                             "(FER2013's PublicTest shares about 280 with Training)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON: split, tta, n, left_out, accuracy, macro_f1, per_class_recall, "
                             "confusion")
    parser.add_argument("--record", default=None, metavar="KEY",
                        help="also record the scores under KEY (e.g. model/shipped) in the course's "
                             "generated results file, results/fer2013.json, which the book's Results page "
                             "reads; real data only (the sample's scores are smoke tests)")
    parser.add_argument("--title", default=None,
                        help="with --record: the model's name on the Results page (default: KEY)")
    add_sample_size_options(parser)
    parser.set_defaults(handler=run, tensorflow=True)


def format_report(result: dict) -> str:
    """The evaluation as text: headline scores, per-class recall, the confusion matrix."""
    from fercourse.labels import EMOTIONS

    left_out = f", {result['left_out']} train duplicates left out" if result.get("left_out") else ""
    lines = [f"model {result['model']} on {result['data']}, split {result['split']} ({result['n']} images"
             f"{left_out}), TTA {result['tta'] or 'no'}",
             f"accuracy {result['accuracy']:.4f}   macro-F1 {result['macro_f1']:.4f}", "",
             f"{'emotion':<10}{'recall':>8}{'support':>9}"]
    support = result["per_class"]["support"]
    for emotion in EMOTIONS:
        lines.append(f"{emotion:<10}{result['per_class_recall'][emotion]:>8.3f}{int(support[emotion]):>9d}")
    lines += ["", "confusion matrix (rows true, columns predicted)",
              f"{'':<10}" + "".join(f"{emotion[:7]:>8}" for emotion in EMOTIONS)]
    for emotion, row in zip(EMOTIONS, result["confusion"]):
        lines.append(f"{emotion:<10}" + "".join(f"{count:>8d}" for count in row))
    return "\n".join(lines)


def record_scores(args: argparse.Namespace, result: dict):
    """Write ``result`` to the course's generated results file under ``args.record``.

    The recorded command names the model as the user gave it (``result["model"]``: 'pretrained'
    rather than a path inside site-packages) and the data by its folder name, not a machine path.
    """
    from pathlib import Path

    from fercourse.course.results import record_result

    data = Path(str(args.data)).name
    command = [f"fercourse evaluate {result['model']} --data {data} --split {args.split}"]
    if result["tta"]:
        command.append(f"--tta {result['tta']}")
    if args.without_train_duplicates:
        command.append("--without-train-duplicates")
    metrics = {name: result[name] for name in ("n", "left_out", "tta", "accuracy", "macro_f1",
                                                 "per_class_recall")}
    return record_result(args.record, {"title": args.title or args.record, "kind": "model", "data": data,
                                       "split": result["split"], "command": " ".join(command),
                                       "metrics": metrics})


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from fercourse.config import is_sample
    from fercourse.models.pretrained import resolve_model_path
    from fercourse.models.scoring import evaluate_saved
    from fercourse.training.record import tta_from_record

    named = args.model
    if args.record and is_sample(Path(str(args.data)).name):
        raise InputError("--record writes real-FER2013 figures to results/fer2013.json; the built-in "
                         "sample's scores are smoke tests; score a FER2013 copy (--data ../shared/fer2013)")
    args.model = str(resolve_model_path(named))
    if not Path(args.model).is_file():
        raise FileNotFoundError(f"{args.model}: no such model file (expected a .keras file from fercourse "
                                "train)")
    result = evaluate_saved(args.model, load_data(args), split=args.split, tta=args.tta,
                            without_train_duplicates=args.without_train_duplicates)
    result["model"] = named  # as given: 'pretrained' rather than a path inside site-packages
    if args.record:
        written = record_scores(args, result)
        print(f"recorded as {args.record!r} in {written}", file=sys.stderr)
    if args.json:
        print(json.dumps({key: value for key, value in result.items() if key != "per_class"}, indent=2))
        return 0
    print(format_report(result))
    record = Path(args.model).with_suffix(".json")
    if record.is_file():
        try:
            recipe_tta = tta_from_record(json.loads(record.read_text()).get("tta"), record)
        except ValueError:  # not JSON, or a TTA name this version does not know
            recipe_tta = None
        if recipe_tta and recipe_tta != result["tta"]:
            print(f"note: {record.name} says this recipe is scored with --tta {recipe_tta}", file=sys.stderr)
    return 0

"""``fercourse calibrate``: fit a saved model's temperature and "uncertain" threshold on validation.

The figures of the model card's calibration section come from
``fercourse calibrate pretrained --data ../shared/fer2013 --write``; rerun it whenever the shipped
model changes (the demo refuses a calibration measured for another model file).
"""

from __future__ import annotations

import argparse
import json

from fercourse.cli import add_command
from fercourse.cli.options import add_data_option, add_sample_size_options, load_data
from fercourse.errors import InputError

EPILOG = """\
examples:
  fercourse calibrate pretrained --data ../shared/fer2013 --write   (the shipped model: the model card)
  fercourse calibrate artifacts/fer2013-bn.keras --data ../shared/fer2013 --write --json

The temperature T is fitted on the validation tenth 'fercourse train' holds out (probabilities become
softmax(log p / T)); the threshold is the lowest calibrated confidence at which the validation faces
kept are right at least --target-accuracy of the time. Test (PublicTest) is only measured.
--write stores both beside the model (NAME.calibration.json), where 'fercourse detect', EmotionDetector
and the upload app read them.
"""


def register(subparsers) -> None:
    from fercourse.models.calibration import NUM_BINS, TARGET_ACCURACY

    parser = add_command(subparsers, "calibrate",
        description="Fit a temperature (temperature scaling) and an 'uncertain' threshold for MODEL on the "
                    "validation split of SOURCE, and report the expected calibration error before and after "
                    "on validation and test, and the accuracy on the faces the model is most sure of.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL", nargs="?", default="pretrained",
                        help="a saved Keras model (.keras), or 'pretrained' (default) for the FER2013 model "
                             "that ships with fercourse")
    add_data_option(parser)
    parser.add_argument("--target-accuracy", type=float, default=TARGET_ACCURACY, metavar="A",
                        help=f"accuracy the faces kept above the threshold must reach on validation "
                             f"(default {TARGET_ACCURACY})")
    parser.add_argument("--bins", type=int, default=NUM_BINS, metavar="B",
                        help=f"equal-width confidence bins of the expected calibration error "
                             f"(default {NUM_BINS})")
    parser.add_argument("--write", action="store_true",
                        help="store the temperature and threshold beside the model (NAME.calibration.json); "
                             "the shipped model's only from real FER2013")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_sample_size_options(parser)
    parser.set_defaults(handler=run, tensorflow=True)


def format_report(record: dict) -> str:
    """The figures as text: temperature, threshold, ECE before/after, accuracy at coverage."""
    threshold = record["threshold"]
    lines = [f"temperature {record['temperature']:.3f} "
             f"(fitted on validation, {record['validation']['n']} faces)",
             f"threshold {threshold['threshold']:.3f}: {record['rule']}"
             + ("" if threshold["reached"] else " (not reached: every face is uncertain)"), "",
             f"{'split':<12}{'n':>6}{'accuracy':>10}{'ECE before':>12}{'ECE after':>11}{'NLL before':>12}"
             f"{'NLL after':>11}{'kept':>7}{'acc. kept':>11}"]
    for name in ("validation", "test"):
        s = record[name]
        lines.append(f"{name:<12}{s['n']:>6}{s['accuracy']:>10.4f}{s['ece_before']:>12.4f}{s['ece_after']:>11.4f}"
                     f"{s['nll_before']:>12.4f}{s['nll_after']:>11.4f}{s['coverage']:>7.1%}"
                     f"{s['accuracy_kept']:>11.4f}")
    lines += ["", "accuracy on the most sure faces (calibrated confidence)",
              f"{'coverage':<10}{'validation':>12}{'test':>8}"]
    for val_point, test_point in zip(record["validation"]["coverage_accuracy"],
                                     record["test"]["coverage_accuracy"]):
        lines.append(f"{val_point['coverage']:<10.0%}{val_point['accuracy']:>12.4f}{test_point['accuracy']:>8.4f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from fercourse.config import is_sample
    from fercourse.models.calibrated import measure_calibration, write_calibration
    from fercourse.models.pretrained import PRETRAINED_NAME, load_inference_model, resolve_model_path

    if not 0 < args.target_accuracy <= 1:
        raise InputError(f"--target-accuracy is {args.target_accuracy}: expected a share in (0, 1]")
    if args.bins < 1:
        raise InputError(f"--bins is {args.bins}: expected a whole number >= 1")
    data_name = Path(str(args.data).rstrip("/")).name
    if args.write and args.model == PRETRAINED_NAME and is_sample(data_name):
        raise InputError("--write for the shipped model needs real FER2013 (--data ../shared/fer2013): the "
                         "built-in sample's faces are drawn, and its figures are smoke tests")
    path = resolve_model_path(args.model)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file (expected a .keras file from fercourse train)")
    record = measure_calibration(load_inference_model(path), load_data(args),
                                 target_accuracy=args.target_accuracy, num_bins=args.bins)
    if args.write:
        command = (f"fercourse calibrate {args.model} --data {data_name} "
                   f"--target-accuracy {args.target_accuracy} --bins {args.bins} --write")
        written = write_calibration(path, record, data=data_name, command=command)
        print(f"wrote {written}", file=sys.stderr)
    print(json.dumps(record, indent=2) if args.json else format_report(record))
    return 0

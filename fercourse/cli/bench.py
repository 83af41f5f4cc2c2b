"""``fercourse bench``: benchmarks that print ratios against a baseline measured in the same run."""

from __future__ import annotations

import argparse
import json

from fercourse.cli import add_command_group
from fercourse.cli.options import add_checkout_option, add_data_option, add_sample_size_options, load_data
from fercourse.errors import InputError


def register(subparsers) -> None:
    # Over 60 lines: one argparse declaration per benchmark option, read top to bottom.
    commands = add_command_group(subparsers, "bench",
                                 description="Benchmarks that print figures and ratios against a "
                                             "baseline measured in the same process.")
    load = commands.add_parser("load", help="Kaggle CSV loading: seed parse vs fercourse, cold and cached",
                               description="Load a Kaggle fer2013.csv three ways in one process: the seed "
                                           "courses' per-row int() parse, fercourse's first load, and "
                                           "fercourse's second (cached) load; print seconds and ratios.")
    load.add_argument("source", nargs="?", default=None,
                      help="a Kaggle fer2013.csv, or an image-folder root converted into a temporary one "
                           "(default: $FERCOURSE_FER2013)")
    load.add_argument("--json", action="store_true", help="print the figures as JSON")
    load.set_defaults(handler=run_load)
    detect = commands.add_parser(
        "detect", help="face detectors side by side: faces found, false boxes, latency",
        description="For each face detector of fercourse.demo: faces found in real photos (and FER2013 "
                    "test faces pasted into photos), false boxes on face-free photos, and the median "
                    "detect+classify latency (warm, CPU) of EmotionDetector on a 640x480 photo; one table "
                    "with ratios to Haar, and the detector that should be the default.")
    detect.add_argument("--model", default=None, metavar="PATH",
                        help="a saved Keras model (default: an untrained simple CNN, same cost)")
    detect.add_argument("--detectors", nargs="+", default=None, metavar="NAME",
                        help="detectors to compare, the first the baseline (default: haar mtcnn)")
    detect.add_argument("--fer2013", default=None, metavar="DIR",
                        help="FER2013's image folders: also score its test faces pasted into photos "
                             "(default: $FERCOURSE_FER2013; skipped when neither is given)")
    detect.add_argument("--faces-per-class", type=int, default=30, metavar="N",
                        help="FER2013 test faces per emotion (default 30)")
    detect.add_argument("--repeats", type=int, default=20, help="timed runs (default 20)")
    detect.add_argument("--batch", type=int, default=16, help="photos in the batch run (default 16)")
    detect.add_argument("--json", action="store_true", help="print the figures as JSON")
    detect.set_defaults(handler=run_detect, tensorflow=True)
    grade = commands.add_parser(
        "grade", help="seconds per a2_cnn submission: fit-or-load vs retraining (same run)",
        description="Build a temporary copy of the course on a small built-in sample, autograde a batch "
                    "of generated a2_cnn submissions with the real nbgrader twice (saved model submitted: "
                    "fit_or_load loads it; model missing: fit_or_load trains) and print seconds per "
                    "submission and their ratio.")
    grade.add_argument("--submissions", type=int, default=3, help="submissions per flow (default 3)")
    grade.add_argument("--epochs", type=int, default=3, help="epochs of the submitted model (default 3)")
    add_sample_size_options(grade, n_train=1400, n_test=280)
    grade.add_argument("--retrain-epochs", type=int, default=None,
                       help="epochs the retraining flow trains (default: the notebook's num_epochs, 15)")
    add_checkout_option(grade)
    grade.add_argument("--json", action="store_true", help="also print the figures as JSON")
    grade.set_defaults(handler=run_grade)
    parallel = commands.add_parser(
        "autograde", help="a1 class: serial nbgrader autograde vs fercourse grade autograde --workers N",
        description="Build a temporary course on a small built-in sample, generate a class of a1 "
                    "submissions, and grade two copies of it: one with plain serial `nbgrader autograde`, "
                    "one with `fercourse grade autograde` (--workers N local workers, or a Dask "
                    "--scheduler); print both wall times, their ratio, the per-task overhead (what a "
                    "student's grading costs outside nbgrader's autograde), each grading process's "
                    "start-up and whether every student's total is identical.")
    parallel.add_argument("--submissions", type=int, default=30, help="submissions in the class (default 30)")
    parallel.add_argument("--workers", type=int, default=2, help="local workers (default 2)")
    parallel.add_argument("--scheduler", default=None, metavar="ADDRESS",
                          help="grade the parallel copy on this Dask scheduler instead")
    add_sample_size_options(parallel, n_train=1400, n_test=280)
    add_checkout_option(parallel)
    parallel.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parallel.set_defaults(handler=run_autograde)
    lookup = commands.add_parser(
        "lookup", help="how many released test faces a pixel lookup in the public data finds",
        description="Look up every test face of SOURCE, as 'fercourse data prepare' releases it, by its "
                    "pixels among all of SOURCE's faces (what a student holding the public fer2013.csv "
                    "has: L2 nearest neighbour) and print how often the face itself is found and how often "
                    "its label is. FER2013's labels are public: grade on held faces (`fercourse grade "
                    "setup --test-set`) where that matters.",
        epilog="Example: fercourse bench lookup --data ../shared/fer2013")
    lookup.add_argument("--data", default="sample", metavar="SOURCE",
                        help="a labelled source, e.g. ../shared/fer2013 (Training as train, PublicTest as "
                             "test; default: the built-in sample)")
    lookup.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_sample_size_options(lookup)
    lookup.set_defaults(handler=run_lookup)
    _add_recipes(commands)


def run_load(args: argparse.Namespace) -> int:
    from fercourse.bench.load import bench_load

    result = bench_load(args.source)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


def run_detect(args: argparse.Namespace) -> int:
    from fercourse.bench.detect import bench_detect

    result = bench_detect(args.model, detectors=args.detectors, repeats=args.repeats, batch=args.batch,
                          fer2013=args.fer2013, faces_per_class=args.faces_per_class)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


def run_grade(args: argparse.Namespace) -> int:
    from fercourse.bench.grade import bench_autograde
    from fercourse.course.checkout import course_folders

    result = bench_autograde(submissions=args.submissions, epochs=args.epochs, n_train=args.n_train,
                             n_test=args.n_test, retrain_epochs=args.retrain_epochs,
                             template=course_folders(args.checkout).autograder)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


def run_autograde(args: argparse.Namespace) -> int:
    from fercourse.bench.autograde import bench_parallel_autograde
    from fercourse.course.checkout import course_folders

    result = bench_parallel_autograde(submissions=args.submissions, workers=args.workers,
                                      scheduler=args.scheduler, n_train=args.n_train, n_test=args.n_test,
                                      template=course_folders(args.checkout).autograder)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0 if result["same_totals"] and not result["parallel_failed"] else 1


def run_lookup(args: argparse.Namespace) -> int:
    from fercourse.bench.lookup import bench_lookup, format_lookup

    result = bench_lookup(load_data(args))
    print(json.dumps(result, indent=2) if args.json else format_lookup(result))
    return 0


def _add_recipes(commands) -> None:
    """``fercourse bench recipes``."""
    parser = commands.add_parser(
        "recipes", help="train seed_cnn and reference under the same budget; print both test accuracies",
        description="Train the seed courses' CNN recipe (seed_cnn) and ours (reference) one after the other, "
                    "under the same budget, on the same data and validation split, then score each once on "
                    "the test split and print both accuracies and the difference. Reports validation "
                    "accuracy, macro-F1, disgust recall, whether TTA was used and the machine's load.",
        epilog="Example (real FER2013, 20 minutes each): fercourse bench recipes --data ../shared/fer2013 "
               "--minutes 20 --out /tmp/recipe-bench")
    add_data_option(parser)
    parser.add_argument("--minutes", type=float, default=None, metavar="M", help="training minutes per "
                                                                                 "recipe")
    parser.add_argument("--epochs", type=int, default=None, metavar="N", help="epoch budget per recipe")
    parser.add_argument("--seed", type=int, default=0, help="random seed, the same for both (default: 0)")
    parser.add_argument("--quick", action="store_true", help="the recipes' quick settings (a smoke run)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for the two models and their training records (keep it out of git)")
    parser.add_argument("--resume", action="store_true",
                        help="continue each recipe from its checkpoint in DIR (an interrupted bench, or a "
                             "recipe trained there first with 'fercourse train'); one that used its budget "
                             "is only scored")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    add_sample_size_options(parser)
    parser.set_defaults(handler=run_recipes, tensorflow=True)


def run_recipes(args: argparse.Namespace) -> int:
    from fercourse.bench.recipes import bench_recipes, format_bench

    if args.minutes is None and args.epochs is None:
        raise InputError("give a budget: --minutes M, --epochs N or both (the same for both recipes)")
    result = bench_recipes(load_data(args), out=args.out, minutes=args.minutes, epochs=args.epochs,
                           seed=args.seed, quick=args.quick, resume=args.resume,
                           verbose=0 if args.quiet else 2)
    print(json.dumps(result, indent=2) if args.json else format_bench(result))
    return 0

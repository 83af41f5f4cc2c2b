"""``fercourse labels``: lesson 9's class mode, for an instructor who collected the students' labels.

``fercourse labels agreement`` reads the class's ``labels_<name>.csv`` files (a folder, or the files
themselves), checks each with the assignments' submission validator against the course's faces, and
prints the class's agreement: Fleiss' kappa, per emotion, the class majority against FER2013's labels,
and the faces where the class and the model part ways (:mod:`fercourse.demo.agreement`).
"""

from __future__ import annotations

import argparse
import json
import math

from fercourse.cli import add_command_group
from fercourse.cli.options import add_data_option, add_sample_size_options

#: The lesson's defaults (fercourse.demo.labelling.LABELLING_FACES and LABELLING_SEED), written here so
#: that ``--help`` imports no pandas; a test ties them together.
DEFAULT_FACES, DEFAULT_SEED = 100, 0


def register(subparsers) -> None:
    commands = add_command_group(subparsers, "labels",
                                 description="Lesson 9's class mode: the students' labels of the course's "
                                             "faces, together.")
    agreement = commands.add_parser(
        "agreement", help="a class's agreement from the students' labels CSVs (Fleiss' kappa, ...)",
        description="Read every student's labels CSV (id,emotion: what lesson 9's app writes, "
                    "labels_<name>.csv), check each with the assignments' submission validator against "
                    "the course's faces, and print the class's agreement: Fleiss' kappa over the "
                    "students, per emotion (the students', their majority's and the model's recall on the "
                    "faces FER2013 gives it, the share of student pairs who agree, the emotion's own "
                    "kappa), the class majority against FER2013's labels, the fear/sad and disgust/angry "
                    "confusions, and the faces where the class majority and the model differ. A file "
                    "that fails the check (a missing or repeated face, class names, another delimiter, "
                    "a link) is left out and its problem printed with the file and line; the command "
                    "fails (exit 1) only when no file is valid or a named file or folder is missing.",
        epilog="Use the lesson's own --data, --faces and --seed (its data, labelling_faces and "
               "labelling_seed), or the faces and their ids will not match the files. Example: "
               "fercourse labels agreement handed-in/ --data ../shared/fer2013 --json")
    agreement.add_argument("labels", nargs="+", metavar="CSV_OR_FOLDER",
                           help="a folder holding the students' labels_<name>.csv files, or the files")
    add_data_option(agreement, extra="; the faces' source, the lesson's data parameter")
    agreement.add_argument("--faces", type=int, default=DEFAULT_FACES, metavar="N",
                           help=f"faces each student labelled, the lesson's labelling_faces (default "
                                f"{DEFAULT_FACES})")
    agreement.add_argument("--seed", type=int, default=DEFAULT_SEED,
                           help=f"the course's labelling_seed, which picked the faces "
                                f"(default {DEFAULT_SEED})")
    agreement.add_argument("--model", default="pretrained", metavar="MODEL",
                           help="the model to compare with: 'pretrained' (the shipped CNN, the default) or "
                                "a saved Keras model (.keras)")
    agreement.add_argument("--show", type=int, default=10, metavar="N",
                           help="faces listed where the class majority and the model differ, most united "
                                "class first (default 10; the JSON lists them all)")
    agreement.add_argument("--json", action="store_true",
                           help="print a JSON object: data, faces, students, problems, kappa, summary, "
                                "student_accuracy, per_class, pairs, disagreements")
    add_sample_size_options(agreement)
    agreement.set_defaults(handler=run_agreement, tensorflow=True)


def _number(value) -> float | None:
    """A float for JSON, None for NaN (undefined: no face of a class, a single student)."""
    value = float(value)
    return None if math.isnan(value) else value


def _table(frame) -> dict:
    return {str(row): {str(column): _number(value) for column, value in values.items()}
            for row, values in frame.iterrows()}


def agreement_report(result, class_labels, faces, *, data: str, model: str) -> dict:
    """Everything the command prints, as one JSON-ready object (NaN written as null)."""
    table = result.faces
    differ = table[table["majority and model differ"]].sort_values("votes", ascending=False, kind="stable")
    return {
        "data": data, "faces": len(faces), "seed": faces.seed, "model": model,
        "students": list(class_labels.students), "problems": list(class_labels.problems),
        "kappa": _number(result.kappa),
        "summary": {name: _number(value) for name, value in result.summary.items()},
        "majority_differs_from_fer2013": int((table["class majority"] != table["FER2013"]).sum()),
        "student_accuracy": {name: _number(value) for name, value in result.students.items()},
        "per_class": _table(result.per_class),
        "pairs": _table(result.pairs),
        "disagreements": [{"id": row["id"], "FER2013": row["FER2013"],
                           "class majority": row["class majority"], "votes": _number(row["votes"]),
                           "model": row["model"]} for _, row in differ.iterrows()],
    }


def _cell(value, width: int = 9) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"


def format_report(report: dict, show: int) -> str:
    """The report as text: the headline figures, then one table per view."""
    students = report["students"]
    lines = [f"{len(students)} students' labels of {report['faces']} faces from {report['data']} (validation "
             f"split, seed {report['seed']}); model: {report['model']}"]
    if report["problems"]:
        lines.append(f"{len(report['problems'])} problem(s); a file with one is left out:")
        lines += [f"- {problem}" for problem in report["problems"]]
    kappa = report["kappa"]
    lines += ["", f"Fleiss' kappa: {kappa:.3f}" if kappa is not None
              else "Fleiss' kappa: needs at least two students' valid files", ""]
    accuracy = sorted(value for value in report["student_accuracy"].values())
    lines.append(f"students' accuracy against FER2013's labels: lowest {accuracy[0]:.3f}, median "
                 f"{accuracy[len(accuracy) // 2]:.3f}, highest {accuracy[-1]:.3f}")
    lines += [f"{name:<28}{value:.3f}" for name, value in report["summary"].items()]
    lines.append(f"the class majority differs from FER2013's label on "
                 f"{report['majority_differs_from_fer2013']} of {report['faces']} faces")
    columns = ("faces", "students", "class majority", "model", "pair agreement", "kappa")
    lines += ["", "per emotion (rows: FER2013's label; recall of the students, their majority and the model; "
                  "share of student pairs alike; the emotion's own kappa)",
              f"{'emotion':<10}{'faces':>6}{'students':>9}{'majority':>9}{'model':>9}{'pairs':>9}{'kappa':>9}"]
    for emotion, row in report["per_class"].items():
        cells = "".join(_cell(row[name]) for name in columns[1:])
        lines.append(f"{emotion:<10}{int(row['faces']):>6}{cells}")
    lines += ["", "confusions (share of the faces with the first label answered as the second)",
              f"{'':<24}{'students':>9}{'model':>9}"]
    lines += [f"{pair:<24}{_cell(row['students'])}{_cell(row['model'])}"
              for pair, row in report["pairs"].items()]
    differ = report["disagreements"]
    listed = differ[:show]
    lines += ["", f"the class majority and the model differ on {len(differ)} faces"
                  + (f" (the {len(listed)} with the most united class):" if listed else "")]
    if listed:
        lines.append(f"{'id':<17}{'FER2013':<10}{'majority':<10}{'votes':>6}  model")
        lines += [f"{row['id']:<17}{row['FER2013']:<10}{row['class majority']:<10}{row['votes']:>6.2f}  "
                  f"{row['model']}" for row in listed]
    return "\n".join(lines)


def run_agreement(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fercourse.cli.options import load_data
    from fercourse.demo.agreement import class_agreement, class_files, read_class_labels
    from fercourse.demo.labelling import labelling_set
    from fercourse.errors import InputError
    from fercourse.models import predict_proba
    from fercourse.models.pretrained import load_inference_model, resolve_model_path

    if args.show < 0:
        raise InputError(f"--show {args.show}: expected a number of faces, 0 or more")
    if len(args.labels) == 1 and not args.labels[0].lower().endswith(".csv"):
        source = args.labels[0]  # one folder (its messages then name the folder)
    else:  # files, and the CSVs of any folder among them
        source = [path for item in args.labels
                  for path in (class_files(item) if Path(item).is_dir() else [Path(item)])]
    model_path = resolve_model_path(args.model)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file (expected 'pretrained' or a .keras file)")
    faces = labelling_set(load_data(args), count=args.faces, seed=args.seed)
    class_labels = read_class_labels(source, faces)
    answers = predict_proba(load_inference_model(model_path), faces.images).argmax(axis=1)
    result = class_agreement(class_labels, faces, answers)
    report = agreement_report(result, class_labels, faces, data=Path(str(args.data)).name, model=args.model)
    print(json.dumps(report, indent=2) if args.json else format_report(report, args.show))
    return 0

"""``fercourse labels agreement``: a simulated class's CSVs in, the class's agreement out, as a user runs it.

The class is simulated the way lesson 9 does it: each simulated student's answers go through a
``LabellingSession`` and ``write_labels`` (the app's path) into a folder, with one hurried file
that the validator rejects.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from fercourse.cli import labels as labels_cli
from fercourse.cli import main
from fercourse.demo import labelling
from fercourse.demo.agreement import fleiss_kappa, rating_counts
from fercourse.labels import EMOTIONS

SAMPLE = ["--data", "sample", "--n-train", "700", "--n-test", "140", "--faces", "40"]
STUDENTS = 6


@pytest.fixture(scope="module")
def faces(small_sample):
    return labelling.labelling_set(small_sample, count=40)  # the faces the CLI picks with SAMPLE


@pytest.fixture(scope="module")
def simulated_class(faces, tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    seen = labelling.simulated_labels(faces.labels, accuracy=0.85, confused_share=1.0, seed=0)
    for number in range(STUDENTS):
        session = labelling.LabellingSession(faces)
        accuracy = np.random.default_rng(number).uniform(0.55, 0.75)
        for answer in labelling.simulated_labels(seen, accuracy=accuracy, seed=number):
            session.label(int(answer))
        assert labelling.write_labels(labelling.student_file(folder, f"s{number}"), faces, session) == []
    hurried = ["happy" if k == 0 else str(label) for k, label in enumerate(faces.labels[:-1])]
    (folder / "labels_hurried.csv").write_text(
        "id,emotion\n" + "".join(f"{i},{label}\n" for i, label in zip(faces.ids, hurried)))
    return folder


def answers_by_hand(folder, faces) -> np.ndarray:
    """(students, faces) answers read with the csv module, in the faces' order (valid files only)."""
    rows = []
    for path in sorted(folder.glob("labels_s*.csv")):
        with path.open(newline="") as handle:
            answers = {row["id"]: int(row["emotion"]) for row in csv.DictReader(handle)}
        rows.append([answers[face] for face in faces.ids])
    return np.array(rows)


def test_help_names_the_command_and_uses_the_lessons_defaults():
    assert (labels_cli.DEFAULT_FACES, labels_cli.DEFAULT_SEED) == (labelling.LABELLING_FACES,
                                                                   labelling.LABELLING_SEED)
    result = subprocess.run([sys.executable, "-m", "fercourse", "labels", "agreement", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Fleiss' kappa" in result.stdout and "--json" in result.stdout
    listed = subprocess.run([sys.executable, "-m", "fercourse", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert "labels" in listed.stdout and "class's agreement" in listed.stdout


def test_json_report_of_a_simulated_class(simulated_class, faces, capsys):
    assert main(["labels", "agreement", str(simulated_class), *SAMPLE, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["faces"] == 40 and report["data"] == "sample" and report["model"] == "pretrained"
    assert report["students"] == [f"s{number}" for number in range(STUDENTS)]
    problems = report["problems"]
    assert len(problems) == 2 and all(problem.startswith("labels_hurried.csv") for problem in problems)
    assert "class name instead of its integer label" in problems[0]
    assert "(line 2: 'happy': write 3)" in problems[0]
    # The figures, recomputed from the files read by hand.
    answers, truth = answers_by_hand(simulated_class, faces), faces.labels
    assert report["kappa"] == pytest.approx(fleiss_kappa(rating_counts(answers)))
    assert report["summary"]["students (mean accuracy)"] == pytest.approx(np.mean(answers == truth))
    majority = rating_counts(answers).argmax(axis=1)
    assert report["summary"]["class majority"] == pytest.approx(np.mean(majority == truth))
    assert report["majority_differs_from_fer2013"] == int(np.sum(majority != truth))
    assert report["student_accuracy"]["s0"] == pytest.approx(np.mean(answers[0] == truth))
    per_class = report["per_class"]
    assert list(per_class) == list(EMOTIONS) and sum(row["faces"] for row in per_class.values()) == 40
    fear = truth == EMOTIONS.index("fear")
    assert per_class["fear"]["students"] == pytest.approx(np.mean(answers[:, fear] == 2))
    assert report["pairs"]["fear read as sad"]["students"] == pytest.approx(np.mean(answers[:, fear] == 4))
    # Where the majority and the model differ: every such face, most united class first.
    differ = report["disagreements"]
    assert all(row["class majority"] != row["model"] for row in differ)
    assert [row["votes"] for row in differ] == sorted((row["votes"] for row in differ), reverse=True)
    assert report["summary"]["majority agrees with model"] == pytest.approx(1 - len(differ) / 40)
    assert all(row["id"].startswith("face-") for row in differ)


def test_text_report_lists_problems_tables_and_the_faces(simulated_class, capsys):
    assert main(["labels", "agreement", str(simulated_class), *SAMPLE, "--show", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{STUDENTS} students' labels of 40 faces from sample")
    assert "- labels_hurried.csv: 1 row with a class name instead of its integer label" in text
    for needle in ("Fleiss' kappa: 0.", "per emotion (rows: FER2013's label", "disgust read as angry",
                   "the class majority differs from FER2013's label on"):
        assert needle in text, needle
    listed = text.split("with the most united class):\n")[1].splitlines()
    assert listed[0].startswith("id") and len(listed) == 4 and listed[1].startswith("face-")


def test_a_list_of_files_and_a_single_student(simulated_class, capsys):
    files = [str(simulated_class / "labels_s0.csv"), str(simulated_class / "labels_s1.csv")]
    assert main(["labels", "agreement", *files, *SAMPLE, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["students"] == ["s0", "s1"]
    assert main(["labels", "agreement", files[0], *SAMPLE]) == 0
    assert "Fleiss' kappa: needs at least two students' valid files" in capsys.readouterr().out


def test_errors_name_the_folder_file_and_line(simulated_class, tmp_path, capsys):
    assert main(["labels", "agreement", str(tmp_path / "missing"), *SAMPLE]) == 1
    assert "missing: no such folder" in capsys.readouterr().err
    listed = [str(simulated_class / "labels_s0.csv"), str(tmp_path / "labels_x.csv")]
    assert main(["labels", "agreement", *listed, *SAMPLE]) == 1
    assert "labels_x.csv: no such file" in capsys.readouterr().err
    # Another seed picks other faces under other ids: no file is valid, and each one says why.
    assert main(["labels", "agreement", str(simulated_class), *SAMPLE, "--seed", "1"]) == 1
    error = capsys.readouterr().err
    assert "no valid labels file among 7" in error and "labels_s0.csv" in error
    model = str(tmp_path / "m.keras")
    assert main(["labels", "agreement", str(simulated_class), *SAMPLE, "--model", model]) == 1
    assert "m.keras: no such model file" in capsys.readouterr().err

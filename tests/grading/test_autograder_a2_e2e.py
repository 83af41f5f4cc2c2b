"""End to end, a2_cnn: the real nbgrader CLI checks that the submitted cnn.keras explains submission.csv.

Built-in sample (1,400 train / 280 test), one reference CNN trained for 1 epoch, four students
graded in one ``nbgrader autograde`` call: an honest submission (its model and its CSV), a CSV
improved beyond what its model predicts, a model file that tries to run code when loaded, and a
damaged model file (the honest submission with no usable model that the attack must score like).
Measured at 2-3 minutes on 2 cores shared with a training run (load average 6-8): course setup
and the 1-epoch training 42-56 s, one autograde of the four 67-136 s, feedback a few seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

N_TRAIN, N_TEST = 1400, 280
A2 = "a2_cnn"
CELLS = ("cnn_architecture", "saved_model_predicts", "submission_format", "accuracy_tiers")


def grades(course, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", "fercourse") as gradebook:
        submission = gradebook.find_submission_notebook(A2, A2, student)
        return {grade.name: grade.score for grade in submission.grades if grade.name in CELLS}


def accuracy_text(course, student: str) -> str:
    import nbformat

    notebook = nbformat.read(course.root / "autograded" / student / A2 / f"{A2}.ipynb", 4)
    cell = next(c for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "accuracy_tiers")
    return "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                   for o in cell.outputs)


def rows(csv_bytes: bytes) -> dict[str, int]:
    lines = csv_bytes.decode().splitlines()[1:]
    return {line.split(",")[0]: int(line.split(",")[1]) for line in lines}


def as_csv(labels: dict[str, int]) -> bytes:
    return ("id,emotion\n" + "".join(f"{key},{label}\n" for key, label in labels.items())).encode()


def code_on_load_model(path: Path, marker: Path) -> Path:
    """A .keras file whose Lambda layer's bytecode creates ``marker`` when the model is loaded unsafely."""
    import keras

    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")  # noqa: S307
    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Lambda(touch), keras.layers.Flatten(),
                              keras.layers.Dense(7, activation="softmax")])
    model.save(path)
    marker.unlink(missing_ok=True)  # building it here ran it once, in the test
    return path


def test_a2_accuracy_points_need_the_model_that_wrote_the_csv(tmp_path):
    from fercourse.grading._testing import make_course, nbgrader, submit, train_reference_cnn
    from fercourse.grading.plugins.scoring import load_thresholds, tiers_cleared
    from fercourse.submission import AnswerKey

    start = time.perf_counter()
    course = make_course(tmp_path / "work", n_train=N_TRAIN, n_test=N_TEST)
    nbgrader(course, "generate_assignment", A2)
    model_file = tmp_path / "cnn.keras"
    honest = train_reference_cnn(course, model_file, epochs=1)
    trained = time.perf_counter() - start

    key = AnswerKey.read(course.key)
    truth = dict(zip(key.ids, key.labels.tolist()))
    tiers = load_thresholds(course.root / "thresholds.json", A2, "sample")

    def tiers_of(labels: dict[str, int]) -> int:
        return tiers_cleared(sum(labels[i] == truth[i] for i in truth) / len(truth), tiers)

    # The CSV "improved" beyond the model: 10% of the rows it got wrong set to the true label.
    improved = rows(honest)
    wrong = [i for i in improved if improved[i] != truth[i]]
    for i in wrong[: N_TEST // 10]:
        improved[i] = truth[i]
    assert len(wrong) >= N_TEST // 10 and tiers_of(improved) >= tiers_of(rows(honest))
    marker = tmp_path / "ran_on_load"
    (tmp_path / "attack").mkdir()
    attack_model = code_on_load_model(tmp_path / "attack" / "cnn.keras", marker)

    scenarios = {  # student: (files, expected points per cell)
        "honest": ({"submission.csv": honest, "cnn.keras": model_file}, (1, 1, 1, tiers_of(rows(honest)))),
        "improved_csv": ({"submission.csv": as_csv(improved), "cnn.keras": model_file}, (1, 1, 1, 0)),
        "code_on_load": ({"submission.csv": honest, "cnn.keras": attack_model}, (1, 0, 1, 0)),
        "damaged_model": ({"submission.csv": honest, "cnn.keras": model_file.read_bytes()[:5000]},
                          (1, 0, 1, 0)),
    }
    for student, (files, _) in scenarios.items():
        submit(course, student, A2, files=files)
    start = time.perf_counter()
    nbgrader(course, "autograde", A2, key=True)
    graded = time.perf_counter() - start
    print(f"trained and set up in {trained:.0f} s; autograded {len(scenarios)} a2 submissions in "
          f"{graded:.0f} s")

    for student, (_, expected) in scenarios.items():
        assert grades(course, student) == dict(zip(CELLS, map(float, expected))), student
    assert grades(course, "code_on_load") == grades(course, "damaged_model")  # refused = no usable model
    assert not marker.exists()  # neither the grader nor the kernel ran the Lambda's code

    assert f"{tiers_of(rows(honest))} of 3 tiers cleared" in accuracy_text(course, "honest")
    assert f"is what the submitted cnn.keras predicts (they agree on 100.0% of {N_TEST}" in \
        accuracy_text(course, "honest")
    share = 1 - (N_TEST // 10) / N_TEST
    assert (f"accuracy points withheld: submission.csv is not what the submitted cnn.keras predicts (they "
            f"agree on {share:.1%} of {N_TEST} test faces; at least 99% needed)") in accuracy_text(course,
                                                                                                 "improved_csv")
    refused = accuracy_text(course, "code_on_load")
    assert "accuracy points withheld: cnn.keras was not loaded: config.json, config.layers[1]: class_name " \
           "'Lambda'" in refused
    assert "the Lambda layer can run code or read files, so it is not accepted" in refused
    assert "accuracy points withheld: cnn.keras is not a Keras model file" in \
        accuracy_text(course, "damaged_model")

    nbgrader(course, "generate_feedback", A2, "--student", "improved_csv")
    feedback = (course.root / "feedback" / "improved_csv" / A2 / f"{A2}.html").read_text()
    assert "is not what the submitted cnn.keras predicts" in feedback

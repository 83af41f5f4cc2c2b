"""fercourse.grading.plugins.model_check: a submitted Keras model is loaded safely and must explain the CSV.

The attacks are model files crafted as a student would: each tries to create a marker file when
it is loaded. Each is refused before Keras reads it, and the marker never appears.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.utils import determine_grade
from traitlets.config import Config

from fercourse.config import ANSWER_KEY_ENV
from fercourse.grading.plugins import ApplyScores, SnapshotSubmission
from fercourse.grading.plugins.model_check import (
    ModelFileError,
    check_model_explains_csv,
    inspect_keras_file,
)
from fercourse.grading.plugins.model_check_runner import check_submitted_model
from fercourse.grading.plugins.state import PROCESS_STATE

keras = pytest.importorskip("keras")

N_FACES = 200  # one disagreeing row is 0.5%: 2 rows still pass at 99%, 3 do not


@pytest.fixture(scope="module")
def faces():
    images = np.random.default_rng(0).integers(0, 256, size=(N_FACES, 48, 48), dtype=np.uint8)
    return [f"t{index:04d}" for index in range(N_FACES)], images


def tiny_model(*extra_layers):
    """A small CNN with the a2 input and output (and fercourse's standardization layer, as a2's reference)."""
    from fercourse.models.layers import PerImageStandardization

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((48, 48, 1)), PerImageStandardization(), *extra_layers,
                             keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dense(7, activation="softmax")])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, faces):
    """(bytes of a saved tiny model, its labels for ``faces`` as the notebook computes them)."""
    from fercourse.models import model_input

    path = tmp_path_factory.mktemp("tiny") / "cnn.keras"
    model = tiny_model()
    model.save(path)
    labels = model.predict(model_input("cnn", faces[1]), batch_size=256, verbose=0).argmax(axis=1)
    return path.read_bytes(), labels


def with_config(data: bytes, edit, extra: dict[str, bytes] | None = None) -> bytes:
    """The .keras zip ``data`` with its config.json passed through ``edit`` (and extra members added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "config.json":
                config = json.loads(content)
                edit(config)
                content = json.dumps(config).encode()
            target.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def layers_of(config: dict) -> list:
    return config["config"]["layers"]


def dense_activation(config: dict, activation) -> None:
    next(layer for layer in layers_of(config) if layer["class_name"] == "Dense")["config"]["activation"] = \
        activation


def touch_code(marker: Path) -> str:
    return f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]"


def lambda_model_bytes(tmp_path: Path, marker: Path) -> bytes:
    """A model with a Lambda layer whose bytecode (marshalled into config.json) creates ``marker``."""
    model = tiny_model(keras.layers.Lambda(eval(touch_code(marker))))  # noqa: S307 - the attacker's code
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink(missing_ok=True)  # building the model ran it once, here, in the test
    return path.read_bytes()


def attack_lambda_bytecode(tiny_bytes, tmp_path, marker):
    return lambda_model_bytes(tmp_path, marker)


def attack_unsafe_switch_then_lambda(tiny_bytes, tmp_path, marker):
    # Keras < 3.11 (CVE-2025-9906): a config that calls enable_unsafe_deserialization() before the lambda
    def edit(config):
        ours = "PerImageStandardization"
        standardize = next(layer for layer in layers_of(config) if layer["class_name"] == ours)
        standardize["config"]["activity_regularizer"] = {
            "module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization",
            "registered_name": "enable_unsafe_deserialization"}

    return with_config(lambda_model_bytes(tmp_path, marker), edit)


def attack_os_system(tiny_bytes, tmp_path, marker):
    return with_config(tiny_bytes, lambda config: dense_activation(config, {
        "module": "os", "class_name": "function", "config": "system", "registered_name": "system"}))


def attack_foreign_class(tiny_bytes, tmp_path, marker):
    def edit(config):
        layers_of(config).insert(1, {"module": "subprocess", "class_name": "Popen",
                                     "config": {"args": ["touch", str(marker)]}, "registered_name": "Popen"})

    return with_config(tiny_bytes, edit)


def attack_registered_name(tiny_bytes, tmp_path, marker):
    def edit(config):
        next(layer for layer in layers_of(config) if layer["class_name"] == "Dense")["registered_name"] = \
            "os>system"

    return with_config(tiny_bytes, edit)


def attack_keras_internal_function(tiny_bytes, tmp_path, marker):
    # python_utils.func_load turns marshalled bytecode into a function: what Lambda uses unsafely
    return with_config(tiny_bytes, lambda config: dense_activation(config, {
        "module": "keras.src.utils.python_utils", "class_name": "function", "config": "func_load",
        "registered_name": "func_load"}))


def attack_load_model_function(tiny_bytes, tmp_path, marker):
    # a public Keras function that is no modelling function (CVE-2025-9906 chained it into a Lambda)
    return with_config(tiny_bytes, lambda config: dense_activation(config, {
        "module": "keras.models", "class_name": "function", "config": "load_model",
        "registered_name": "load_model"}))


def attack_tfsm_layer(tiny_bytes, tmp_path, marker):
    def edit(config):
        saved_model = str(tmp_path / "saved_model")
        layers_of(config).insert(1, {"module": "keras.layers", "class_name": "TFSMLayer",
                                     "registered_name": None, "config": {"filepath": saved_model}})

    return with_config(tiny_bytes, edit)


def attack_vocabulary_file(tiny_bytes, tmp_path, marker):
    def edit(config):
        layers_of(config).insert(1, {"module": "keras.layers", "class_name": "StringLookup",
                                     "registered_name": None, "config": {"vocabulary": "/etc/passwd"}})

    return with_config(tiny_bytes, edit)


def attack_hdf5_renamed(tiny_bytes, tmp_path, marker):
    # Keras's legacy .h5 loader; the model inside has the Lambda that touches the marker
    model = tiny_model(keras.layers.Lambda(eval(touch_code(marker))))  # noqa: S307 - the attacker's code
    path = tmp_path / "legacy.h5"
    model.save(path)
    marker.unlink(missing_ok=True)
    return path.read_bytes()


class _Touch:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def attack_pickle_renamed(tiny_bytes, tmp_path, marker):
    return pickle.dumps(_Touch(marker))


def attack_extra_member(tiny_bytes, tmp_path, marker):
    return with_config(tiny_bytes, lambda config: None, extra={"../../sitecustomize.py": b"print('hi')"})


ATTACKS = {  # name: (builder, what the refusal says)
    "lambda_bytecode": (attack_lambda_bytecode, "'Lambda'"),
    "unsafe_switch_then_lambda": (attack_unsafe_switch_then_lambda, "enable_unsafe_deserialization"),
    "os_system": (attack_os_system, "function 'system' from class_name 'function', module 'os'"),
    "foreign_class": (attack_foreign_class, "class_name 'Popen', module 'subprocess'"),
    "registered_name": (attack_registered_name, "registered_name 'os>system': Keras's own classes have no"),
    "keras_internal_function": (attack_keras_internal_function, "'func_load'"),
    "load_model_function": (attack_load_model_function, "function 'load_model' from class_name 'function', "
                                                        "module 'keras.models'"),
    "tfsm_layer": (attack_tfsm_layer, "the TFSMLayer layer can run code or read files"),
    "vocabulary_file": (attack_vocabulary_file, "the StringLookup layer can run code or read files"),
    "hdf5_renamed": (attack_hdf5_renamed, "is not a Keras model file (.keras files are zip archives)"),
    "pickle_renamed": (attack_pickle_renamed, "is not a Keras model file"),
    "extra_member": (attack_extra_member, "holds ../../sitecustomize.py: expected only config.json"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_model_files_are_refused_without_running_anything(attack, tiny, faces, tmp_path):
    build, refusal = ATTACKS[attack]
    marker = tmp_path / "ran"
    data = build(tiny[0], tmp_path, marker)
    assert not marker.exists()
    with pytest.raises(ModelFileError, match=r"^cnn\.keras ") as error:
        inspect_keras_file(data, "cnn.keras")
    assert refusal in str(error.value)
    ids, images = faces
    check = check_model_explains_csv(data, ids, images, dict(zip(ids, tiny[1].tolist())))
    assert (check.explained, check.agreement) == (False, None)
    assert check.message.startswith("accuracy points withheld: cnn.keras ") and refusal in check.message
    assert not marker.exists()


def test_the_lambda_attack_is_live_when_keras_safe_mode_is_off(tiny, tmp_path):
    """Guards the test above: the crafted bytecode does run when loaded unsafely."""
    marker = tmp_path / "ran"
    path = tmp_path / "cnn.keras"
    path.write_bytes(attack_lambda_bytecode(tiny[0], tmp_path, marker))
    assert not marker.exists()
    keras.saving.load_model(path, safe_mode=False)
    assert marker.exists()


def test_the_a2_reference_model_is_accepted(tmp_path):
    from fercourse.models import build_model

    path = tmp_path / "cnn.keras"
    build_model("cnn", variant="bn", augment=True, seed=0).save(path)
    config = inspect_keras_file(path.read_bytes())
    assert config["class_name"] == "Functional"
    names = [layer["class_name"] for layer in layers_of(config)]
    assert "PerImageStandardization" in names and "Sequential" in names  # the augmentation block


def test_agreement_at_the_99_percent_boundary(tiny, faces):
    ids, images = faces
    predicted = tiny[1]
    for flipped, explained in ((0, True), (2, True), (3, False)):
        labels = predicted.copy()
        labels[:flipped] = (labels[:flipped] + 1) % 7
        check = check_model_explains_csv(tiny[0], ids, images, dict(zip(ids, labels.tolist())))
        share = 1 - flipped / N_FACES
        assert (check.explained, check.agreement) == (explained, pytest.approx(share)), flipped
        if explained:
            assert check.message == (f"submission.csv is what the submitted cnn.keras predicts (they agree "
                                     f"on {share:.1%} of {N_FACES} test faces)")
        else:
            assert check.message == ("accuracy points withheld: submission.csv is not what the submitted "
                                     "cnn.keras predicts (they agree on 98.5% of 200 test faces; at least "
                                     "99% needed)")
    wrong = {i: (int(p) + 1) % 7 for i, p in zip(ids, predicted)}
    loose = check_model_explains_csv(tiny[0], ids, images, wrong, min_agreement=0.0)
    assert loose.explained and loose.agreement == 0.0


def test_missing_corrupt_oversized_and_linked_model_files(tiny, faces, tmp_path):
    ids, images = faces
    test_csv = tmp_path / "test.csv"
    test_csv.write_text("id,pixels\n" + "".join(f"{i},{' '.join(map(str, face.ravel()))}\n"
                                                for i, face in zip(ids, images)))
    csv_data = ("id,emotion\n" + "".join(f"{i},{p}\n" for i, p in zip(ids, tiny[1]))).encode()
    model = tmp_path / "cnn.keras"

    def message(**kwargs):
        check = check_submitted_model(model, test_csv, csv_data, **kwargs)
        assert not check.explained
        return check.message

    assert message() == ("accuracy points withheld: no cnn.keras was submitted, so nothing shows that "
                         "submission.csv comes from your model (submit both)")
    model.write_bytes(tiny[0][: len(tiny[0]) // 2])
    assert message().startswith("accuracy points withheld: cnn.keras is not a Keras model file")
    model.write_bytes(with_config(tiny[0], lambda config: None).replace(b'"class_name"', b'"class_nam\xff"'))
    assert message().startswith("accuracy points withheld: cnn.keras is damaged: ")
    model.write_bytes(tiny[0])
    megabytes = len(tiny[0]) / 1e6
    assert message(max_bytes=1000) == (f"accuracy points withheld: cnn.keras is {megabytes:.1f} MB, over the "
                                       "0 MB limit")
    assert check_submitted_model(model, test_csv, csv_data).explained
    model.unlink()
    (tmp_path / "elsewhere.keras").write_bytes(tiny[0])
    model.symlink_to(tmp_path / "elsewhere.keras")
    assert message() == "accuracy points withheld: cnn.keras is a symbolic link: expected a regular file"


def test_the_check_runs_in_a_child_that_stops_at_its_time_and_memory_limits(tiny, faces):
    """A hostile model can make loading slow or huge: the check, not the grader, pays, and says so."""
    from fercourse.grading.plugins.model_check_runner import check_in_child

    ids, images = faces
    submitted = dict(zip(ids, tiny[1].tolist()))
    arguments = dict(name="cnn.keras", csv_name="submission.csv", min_agreement=0.99, max_bytes=10**8)
    assert check_in_child(tiny[0], ids, images, submitted, **arguments).explained  # within the defaults
    slow = check_in_child(tiny[0], ids, images, submitted, **arguments, cpu_seconds=1)
    assert (slow.explained, slow.needs_look) == (False, True)
    assert "checking cnn.keras used more than 1 s of processor time" in slow.message
    small = check_in_child(tiny[0], ids, images, submitted, **arguments, memory_mb=200)
    assert (small.explained, small.needs_look) == (False, True)
    assert "checking cnn.keras failed (exit 1) under the grader's 200 MiB memory limit" in small.message

    def huge(config):  # 70 KB of config asking for a layer of 2,000,000 x 4 x 4 weights... and more
        dense = next(layer for layer in layers_of(config) if layer["class_name"] == "Dense")
        dense["config"]["units"] = 2_000_000_000
    withheld = check_in_child(with_config(tiny[0], huge), ids, images, submitted, **arguments)
    assert not withheld.explained and withheld.message.startswith("accuracy points withheld: ")


def test_a_model_with_the_wrong_output_is_not_explained(faces, tmp_path):
    ids, images = faces
    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(3)],
                             name="three_classes")
    path = tmp_path / "cnn.keras"
    model.save(path)
    check = check_model_explains_csv(path.read_bytes(), ids, images, dict.fromkeys(ids, 0))
    assert check.message == ("accuracy points withheld: cnn.keras is not a face classifier: model "
                             "'three_classes' outputs (None, 3): expected (None, 7), one score per emotion")


# --- the preprocessor: the accuracy cell of an assignment with a model file ---

TIERS = [0.2, 0.5, 0.9]


@pytest.fixture()
def course(tmp_path, monkeypatch, faces, tiny):
    """A course with assignment a2 whose hidden labels are the tiny model's predictions."""
    ids, images = faces
    root = tmp_path / "course"
    data = root / "source" / "a2" / "data"
    data.mkdir(parents=True)
    (data / "test.csv").write_text("id,pixels\n" + "".join(f"{i},{' '.join(map(str, face.ravel()))}\n"
                                                           for i, face in zip(ids, images)))
    submitted = root / "submitted" / "ann" / "a2"
    submitted.mkdir(parents=True)
    (root / "autograded" / "ann" / "a2").mkdir(parents=True)
    (root / "thresholds.json").write_text(json.dumps({"a2": {"sample": TIERS}}))
    key_bytes = ("id,emotion\n" + "".join(f"{i},{p}\n" for i, p in zip(ids, tiny[1]))).encode()
    key = tmp_path / "keys" / "answer_key.csv"
    key.parent.mkdir()
    key.write_bytes(key_bytes)
    PROCESS_STATE.reset()
    monkeypatch.setenv(ANSWER_KEY_ENV, str(key))
    config = Config()
    config.CourseDirectory.root = str(root)
    config.FercourseGrader.answer_key_sha256 = hashlib.sha256(key_bytes).hexdigest()
    config.SnapshotSubmission.model_files = {"a2": "cnn.keras"}
    yield submitted, config, key_bytes
    PROCESS_STATE.reset()


def autograde(submitted, config):
    cells = []
    for grade_id, points in (("submission_format", 1), ("accuracy_tiers", 3)):
        cell = new_code_cell("print('kernel output')")
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id, "points": points,
                                     "locked": True, "schema_version": 3, "task": False}
        cells.append(cell)
    resources = {"nbgrader": {"student": "ann", "assignment": "a2", "notebook": "a2"},
                 "metadata": {"path": str(submitted)}}
    nb, resources = SnapshotSubmission(config=config).preprocess(new_notebook(cells=cells), resources)
    nb, _ = ApplyScores(config=config).preprocess(nb, resources)
    text = {cell.metadata["nbgrader"]["grade_id"]: "".join(str(o.get("text", "")) for o in cell.outputs)
            for cell in nb.cells}
    return {cell.metadata["nbgrader"]["grade_id"]: determine_grade(cell)[0] for cell in nb.cells}, text


def test_accuracy_points_need_the_model_that_wrote_the_csv(course, tiny):
    submitted, config, key_bytes = course
    (submitted / "submission.csv").write_bytes(key_bytes)  # exactly what the model predicts: 100%
    (submitted / "cnn.keras").write_bytes(tiny[0])
    scores, text = autograde(submitted, config)
    assert scores == {"submission_format": 1, "accuracy_tiers": 3}
    assert "3 of 3 tiers cleared" in text["accuracy_tiers"]
    assert f"is what the submitted cnn.keras predicts (they agree on 100.0% of {N_FACES}" in \
        text["accuracy_tiers"]

    lines = key_bytes.decode().splitlines()
    flipped = [f"{row.split(',')[0]},{(int(row.split(',')[1]) + 1) % 7}" for row in lines[1:6]]
    (submitted / "submission.csv").write_text("\n".join([lines[0], *flipped, *lines[6:]]) + "\n")
    scores, text = autograde(submitted, config)
    assert scores == {"submission_format": 1, "accuracy_tiers": 0}  # 97.5% correct would clear 3 tiers
    assert "not what the submitted cnn.keras predicts (they agree on 97.5% of 200" in text["accuracy_tiers"]

    (submitted / "cnn.keras").unlink()
    (submitted / "submission.csv").write_bytes(key_bytes)
    scores, text = autograde(submitted, config)
    assert scores == {"submission_format": 1, "accuracy_tiers": 0}
    assert "no cnn.keras was submitted" in text["accuracy_tiers"]


def test_assignments_without_a_model_file_are_scored_from_the_csv_alone(course, tiny):
    submitted, config, key_bytes = course
    config.SnapshotSubmission.model_files = {}
    (submitted / "submission.csv").write_bytes(key_bytes)
    scores, text = autograde(submitted, config)
    assert scores == {"submission_format": 1, "accuracy_tiers": 3}
    assert "cnn.keras" not in text["accuracy_tiers"]


def test_the_course_config_checks_the_keras_assignments_models():
    from traitlets.config.loader import PyFileConfigLoader

    folder = Path(__file__).resolve().parents[2] / "autograder"
    config = PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()
    snapshot = SnapshotSubmission(config=config)
    assert snapshot.model_files == {"a2_cnn": "cnn.keras", "a3_mlp": "model.keras",
                                    "a4_competition": "model.keras"}
    assert (snapshot.min_model_agreement, snapshot.max_model_bytes) == (0.99, 64 * 1024 * 1024)


# --- a2's architecture cell: a CNN the student writes with keras.layers passes, a non-CNN does not ---

def a2_reference_make_cnn():
    """The make_cnn of a2's reference solution, run from the source notebook as a student's would be."""
    from fercourse.grading._testing import Course, reference_function

    course = Course(Path(__file__).resolve().parents[2] / "autograder", Path("unused"), "")
    return reference_function(course, "a2_cnn", "make_cnn", "make_cnn")


def test_a2_reference_is_written_with_keras_layers_and_passes_every_check(tmp_path):
    from fercourse.grading.kernel.architecture import cnn_problems
    from fercourse.models import build_model

    make_cnn = a2_reference_make_cnn()
    model = make_cnn()
    assert cnn_problems(model) == []
    # the network the a2 tiers were calibrated with (autograder/README.md, Thresholds), written out
    packaged = build_model("cnn", variant="bn", augment=True, seed=0)
    types = [type(layer).__name__ for layer in model.layers]
    assert types == [type(layer).__name__ for layer in packaged.layers]
    assert model.count_params() == packaged.count_params()
    model.save(tmp_path / "cnn.keras")
    config = inspect_keras_file((tmp_path / "cnn.keras").read_bytes())  # the grader's allow-list accepts it
    assert config["class_name"] == "Functional"


def test_cnn_problems_name_what_a_non_cnn_lacks():
    from fercourse.grading.kernel.architecture import cnn_problems

    def compiled(model):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    flip = keras.layers.RandomFlip("horizontal")
    mlp = compiled(keras.Sequential([keras.Input((48, 48, 1)), flip, keras.layers.Flatten(),
                                     keras.layers.Dense(64, activation="relu"),
                                     keras.layers.Dense(7, activation="softmax")]))
    assert cnn_problems(mlp) == [
        "expected at least 2 convolution layers (keras.layers.Conv2D); found 0",
        "expected a pooling layer (keras.layers.MaxPooling2D, say) or a strided convolution"]
    # named like the package builder's layers, but no convolution: names do not count, types do
    disguised = compiled(keras.Sequential([keras.Input((48, 48, 1)),
                                           keras.layers.RandomFlip(name="augmentation"),
                                           keras.layers.Flatten(name="conv2d"),
                                           keras.layers.Dense(7, activation="softmax", name="conv2d_1")]))
    assert "found 0" in cnn_problems(disguised)[0]
    strided = compiled(keras.Sequential([keras.Input((48, 48, 1)), keras.layers.RandomRotation(0.05),
                                         keras.layers.Conv2D(8, 3, strides=2, name="first"),
                                         keras.layers.Conv2D(8, 3, strides=2, name="second"),
                                         keras.layers.GlobalAveragePooling2D(),
                                         keras.layers.Dense(7, activation="softmax")]))
    assert cnn_problems(strided) == []  # any names, pooling by stride
    no_augmentation = tiny_model(keras.layers.Conv2D(4, 3))
    problems = cnn_problems(no_augmentation)
    assert problems == ["expected training-time augmentation: a keras.layers.Random... layer (RandomFlip, "
                        "RandomRotation, ...)",
                        "expected a compiled model: call model.compile(optimizer=..., loss=...)"]
    wrong_output = compiled(keras.Sequential([keras.Input((48, 48)), keras.layers.Reshape((48, 48, 1)),
                                              keras.layers.RandomFlip(), keras.layers.Conv2D(4, 3),
                                              keras.layers.MaxPooling2D(), keras.layers.Conv2D(4, 3),
                                              keras.layers.Flatten(), keras.layers.Dense(3)]))
    assert cnn_problems(wrong_output)[:2] == [
        "expected input shape (None, 48, 48, 1), one gray 48x48 face; got (None, 48, 48)",
        "expected output shape (None, 7), one probability per emotion; got (None, 3)"]
    assert cnn_problems("not a model") == ["expected a keras.Model; got str"]

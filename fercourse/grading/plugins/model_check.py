"""Does the submitted model explain the submitted CSV? Load a student's Keras model safely, predict, compare.

An assignment that asks for a saved model (a2: ``cnn.keras``) gives its accuracy points only when
the submitted ``submission.csv`` is what that model predicts on the released test set. Without
this check any CSV earns the points, whichever model (or person) wrote it.

Loading a student's file in the grader process must never run the student's code. Keras 3's
``safe_mode`` refuses Python lambdas and keeps a deny-list of dangerous API names; this module
does not rely on a deny-list alone. Before Keras sees the file, :func:`inspect_keras_file` reads
it as a zip and its ``config.json`` as plain JSON and allows only

- the three members Keras writes (``config.json``, ``metadata.json``, ``model.weights.h5``);
- objects from Keras's modelling modules (:data:`ALLOWED_MODULES`: layers, initializers,
  optimizers, losses, metrics, ...), minus the layers that run or load code or read files
  (:data:`REFUSED_CLASSES`: ``Lambda``, ``TFSMLayer``, lookups and vectorization with a
  vocabulary file, backend wrappers);
- fercourse's own registered layers (:data:`FERCOURSE_CLASSES`), which the a2 reference model
  uses (``PerImageStandardization``).

Anything else (another module such as ``os``, a ``__lambda__``, a registered name that is not
ours, a file that is not a zip) is refused with a message saying what was found, and the
model is never loaded. The bytes checked are the bytes loaded: they are read once, checked in
memory and written to a private temporary folder right before Keras opens them there, with
``safe_mode=True`` and ``compile=False`` (no optimizer or loss is rebuilt: only ``predict`` is
needed). Nothing here unpickles.

:func:`~fercourse.grading.plugins.model_check_runner.start_model_check` reads every input before the
student's kernel starts and runs the load and the prediction while the kernel executes, in a child
process under a time and a memory limit, so the TensorFlow import costs the grader little extra
time and a hostile model stops only its own check. The kernel runs as another
user than the grader (:mod:`~fercourse.grading.plugins.sandbox`), so it cannot swap the private
copy the check loads.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fercourse.errors import InputError
from fercourse.grading.digests import stat_signature
from fercourse.grading.plugins.state import PROCESS_STATE, GradingState

KERAS_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5"})
"""The members of a ``.keras`` zip that Keras writes for a model without assets."""

MAX_MODEL_BYTES = 64 * 1024 * 1024
"""Largest model file read (64 MiB; the a2 reference CNN is about 4 MB)."""

MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""Largest ``config.json`` parsed (a model's architecture; the a2 reference's is about 20 kB)."""

MIN_AGREEMENT = 0.99
"""Share of test rows on which the CSV must equal the model's prediction (the rest is numeric noise)."""

ALLOWED_MODULES = frozenset({
    "keras", "keras.layers", "keras.models", "keras.initializers", "keras.regularizers",
    "keras.constraints", "keras.activations", "keras.optimizers", "keras.optimizers.schedules",
    "keras.losses", "keras.metrics",
})
"""Modules whose classes and functions a submitted model may name (Keras's modelling API)."""

FUNCTION_MODULES = frozenset({"builtins", "keras.activations", "keras.initializers", "keras.regularizers",
                              "keras.constraints", "keras.losses", "keras.metrics"})
"""Modules whose functions a submitted model may name (``builtins`` is how Keras writes ``"relu"``)."""

KERAS_INTERNAL_CLASSES = frozenset({("keras.src.models.functional", "Functional"),
                                    ("keras.src.models.sequential", "Sequential")})
"""(module, class) pairs Keras itself writes with an internal module path."""

REFUSED_CLASSES = frozenset({
    "Lambda",  # runs Python code from the config (bytecode or a function looked up by name)
    "TFSMLayer",  # loads a TensorFlow SavedModel graph from a path
    "StringLookup", "IntegerLookup", "TextVectorization",  # may read a vocabulary file by path
    "JaxLayer", "FlaxLayer", "TorchModuleWrapper",  # wrap another framework's (pickled) code
})
"""Keras classes a submitted model may not use, although their module is allowed."""

FERCOURSE_MODULE = "fercourse.models.layers"
FERCOURSE_CLASSES = frozenset({"AdditiveAttention", "RandomCropTraining", "PerImageStandardization",
                               "OneCycleSchedule", "SparseSmoothedCrossentropy"})
"""fercourse's registered Keras classes (``fercourse>Name``) that a submitted model may use."""

SPECIAL_OBJECTS = frozenset({"__keras_tensor__"})
"""Keras's ``__name__`` objects allowed in a config (``__lambda__`` and others are refused)."""


class ModelFileError(InputError):
    """A submitted model file that is not loaded: not a plain Keras model, or too big."""


@dataclass(frozen=True)
class ModelCheck:
    """The outcome of comparing a submitted model's predictions with the submitted CSV.

    ``agreement`` is the share of test ids where they agree (None when the model could not be
    used); ``explained`` says whether that share reaches the minimum; ``message`` is the line
    for the student's feedback.
    """

    explained: bool
    agreement: float | None
    message: str
    needs_look: bool = False  #: the check itself failed (a limit): the instructor should look


def _config_problem(node, where: str) -> str | None:
    """The first object in a Keras config that a submitted model may not name, or None."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            problem = _config_problem(item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if not isinstance(node, dict):
        return None
    if "class_name" in node:
        problem = _object_problem(node)
        if problem:
            return f"{where}: {problem}"
    for key, value in node.items():
        problem = _config_problem(value, f"{where}.{key}" if where else key)
        if problem:
            return problem
    return None


def _object_problem(node: dict) -> str | None:
    class_name, module = node.get("class_name"), node.get("module")
    registered = node.get("registered_name")
    shown = f"class_name {class_name!r}, module {module!r}, registered_name {registered!r}"
    if not isinstance(class_name, str):
        return f"class_name {class_name!r} is not a name"
    if class_name.startswith("__"):
        return None if class_name in SPECIAL_OBJECTS and module is None else f"{shown} is not allowed"
    if class_name == "function":
        name = node.get("config")
        if module in FUNCTION_MODULES and isinstance(name, str) and registered in (None, name):
            return None
        return f"function {name!r} from {shown} is not a Keras modelling function"
    if class_name in REFUSED_CLASSES:
        return f"{shown}: the {class_name} layer can run code or read files, so it is not accepted"
    if module == FERCOURSE_MODULE:
        if class_name in FERCOURSE_CLASSES and registered == f"fercourse>{class_name}":
            return None
        return f"{shown} is not one of fercourse's layers"
    if module in ALLOWED_MODULES or (module, class_name) in KERAS_INTERNAL_CLASSES:
        if registered in (None, class_name):
            return None
        return f"{shown}: Keras's own classes have no other registered_name (it would look up another object)"
    return f"{shown} is not from Keras's modelling modules ({', '.join(sorted(ALLOWED_MODULES))})"


def inspect_keras_file(data: bytes, name: str = "cnn.keras", max_bytes: int = MAX_MODEL_BYTES) -> dict:
    """Check a ``.keras`` file's bytes without loading it; return its parsed ``config.json``.

    Raises
    ------
    ModelFileError
        The file is over ``max_bytes``, is not a zip (an HDF5 or pickle file renamed, say), has
        other members than :data:`KERAS_MEMBERS`, or its config names an object that is not
        allowed; the message names the file and what was found.

    Examples
    --------
    >>> try:
    ...     inspect_keras_file(b"\\x80\\x04K\\x01.", "model.keras")  # a pickle, renamed
    ... except ModelFileError as error:
    ...     print(error)
    model.keras is not a Keras model file (.keras files are zip archives)
    """
    if len(data) > max_bytes:
        raise ModelFileError(f"{name} is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError(f"{name} is not a Keras model file (.keras files are zip archives)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {info.filename: info.file_size for info in archive.infolist()}
            unexpected = sorted(set(members) - KERAS_MEMBERS)
            if unexpected or "config.json" not in members:
                found = ", ".join(unexpected) or "no config.json"
                expected = ", ".join(sorted(KERAS_MEMBERS))
                raise ModelFileError(f"{name} holds {found}: expected only {expected} (use model.save)")
            if members["config.json"] > MAX_CONFIG_BYTES or sum(members.values()) > 4 * max_bytes:
                raise ModelFileError(f"{name} unpacks to {sum(members.values()) / 1e6:.0f} MB: too big")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ModelFileError(f"{name} is damaged: {error}") from None
    problem = _config_problem(config, "")
    if problem:
        raise ModelFileError(f"{name} was not loaded: config.json, {problem}")
    return config


def load_submitted_model(data: bytes, name: str = "cnn.keras", max_bytes: int = MAX_MODEL_BYTES):
    """Load a student's ``.keras`` bytes after :func:`inspect_keras_file` accepts them.

    Raises
    ------
    ModelFileError
        Refused by the inspection, or Keras could not load the file (the message says why).
    """
    inspect_keras_file(data, name, max_bytes)
    import keras

    import fercourse.models.layers  # noqa: F401 - registers fercourse's layers for loading

    with tempfile.TemporaryDirectory(prefix="fercourse-model-") as scratch:
        path = Path(scratch) / "model.keras"  # the bytes checked, not a file the student could swap
        path.write_bytes(data)
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # noqa: BLE001 - any failure to load an untrusted file is a verdict
            first = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
            raise ModelFileError(f"{name} could not be loaded by Keras: {first}") from None


def predict_labels(model, images: np.ndarray, name: str = "cnn.keras") -> np.ndarray:
    """The model's labels for uint8 faces ``(n, 48, 48)``, predicted as every fercourse score is.

    :func:`fercourse.models.predict_proba` (the one prediction path: the input layout read from the
    model, the faces scaled as the notebook's ``model_input`` scales them, batches of 256); the label
    of a face is the argmax of its scores.

    Raises
    ------
    ModelFileError
        The model takes no 48x48 face, does not output 7 class scores, or fails while predicting.
    """
    from fercourse.errors import FercourseError
    from fercourse.models import predict_proba

    try:
        return predict_proba(model, images).argmax(axis=1)
    except FercourseError as error:  # the model is not a seven-class face classifier: says which way
        raise ModelFileError(f"{name} is not a face classifier: {error}") from None
    except Exception as error:  # noqa: BLE001 - a student's model may fail in any way
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise ModelFileError(f"{name} could not predict the {len(images)} test faces: "
                             f"{type(error).__name__} {reason}".rstrip()) from None


def read_test_set(path: str | Path, state: GradingState | None = None) -> tuple[list[str], np.ndarray]:
    """The released test set's ids and uint8 faces ``(n, 48, 48)``, read once per file version.

    Read with :func:`fercourse.data.readers.read_csv` (no cache written), as the notebook's
    ``load(data_dir).test`` reads the student's copy of the same file. The last one read is kept
    in ``state`` (default: this process's :class:`~fercourse.grading.plugins.state.GradingState`).
    """
    from fercourse.data.readers import read_csv

    state = state or PROCESS_STATE

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no released test set (expected source/<assignment>/data/test.csv, "
                                "written by `fercourse grade setup`)")
    signature = (str(path.resolve()), stat_signature(path.resolve()))
    if state.test_set is None or state.test_set[0] != signature:
        raw = read_csv(path)
        state.test_set = (signature, [str(i) for i in raw.ids], raw.images)
    return state.test_set[1], state.test_set[2]


def agreement(predicted: Mapping[str, int], submitted: Mapping[str, int]) -> float:
    """Share of the model's test ids whose submitted label equals the model's (a missing id disagrees).

    Examples
    --------
    >>> agreement({"a": 3, "b": 6, "c": 0, "d": 3}, {"a": 3, "b": 6, "c": 0, "d": 4})
    0.75
    """
    if not predicted:
        return 0.0
    return sum(submitted.get(key) == int(label) for key, label in predicted.items()) / len(predicted)


def check_model_explains_csv(model_data: bytes | None, ids, images: np.ndarray, submitted: Mapping[str, int],
                             *, name: str = "cnn.keras", csv_name: str = "submission.csv",
                             min_agreement: float = MIN_AGREEMENT,
                             max_bytes: int = MAX_MODEL_BYTES) -> ModelCheck:
    """Whether the submitted model's predictions on the test faces are the submitted CSV's labels.

    Parameters
    ----------
    model_data : bytes or None
        The model file's bytes; None when none was submitted.
    ids, images : sequence of str, ndarray
        The released test set: ids and uint8 faces ``(n, 48, 48)``.
    submitted : mapping
        id -> label of the submitted CSV (already checked valid).
    min_agreement : float
        Smallest share of ids on which they must agree.

    Returns
    -------
    ModelCheck
        ``explained`` True when the agreement reaches ``min_agreement``; a feedback ``message``
        either way. A missing, oversized, damaged or refused file is not explained.
    """
    needed = f"at least {min_agreement:.0%} needed"
    if model_data is None:
        return ModelCheck(False, None, f"accuracy points withheld: no {name} was submitted, so nothing shows "
                                       f"that {csv_name} comes from your model (submit both)")
    try:
        model = load_submitted_model(model_data, name, max_bytes)
        labels = predict_labels(model, images, name)
    except ModelFileError as error:
        return ModelCheck(False, None, f"accuracy points withheld: {error}")
    share = agreement(dict(zip(ids, labels.tolist())), submitted)
    if share >= min_agreement:
        return ModelCheck(True, share, f"{csv_name} is what the submitted {name} predicts (they agree on "
                                       f"{share:.1%} of {len(ids)} test faces)")
    return ModelCheck(False, share, f"accuracy points withheld: {csv_name} is not what the submitted {name} "
                                    f"predicts (they agree on {share:.1%} of {len(ids)} test faces; "
                                    f"{needed})")

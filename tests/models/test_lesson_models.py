"""The networks lessons 03, 04 and 05 write with ``keras.layers`` are the ones their package builders make.

A lesson writes its model inline, then introduces the package builder as "the same network,
packaged". Each lesson tags the cells that define its networks ``lesson-model``. The test runs the lesson's
imports and parameters cells and then only those cells (no data is loaded, nothing is trained;
a few seconds), and compares each network with ``build_model(...)``: the same layer types in the
same order, the same parameters per layer, the same input and output shapes, the same optimizer and
loss. A lesson edit or a builder edit that makes them drift fails here.
"""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TAG = "lesson-model"

# (lesson, expression evaluated after its tagged cells, build_model arguments of the packaged network)
CASES = [
    ("03_mlp", "model", {"name": "mlp", "hidden_sizes": (512, 256), "dropout_rate": 0.3}),
    ("04_recurrent", "lstm", {"name": "lstm"}),
    ("04_recurrent", "gru", {"name": "gru_attention"}),
    ("05_cnn", "simple_cnn()", {"name": "cnn", "variant": "simple"}),
    ("05_cnn", "bn_cnn()", {"name": "cnn", "variant": "bn"}),
]


@functools.cache
def lesson_namespace(stem: str) -> dict:
    """The lesson's names after its imports cell, its parameters cell and its ``lesson-model`` cells."""
    notebook = nbformat.read(REPO_ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    tagged = [cell for cell in code if TAG in cell.metadata.get("tags", [])]
    if not tagged:
        raise AssertionError(f"{stem}: no code cell tagged {TAG!r}")
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the cells print model summaries
        for cell in [code[0], code[1], *tagged]:  # imports, parameters (checked in test_notebooks.py)
            exec(compile(cell.source, f"{stem}.ipynb", "exec"), namespace)  # noqa: S102 - our lesson
    return namespace


def signature(model) -> dict:
    """What two copies of one network share: layers (but the input), parameters, shapes, optimizer, loss."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    compiled = {
        "layer types": [type(layer).__name__ for layer in layers],
        "parameters per layer": [layer.count_params() for layer in layers],
        "parameters": model.count_params(),
        "input": tuple(model.input_shape),
        "output": tuple(model.output_shape),
    }
    if getattr(model, "optimizer", None) is not None:  # compiled (lesson 3 compiles in a later cell)
        compiled["optimizer"] = type(model.optimizer).__name__
        compiled["loss"] = model.loss if isinstance(model.loss, str) else type(model.loss).__name__
    return compiled


@pytest.mark.parametrize(("stem", "expression", "builder"), CASES,
                         ids=[f"{stem}-{spec.get('variant', spec['name'])}" for stem, _, spec in CASES])
def test_lesson_network_is_the_packaged_one(stem, expression, builder):
    from fercourse.models import build_model

    written = eval(expression, lesson_namespace(stem))  # noqa: S307 - a name or a call from our lesson
    packaged = signature(build_model(**builder, seed=0))
    if "optimizer" not in (written := signature(written)):  # compared where the lesson compiles it
        packaged = {key: value for key, value in packaged.items() if key not in ("optimizer", "loss")}
    assert written == packaged, \
        f"{stem}: {expression} drifted from build_model({builder})"


def test_the_comparison_tells_networks_apart():
    from fercourse.models import build_model

    simple = eval("simple_cnn()", lesson_namespace("05_cnn"))  # noqa: S307
    bn = signature(build_model("cnn", variant="bn"))
    assert signature(simple)["layer types"] != bn["layer types"]
    wider = signature(build_model("cnn", variant="simple", width=16))
    assert wider["layer types"] == signature(simple)["layer types"]
    assert wider["parameters"] != signature(simple)["parameters"]  # same layers, other sizes: caught too

"""Each network a lesson writes with Keras layers is the network its package builder builds.

A lesson writes its model inline, in code cells tagged ``lesson-model``, then introduces the package
builder as "the same network, packaged". This test runs the lesson's imports cell, its parameters cell
and its tagged cells (no data, no training, no notebook kernel), builds the named builder call, and
compares the two layer by layer: the same layer types in the same order, the same parameter count
per layer and in total. So the lesson and the package cannot drift apart.

To tie another lesson to its builder, add a row to :data:`LESSON_MODELS`. The tagged cells may use
only names from the lesson's imports and parameters cells (never the data), and must leave the model
in the variable the row names. The builder call must appear verbatim in the lesson, so the lesson
names the builder the test checks.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

LESSON_MODELS = [
    # (lesson notebook, cell tag, variable holding the inline model, the package builder call)
    ("03_mlp.ipynb", "lesson-model", "model",
     'build_model("mlp", hidden_sizes=(512, 256), dropout_rate=0.3)'),
]


def lesson_namespace(notebook: str, tag: str) -> dict:
    """The names a lesson defines after its imports cell, its parameters cell and its ``tag`` cells."""
    cells = [cell for cell in nbformat.read(REPO_ROOT / "notebooks" / notebook, as_version=4).cells
             if cell.cell_type == "code"]
    tagged = [cell for cell in cells if tag in cell.metadata.get("tags", [])]
    if not tagged:
        raise AssertionError(f"{notebook}: no code cell tagged {tag!r}")
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in [cells[0], cells[1], *tagged]:  # imports, parameters, the model
            exec(compile(cell.source, f"{notebook}[{cells.index(cell)}]", "exec"), namespace)
    return namespace


def layer_signature(model) -> list[tuple[str, int]]:
    """(layer type, parameter count) of every layer but the input, in order."""
    return [(type(layer).__name__, layer.count_params()) for layer in model.layers
            if type(layer).__name__ != "InputLayer"]


@pytest.mark.parametrize("notebook, tag, variable, builder_call", LESSON_MODELS,
                         ids=[row[0].removesuffix(".ipynb") for row in LESSON_MODELS])
def test_inline_model_matches_its_package_builder(notebook, tag, variable, builder_call):
    text = " ".join(cell.source for cell in nbformat.read(REPO_ROOT / "notebooks" / notebook,
                                                        as_version=4).cells)
    assert builder_call in text, f"{notebook} never names the builder call {builder_call}"
    namespace = lesson_namespace(notebook, tag)
    assert variable in namespace, f"{notebook}: the {tag!r} cells define no {variable!r}"
    inline = namespace[variable]
    packaged = eval(builder_call, namespace)  # the lesson's own imports resolve the builder
    assert layer_signature(inline) == layer_signature(packaged)
    assert inline.count_params() == packaged.count_params()
    assert inline.input_shape == packaged.input_shape and inline.output_shape == packaged.output_shape


def test_signature_tells_different_networks_apart():
    from fercourse.models import build_model

    narrow = build_model("mlp", hidden_sizes=(64, 32), dropout_rate=0.3)
    wide = build_model("mlp", hidden_sizes=(64, 33), dropout_rate=0.3)
    no_dropout = build_model("mlp", hidden_sizes=(64, 32), dropout_rate=0.0)
    assert layer_signature(narrow) != layer_signature(wide)
    assert [name for name, _ in layer_signature(narrow)] != [name for name, _ in layer_signature(no_dropout)]

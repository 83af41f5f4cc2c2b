"""Lesson 4's attention over rows: the written network is the packaged one, and the occlusion check
tells a model that needs the rows its weights favour from one that does not."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import keras
import nbformat
import numpy as np

from fercourse.models.lesson_paths import lesson_model_path
from fercourse.models.occlusion import attention_weights, occlusion_check
from fercourse.models.row_attention import row_attention_model

REPO_ROOT = Path(__file__).resolve().parents[2]


def _layers(model) -> list[tuple[str, int]]:
    return [(type(layer).__name__, layer.count_params()) for layer in model.layers]


def test_lesson_4_writes_the_packaged_row_attention_network():
    notebook = nbformat.read(REPO_ROOT / "notebooks" / "04_recurrent.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    tagged = [cell for cell in code if "lesson-model" in cell.metadata.get("tags", [])]
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in [code[0], code[1], *tagged]:
            exec(compile(cell.source, "04_recurrent.ipynb", "exec"), namespace)  # noqa: S102 - our lesson
    written, packaged = namespace["row_attention"], row_attention_model(seed=0)
    assert _layers(written) == _layers(packaged)
    assert written.count_params() == packaged.count_params() == 96 * 49 + 48 * 96 + 96 * 64 + 64 + 64 \
        + 96 * 64 + 64 + 64 * 7 + 7


def test_attention_weights_are_one_per_row_and_sum_to_one():
    model = row_attention_model(seed=0)
    faces = np.random.default_rng(0).uniform(size=(5, 48, 48)).astype("float32")
    weights = attention_weights(model, faces, batch_size=2)
    assert weights.shape == (5, 48)
    np.testing.assert_allclose(weights.sum(axis=1), 1, atol=1e-5)


def _reads_row_5():
    """A fixed model that predicts class 0 when row 5 is bright (mean over 0.75), else class 1."""
    inputs = keras.Input((48, 48))
    row = keras.layers.Lambda(lambda faces: faces[:, 5, :])(inputs)
    dense = keras.layers.Dense(7)
    outputs = dense(row)
    kernel = np.zeros((48, 7), "float32")
    kernel[:, 0], kernel[:, 1] = 1.0, -1.0
    bias = np.full(7, -1e3, "float32")
    bias[0], bias[1] = -36.0, 36.0
    dense.set_weights([kernel, bias])
    return keras.Model(inputs, outputs)


def test_occlusion_check_finds_the_row_a_model_needs():
    rng = np.random.default_rng(0)
    faces = rng.uniform(0.3, 0.7, size=(400, 48, 48)).astype("float32")
    faces[:200, 5] = 0.9  # bright row 5: class 0
    faces[200:, 5] = 0.6  # class 1; a face's mean grey (0.5) reads as class 1
    labels = np.repeat([0, 1], 200)
    model = _reads_row_5()
    honest = np.full((400, 48), 0.5 / 47)
    honest[:, 5] = 0.5  # weights that point at the row the model reads
    misleading = np.full((400, 48), 0.5 / 47)
    misleading[:, 40] = 0.5  # weights that point elsewhere
    told = occlusion_check(model, faces, labels, honest, rows=8, seed=0)
    assert told["as is"] == 1.0
    assert told["drop, most-weighted"] > 0.3 > told["drop, random"]
    fooled = occlusion_check(model, faces, labels, misleading, rows=1, seed=0)
    assert fooled["drop, most-weighted"] == 0.0


def test_cnn_lesson_saves_one_file_per_data_source_and_variant():
    notebook = nbformat.read(REPO_ROOT / "notebooks" / "05_cnn.ipynb", as_version=4)
    parameters = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    assert "model_path = None" in parameters.source
    cells = "\n".join(cell.source for cell in notebook.cells)
    assert "lesson_model_path(data, cnn_variant, quick=quick)" in cells
    sources = ("sample", "fer2013", "/a/train.csv", "/b/train.csv")
    paths = {lesson_model_path(data, variant) for data in sources for variant in ("simple", "bn")}
    assert len(paths) == 8
    assert lesson_model_path("sample", "bn", quick=True) != lesson_model_path("sample", "bn")

"""fercourse.data.shapes: one face size, one table of layouts, one function that shapes a batch."""

from __future__ import annotations

import numpy as np
import pytest

from fercourse.data import readers
from fercourse.data.shapes import IMAGE_SIZE, LAYOUTS, NUM_PIXELS, as_faces, layout_of, to_float, to_layout
from fercourse.models import KERAS_MODELS, model_input
from fercourse.models.keras_models import MODEL_LAYOUTS

FACES = np.arange(2 * 48 * 48).reshape(2, 48, 48).astype(np.uint8)


def test_one_face_size_for_parsing_and_models():
    assert (IMAGE_SIZE, NUM_PIXELS) == (48, 2304)
    assert (readers.IMAGE_SIZE, readers.NUM_PIXELS) == (IMAGE_SIZE, NUM_PIXELS)
    assert LAYOUTS == {"flat": (2304,), "sequence": (48, 48), "image": (48, 48, 1)}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_to_layout_scales_and_shapes_and_round_trips(layout):
    shaped = to_layout(FACES, layout)
    assert shaped.shape == (2, *LAYOUTS[layout]) and shaped.dtype == np.float32
    assert shaped.reshape(2, -1)[1, 5] == pytest.approx(FACES[1].ravel()[5] / 255)
    # Every layout holds the same pixels: as_faces undoes it, and shaping it again changes nothing.
    np.testing.assert_array_equal(as_faces(shaped), FACES / np.float32(255))
    np.testing.assert_array_equal(to_layout(shaped, "image"), to_layout(FACES, "image"))


def test_to_float_copies_and_does_not_scale_twice():
    pixels = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    scaled = to_float(pixels)
    assert scaled.tolist() == [[0.0, 0.5, 1.0]] and scaled is not pixels
    scaled[0, 0] = 9
    assert pixels[0, 0] == 0.0
    assert to_float(np.array([[0.0, 127.5, 255.0]])).tolist() == [[0.0, 0.5, 1.0]]  # 0-255 floats
    assert to_float(np.array([[0, 1]], dtype=np.int64)).tolist() == [[0.0, np.float32(1 / 255)]]


def test_bad_shapes_and_layout_names_are_named():
    with pytest.raises(ValueError, match=r"crops have shape \(3, 32, 32\): expected \(n, 48, 48\), "
                                         r"\(n, 48, 48, 1\) or \(n, 2304\) faces"):
        as_faces(np.zeros((3, 32, 32)), "crops")
    with pytest.raises(ValueError, match=r"shape \(48, 48\): expected \(n, 48, 48, 1\) faces"):
        as_faces(np.zeros((48, 48)), layouts=("image",))  # one face without its batch axis
    with pytest.raises(ValueError, match="layout 'rgb' is unknown: expected one of flat, sequence, image"):
        to_layout(FACES, "rgb")
    with pytest.raises(ValueError, match=r"per-face shape \(64, 64, 1\) is not a face layout"):
        layout_of((64, 64, 1))


def test_model_input_is_the_layout_of_its_model():
    assert [layout_of(model_input(name, FACES).shape[1:]) for name in KERAS_MODELS] == \
        [MODEL_LAYOUTS[name] for name in KERAS_MODELS] == ["flat", "sequence", "sequence", "image"]
    np.testing.assert_array_equal(model_input("cnn", FACES[..., None]), to_layout(FACES, "image"))

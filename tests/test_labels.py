"""The canonical label order and every alias, checked against what the Kaggle CSV and folders use."""

import numpy as np
import pytest

from fercourse import labels


def test_canonical_order_is_the_kaggle_csv_order():
    assert labels.EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert labels.NUM_CLASSES == 7


@pytest.mark.parametrize("alias, expected", [
    ("disgusted", 1), ("fearful", 2), ("surprised", 5), ("happiness", 3), ("sadness", 4),
    ("anger", 0), ("ANGRY", 0), ("Neutral", 6), (" Happy ", 3),
])
def test_aliases_map_to_canonical_indices(alias, expected):
    assert labels.to_index(alias) == expected


def test_unknown_name_is_an_error_that_names_it():
    with pytest.raises(ValueError, match="'contempt'"):
        labels.to_index("contempt")


def test_out_of_range_integer_is_rejected():
    with pytest.raises(ValueError, match="out of range"):
        labels.to_index(7)
    with pytest.raises(TypeError):
        labels.to_index(2.5)


def test_folder_order_maps_back_to_canonical():
    # Keras numbers folders alphabetically: neutral is 4 there but 6 canonically.
    folder_labels = np.arange(7)
    canonical = labels.folder_to_canonical(folder_labels)
    assert [labels.EMOTIONS[i] for i in canonical] == list(labels.FOLDER_ORDER)
    assert canonical.tolist() == [0, 1, 2, 3, 6, 4, 5]


def test_one_colour_per_emotion_as_hex_and_rgb():
    assert len(set(labels.EMOTION_COLORS)) == labels.NUM_CLASSES
    assert labels.emotion_color("Happiness") == labels.emotion_color(3) == labels.EMOTION_COLORS[3]
    assert labels.EMOTION_COLORS[3] == "#ff7f0e"
    assert labels.emotion_rgb("disgusted") == (44, 160, 44)
    assert labels.emotion_rgb(6) == (127, 127, 127)
    with pytest.raises(ValueError, match="'contempt'"):
        labels.emotion_rgb("contempt")

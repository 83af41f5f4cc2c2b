"""The real FER2013 copy beside the checkout (skipped when absent): counts, label mapping, round trip."""

import numpy as np
import pytest

from fercourse.data import find_duplicates, load
from fercourse.data.writers import save
from fercourse.labels import EMOTIONS

pytestmark = pytest.mark.fer2013

README_TRAIN = {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "neutral": 4965, "sad": 4830,
                "surprise": 3171}
README_TEST = {"angry": 467, "disgust": 56, "fear": 496, "happy": 895, "neutral": 607, "sad": 653,
               "surprise": 415}


@pytest.fixture(scope="module")
def fer2013(fer2013_root):
    return load(fer2013_root)


def test_split_sizes_and_per_class_counts_match_the_readme(fer2013):
    assert len(fer2013.train) == 28_709 and len(fer2013.test) == 3_589
    assert fer2013.train.counts() == README_TRAIN
    assert fer2013.test.counts() == README_TEST
    assert fer2013.train.images.shape == (28_709, 48, 48) and fer2013.converted == 0


def test_every_label_matches_its_folder_name(fer2013, fer2013_root):
    for split_name, split in (("train", fer2013.train), ("test", fer2013.test)):
        on_disk = {f"{path.parent.name}/{path.stem}" for path in (fer2013_root / split_name).glob("*/*")}
        assert set(split.ids) == on_disk  # every file, once
        names = [EMOTIONS[label] for label in split.labels]
        assert names == [image_id.split("/")[0] for image_id in split.ids]


def test_test_images_that_also_appear_in_train_are_counted(fer2013):
    report = find_duplicates(fer2013)
    assert report.across["test"] > 0 and report.within["train"] > 0


@pytest.mark.slow
def test_folders_to_kaggle_csv_round_trip(fer2013, tmp_path):
    csv_path = save(fer2013, tmp_path, "kaggle-csv")[0]
    reloaded = load(csv_path, cache=False)
    assert list(reloaded.splits) == ["train", "test"]
    for name in ("train", "test"):
        np.testing.assert_array_equal(reloaded[name].images, fer2013[name].images)
        np.testing.assert_array_equal(reloaded[name].labels, fer2013[name].labels)

"""fercourse.data.perturb (the robustness sweep's perturbations) and its figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fercourse.data import load, perturb
from fercourse.errors import InputError


@pytest.fixture(scope="module")
def faces():
    return load("sample", n_train=70, n_test=14).test.X


@pytest.mark.parametrize("name", sorted(perturb.PERTURBATIONS))
def test_every_perturbation_keeps_shape_and_dtype_and_leaves_the_input_alone(faces, name):
    before = faces.copy()
    for level in perturb.DEFAULT_SWEEP[name]:
        out = perturb.perturb(faces, name, level)
        assert out.shape == faces.shape and out.dtype == np.uint8
        assert (out != faces).any(), f"{name} {level} changed nothing"
        assert out is not faces and not np.shares_memory(out, faces)
    assert (faces == before).all()


@pytest.mark.parametrize("name", ["shift", "flip", "rotation", "brightness", "blur", "sunglasses", "mask"])
def test_level_zero_is_the_identity(faces, name):
    assert (perturb.perturb(faces, name, 0) == faces).all()


def test_shift_moves_content_down_and_right_with_edges_repeated(faces):
    moved = perturb.shift(faces, 2)
    assert (moved[:, 2:, 2:] == faces[:, :-2, :-2]).all()
    assert (moved[:, 0, 2:] == faces[:, 0, :-2]).all()  # the uncovered top row repeats the edge
    assert (perturb.shift(faces, -3)[:, :-3, :-3] == faces[:, 3:, 3:]).all()


def test_rotation_by_90_degrees_turns_a_horizontal_bar_upright():
    bar = np.zeros((1, 48, 48), dtype=np.uint8)
    bar[0, 22:26, 6:42] = 255
    upright = perturb.rotate(bar, 90)[0]
    assert upright[8:40, 22:26].min() > 200 and upright[24, 4:16].max() < 50


def test_rotation_fills_corners_from_the_border_not_black():
    grey = np.full((1, 48, 48), 128, dtype=np.uint8)
    assert (perturb.rotate(grey, 30) == 128).all()


def test_brightness_clips_and_blur_smooths_and_jpeg_degrades_with_quality(faces):
    assert perturb.brightness(faces, 255).min() == 255 and perturb.brightness(faces, -255).max() == 0
    noise = np.random.default_rng(0).integers(0, 256, (3, 48, 48)).astype(np.uint8)
    assert perturb.blur(noise, 2.0).std() < perturb.blur(noise, 0.5).std() < noise.std()
    error = [np.abs(perturb.jpeg(noise, q).astype(int) - noise).mean() for q in (90, 50, 10)]
    assert error[0] < error[1] < error[2]


def test_occluders_cover_their_rows_only(faces):
    top, bottom = perturb.EYE_ROWS
    covered = perturb.sunglasses(faces)
    assert (covered[:, top:bottom] == 20).all()
    assert (covered[:, :top] == faces[:, :top]).all() and (covered[:, bottom:] == faces[:, bottom:]).all()
    top, bottom = perturb.MOUTH_ROWS
    assert (perturb.mask(faces)[:, top:bottom] == 225).all()
    assert (perturb.mask(faces)[:, :top] == faces[:, :top]).all()


def test_bad_input_names_what_was_expected(faces):
    with pytest.raises(InputError, match="perturbation 'tilt' is unknown: expected one of shift, flip"):
        perturb.perturb(faces, "tilt", 1)
    with pytest.raises(InputError, match="dtype float64: expected uint8 faces"):
        perturb.flip(faces / 255.0)
    with pytest.raises(InputError, match="JPEG quality is 0: expected 1-95"):
        perturb.jpeg(faces, 0)
    with pytest.raises(InputError, match="brightness offset is 300"):
        perturb.brightness(faces, 300)
    with pytest.raises(InputError, match="expected one label per face, \\(14,\\)"):
        perturb.robustness(lambda x: np.zeros(len(x)), faces, np.zeros(3))


def test_robustness_scores_every_condition_against_the_clean_faces(faces):
    labels = np.arange(len(faces)) % 7
    calls = []

    def oracle(images):  # right on the clean faces only: any change of pixels makes it wrong
        calls.append(len(images))
        same = (images == faces).all(axis=(1, 2))
        return np.where(same, labels, (labels + 1) % 7)

    table = perturb.robustness(oracle, faces, labels, {"shift": (1, 2), "flip": (1,)})
    assert list(table["perturbation"]) == ["none", "shift", "shift", "flip"]
    assert list(table["level"]) == [0.0, 1.0, 2.0, 1.0]
    assert table["accuracy"].iloc[0] == 1.0 and (table["accuracy"].iloc[1:] < 1.0).all()
    assert np.allclose(table["change"], table["accuracy"] - 1.0)
    assert calls == [len(faces)] * 4
    default = perturb.robustness(oracle, faces, labels)
    assert len(default) == 1 + sum(len(levels) for levels in perturb.DEFAULT_SWEEP.values())


def test_robustness_figure_has_a_panel_per_perturbation_and_a_line_per_model(faces):
    import matplotlib

    matplotlib.use("Agg")
    from fercourse.plotting.robustness_plots import plot_perturbed_faces, plot_robustness

    labels = np.arange(len(faces)) % 7
    tables = {name: perturb.robustness(lambda x, k=k: (labels + k * (x[:, 0, 0] % 2)) % 7, faces, labels)
              for k, name in enumerate(("forest", "cnn"))}
    fig = plot_robustness(tables)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["shift (pixels)", "rotation (degrees)", "brightness (grey levels)",
                      "blur (sigma, pixels)", "JPEG quality (lower: blockier)", "flip and occluders"]
    assert [line.get_label() for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")] \
        == ["forest", "cnn"]
    assert len(fig.axes[0].get_lines()[0].get_xdata()) == 5  # level 0 (clean) plus four shifts
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()] == ["clean", "flip", "sunglasses", "mask"]
    with pytest.raises(InputError, match="missing columns \\['accuracy'\\]"):
        plot_robustness({"bad": pd.DataFrame({"perturbation": ["none"], "level": [0.0]})})
    ax = plot_perturbed_faces(faces[0], [("shift 2", perturb.shift(faces[:1], 2)[0])])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["clean", "shift 2"]

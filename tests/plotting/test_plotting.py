"""Every plot returns what it drew on, draws real content, and saves a non-empty PNG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fercourse import plotting
from fercourse.labels import EMOTIONS


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _save(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > 2000, f"{name}: PNG suspiciously small"
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    return path


@pytest.fixture(scope="module")
def data():
    from fercourse.data import load

    return load("sample", n_train=350, n_test=70)


def test_use_plot_style_only_changes_rcparams_when_called():
    import importlib

    before = matplotlib.rcParams["axes.spines.top"]
    importlib.reload(plotting)
    assert matplotlib.rcParams["axes.spines.top"] == before
    with matplotlib.rc_context():
        plotting.use_plot_style()
        assert matplotlib.rcParams["axes.spines.top"] is False
        assert matplotlib.rcParams["image.cmap"] == "gray"


def test_class_distribution_one_bar_per_class_and_split(data, tmp_path):
    fig, ax = plt.subplots()
    assert plotting.plot_class_distribution(data, ax=ax) is ax
    heights = [patch.get_height() for patch in ax.patches]
    assert len(heights) == 14
    assert heights[:7] == list(np.bincount(data.train.labels, minlength=7))
    assert [t.get_text() for t in ax.get_xticklabels()] == list(EMOTIONS)
    _save(fig, tmp_path, "distribution")


def test_class_distribution_rejects_unlabelled():
    with pytest.raises(ValueError, match="labelled split"):
        plotting.plot_class_distribution(object())


def test_sample_grid_rows_per_class(data, tmp_path):
    ax = plotting.plot_sample_grid(data.train.images, data.train.labels, per_class=4)
    image = ax.get_images()[0].get_array()
    assert image.shape == (7 * 50 - 2, 4 * 50 - 2)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[1].startswith("disgust (") and len(labels) == 7
    _save(ax.figure, tmp_path, "grid")


def test_sample_grid_bad_shapes():
    with pytest.raises(ValueError, match=r"images have shape \(3, 32, 32\): expected \(n, 48, 48\), "
                                         r"\(n, 48, 48, 1\) or \(n, 2304\) faces"):
        plotting.plot_sample_grid(np.zeros((3, 32, 32)), np.zeros(3, int))
    with pytest.raises(ValueError, match="labels: expected 3 integer labels"):
        plotting.plot_sample_grid(np.zeros((3, 48, 48)), np.zeros(4, int))
    with pytest.raises(ValueError, match="class indices 0-6"):
        plotting.plot_sample_grid(np.zeros((2, 48, 48)), np.array([0, 7]))


def test_pixel_histogram_overall_and_per_class(data, tmp_path):
    ax = plotting.plot_pixel_histogram(data.train.images)
    assert len(ax.patches) == 32
    ax2 = plotting.plot_pixel_histogram(data.train.images, data.train.labels)
    assert len(ax2.lines) == len(np.unique(data.train.labels))
    _save(ax2.figure, tmp_path, "histogram")


def test_mean_faces_match_numpy(data, tmp_path):
    ax = plotting.plot_mean_faces(data.train.images, data.train.labels)
    canvas = ax.get_images()[0].get_array()
    happy = data.train.images[data.train.labels == 3].mean(axis=0)
    np.testing.assert_allclose(canvas[:48, 3 * 50:3 * 50 + 48], happy)
    _save(ax.figure, tmp_path, "mean_faces")


def test_pca_variance_curve_monotone(data, tmp_path):
    ax = plotting.plot_pca_variance(data.train.images, n_components=50)
    curve = ax.lines[0].get_ydata()
    assert len(curve) == 50 and np.all(np.diff(curve) >= 0) and curve[-1] <= 1.0 + 1e-6
    _save(ax.figure, tmp_path, "pca")


def test_eigenfaces_and_reconstructions(data, tmp_path):
    from sklearn.decomposition import PCA

    from fercourse.data import as_flat

    pca = PCA(60, random_state=0).fit(as_flat(data.train.images))
    ax = plotting.plot_eigenfaces(pca, n=5)
    canvas = ax.get_images()[0].get_array()
    np.testing.assert_allclose(canvas[:48, :48], pca.mean_.reshape(48, 48) * 255, rtol=1e-5)
    _save(ax.figure, tmp_path, "eigenfaces")
    faces = data.train.images[:4]
    errors = [np.mean((plotting.reconstruct(pca, faces, k) - faces / 255) ** 2) for k in (1, 10, 60)]
    assert errors[0] > errors[1] > errors[2]  # more components, closer faces
    ax = plotting.plot_reconstructions(pca, faces, n_components=(5, 60))
    assert [label.get_text() for label in ax.get_yticklabels()] == ["original", "k = 5", "k = 60"]
    np.testing.assert_allclose(ax.get_images()[0].get_array()[:48, :48], faces[0] / 255, rtol=1e-6)
    _save(ax.figure, tmp_path, "reconstructions")
    with pytest.raises(ValueError, match="n_components is 61: expected 1 to 60"):
        plotting.reconstruct(pca, faces, 61)
    with pytest.raises(ValueError, match="pca: expected a scikit-learn PCA fitted on flat 48x48 faces"):
        plotting.plot_eigenfaces(PCA(2).fit(np.eye(5)))


def test_seed_spread_bars_are_means_with_std_errors(tmp_path):
    import pandas as pd

    runs = pd.DataFrame({"setting": ["none", "none", "none", "dropout", "dropout", "dropout"],
                         "val macro-F1": [0.2, 0.3, 0.4, 0.5, 0.5, 0.5]})
    ax = plotting.plot_seed_spread(runs, "val macro-F1")
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([0.3, 0.5])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["none", "dropout"]
    error_segments = ax.collections[0].get_segments()  # the error bars, one vertical segment per bar
    assert error_segments[0][:, 1] == pytest.approx([0.2, 0.4]) and error_segments[1][:, 1] == pytest.approx(
        [0.5, 0.5])
    assert "over 3 seeds" in ax.get_title()
    _save(ax.figure, tmp_path, "seed_spread")
    with pytest.raises(ValueError, match="missing 'accuracy'"):
        plotting.plot_seed_spread(runs, "accuracy")


def test_experiment_runs_plot_means_seeds_and_arms_not_run_yet(tmp_path):
    import pandas as pd

    runs = pd.DataFrame({"arm": ["base", "base", "base", "crops"],
                         "test accuracy": [0.60, 0.61, 0.62, 0.64], "val accuracy": [0.61, 0.62, 0.63, None]})
    ax = plotting.plot_experiment_runs(runs, arms=["base", "crops", "smoothing"], labels={"base": "lesson 5"})
    assert [label.get_text() for label in ax.get_xticklabels()] == ["lesson 5", "crops",
                                                                     "smoothing\n(not run yet)"]
    test_line, val_line = (line for line in ax.get_lines() if line.get_label().endswith("dots: seeds)"))
    assert test_line.get_ydata()[:2] == pytest.approx([0.61, 0.64])  # the means, joined arm after arm
    assert np.isnan(test_line.get_ydata()[2]) and np.isnan(val_line.get_ydata()[1])  # nothing to draw
    assert ax.get_ylim()[0] > 0.5  # zoomed to the values, so a point's difference shows
    _save(ax.figure, tmp_path, "experiment_runs")
    empty = plotting.plot_experiment_runs(runs.iloc[:0], arms=["base"])
    assert [text.get_text() for text in empty.texts] == ["nothing recorded yet"]
    with pytest.raises(ValueError, match="missing 'val accuracy'"):
        plotting.plot_experiment_runs(runs.drop(columns="val accuracy"))


def test_training_curves_from_dict(tmp_path):
    history = {"loss": [1.9, 1.5, 1.2], "val_loss": [1.8, 1.6, 1.7],
               "accuracy": [0.2, 0.4, 0.5], "val_accuracy": [0.25, 0.35, 0.33]}
    fig = plotting.plot_training_curves(history)
    loss_ax, acc_ax = fig.axes
    assert list(loss_ax.lines[0].get_ydata()) == history["loss"]
    assert "epoch 2" in loss_ax.get_legend().get_texts()[-1].get_text()
    assert list(acc_ax.lines[1].get_ydata()) == history["val_accuracy"]
    _save(fig, tmp_path, "curves")
    with pytest.raises(ValueError, match="history: expected a keras History"):
        plotting.plot_training_curves({"accuracy": [1]})


def test_confusion_matrix_counts_and_normalised(tmp_path):
    y_true = np.array([0, 0, 1, 3, 3, 3])
    y_pred = np.array([0, 3, 3, 3, 3, 6])
    ax = plotting.plot_confusion_matrix(y_true, y_pred)
    matrix = ax.get_images()[0].get_array()
    assert matrix[0, 0] == 1 and matrix[0, 3] == 1 and matrix[3, 3] == 2 and matrix.sum() == 6
    _save(ax.figure, tmp_path, "confusion")
    ax2 = plotting.plot_confusion_matrix(y_true, y_pred, normalize=True)
    normalised = ax2.get_images()[0].get_array()
    np.testing.assert_allclose(normalised[3], [0, 0, 0, 2 / 3, 0, 0, 1 / 3])
    assert normalised[2].sum() == 0  # an empty class row stays zero, not NaN


def test_per_class_metrics_from_labels_and_table(tmp_path):
    import pandas as pd
    from sklearn.metrics import recall_score

    y_true = np.array([0, 1, 2, 3, 4, 5, 6, 3])
    y_pred = np.array([0, 1, 2, 3, 4, 5, 5, 6])
    ax = plotting.plot_per_class_metrics(y_true, y_pred)
    recall_bars = [p.get_height() for p in ax.patches[7:14]]
    np.testing.assert_allclose(recall_bars, recall_score(y_true, y_pred, average=None))
    _save(ax.figure, tmp_path, "per_class")
    table = pd.DataFrame({"precision": np.ones(7), "recall": np.full(7, 0.5), "f1": np.zeros(7)},
                         index=EMOTIONS)
    ax2 = plotting.plot_per_class_metrics({"per_class": table})
    assert [p.get_height() for p in ax2.patches[7:14]] == [0.5] * 7
    with pytest.raises(ValueError, match="y_pred: needed"):
        plotting.plot_per_class_metrics(y_true)


def test_per_class_metrics_plots_what_evaluate_measured():
    from fercourse.evaluate import evaluate

    y_true, y_pred = np.array([0, 0, 1, 3, 3, 3, 6]), np.array([0, 3, 1, 3, 3, 6, 6])
    result = evaluate(y_true, y_pred, split="test")
    for source in ((y_true, y_pred), (result,), (result["per_class"],)):
        ax = plotting.plot_per_class_metrics(*source)
        heights = np.array([bar.get_height() for bar in ax.patches]).reshape(3, 7)
        expected = result["per_class"][["precision", "recall", "f1"]].to_numpy().T
        np.testing.assert_array_equal(heights, expected)
        plt.close(ax.figure)


def test_rf_importance_heatmap(data, tmp_path):
    from sklearn.ensemble import RandomForestClassifier

    flat = data.train.images.reshape(len(data.train), -1) / 255.0
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(flat, data.train.labels)
    ax = plotting.plot_rf_importance(forest)
    np.testing.assert_allclose(ax.get_images()[0].get_array(), forest.feature_importances_.reshape(48, 48))
    _save(ax.figure, tmp_path, "rf_importance")
    with pytest.raises(ValueError, match="2304"):
        plotting.plot_rf_importance(np.ones(50))


def test_roc_curves_auc_in_legend(tmp_path):
    rng = np.random.default_rng(0)
    y_true = np.repeat(np.arange(7), 10)
    proba = rng.random((70, 7)) * 0.1
    proba[np.arange(70), y_true] += 0.5  # every positive outranks every negative: each AUC is 1.00
    proba /= proba.sum(axis=1, keepdims=True)
    ax = plotting.plot_roc_curves(y_true, proba)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:7] == [f"{name} (AUC 1.00)" for name in EMOTIONS]
    _save(ax.figure, tmp_path, "roc")
    with pytest.raises(ValueError, match=r"proba: expected shape \(70, 7\)"):
        plotting.plot_roc_curves(y_true, proba[:, :6])


def test_misclassified_gallery_shows_only_mistakes(data, tmp_path):
    y_true = data.test.labels
    y_pred = y_true.copy()
    y_pred[:5] = (y_pred[:5] + 1) % 7
    ax = plotting.plot_misclassified(data.test.images, y_true, y_pred, n=16)
    captions = [t.get_text() for t in ax.texts]
    assert len(captions) == 5
    assert captions[0] == f"{EMOTIONS[y_true[0]][:4]}>{EMOTIONS[y_pred[0]][:4]}"
    assert "(5 of 5 mistakes)" in ax.get_title()
    _save(ax.figure, tmp_path, "misclassified")
    none = plotting.plot_misclassified(data.test.images, y_true, y_true)
    assert none.texts[0].get_text() == "no misclassified images"


@pytest.fixture(scope="module")
def tiny_cnn(data):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((48, 48, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", padding="same"),
        keras.layers.MaxPooling2D(4),
        keras.layers.Conv2D(8, 3, activation="relu", padding="same", name="last_conv"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(7, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(data.train.images[..., None] / 255.0, data.train.labels, epochs=1, verbose=0)
    return model


@pytest.mark.parametrize("method", ["gradcam", "gradient"])
def test_saliency_overlay(tiny_cnn, data, tmp_path, method):
    image = data.test.images[0]
    heatmap, predicted, probabilities = plotting.saliency_map(tiny_cnn, image, method=method)
    assert heatmap.shape == (48, 48) and heatmap.max() == pytest.approx(1.0) and heatmap.min() >= 0
    expected = tiny_cnn.predict(image[None, ..., None] / 255.0, verbose=0)[0]
    assert predicted == int(np.argmax(expected))
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-6)
    fig, ax = plt.subplots()
    assert plotting.plot_saliency(tiny_cnn, image, ax=ax, method=method, true_label=data.test.labels[0]) is ax
    assert len(ax.get_images()) == 2
    assert ax.get_title().startswith(f"true {EMOTIONS[data.test.labels[0]]}\npred {EMOTIONS[predicted]}")
    _save(fig, tmp_path, f"saliency_{method}")


def test_saliency_rejects_bad_input(tiny_cnn):
    with pytest.raises(ValueError, match="image: expected one 48x48 face"):
        plotting.plot_saliency(tiny_cnn, np.zeros((32, 32)))
    with pytest.raises(ValueError, match="method"):
        plotting.saliency_map(tiny_cnn, np.zeros((48, 48)), method="lime")


def test_attention_rows_draw_one_bar_per_row_on_one_scale():
    faces = np.full((3, 48, 48), 128, dtype=np.uint8)
    weights = np.full((3, 48), 1 / 48)
    weights[1] = 0.0
    weights[1, 10] = 1.0  # all of face 1's attention on row 11
    ax = plotting.plot_attention_rows(faces, weights, labels=[0, 3, 6], columns=3)
    bars = ax.patches
    assert len(bars) == 3 * 48
    widths = np.array([bar.get_width() for bar in bars]).reshape(3, 48)
    assert widths[1].argmax() == 10 and widths[1].max() == pytest.approx(widths.max())
    assert widths[0].max() < widths[1].max() / 40  # same scale for every face
    assert [text.get_text() for text in ax.texts] == ["angry", "happy", "neutral"]
    with pytest.raises(ValueError, match=r"weights: expected one weight per image row, shape \(3, 48\); "
                                         r"got \(3, 47\)"):
        plotting.plot_attention_rows(faces, weights[:, :47])


def test_learning_rate_schedules_share_one_axis_in_epochs():
    from fercourse.training.schedules import step_decay

    ax = plotting.plot_learning_rate_schedules({"constant": 1e-3, "step": step_decay(1e-3, drop_every=10,
                                                                                     factor=0.5)},
                                               total_steps=30, steps_per_epoch=10)
    constant, step = ax.get_lines()
    assert step.get_xdata()[-1] == 3.0 and ax.get_xlabel() == "epoch"
    assert step.get_ydata()[0] == pytest.approx(1e-3) and step.get_ydata()[-1] == pytest.approx(1.25e-4)
    assert set(constant.get_ydata()) == {1e-3}
    with pytest.raises(ValueError, match="total_steps is 0: expected a positive whole number of steps"):
        plotting.plot_learning_rate_schedules({"constant": 1e-3}, 0)


def test_reliability_diagram_puts_a_calibrated_model_on_the_diagonal(tmp_path):
    from fercourse.models.calibration import apply_temperature

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.full(7, 0.4), size=4000)
    labels = np.array([rng.choice(7, p=row) for row in probabilities])
    ax = plotting.plot_reliability({"calibrated": (probabilities, labels),
                                    "over-confident": (apply_temperature(probabilities, 0.5), labels)})
    diagonal, calibrated, over = ax.lines
    assert list(diagonal.get_xdata()) == [0, 1]
    assert np.allclose(calibrated.get_xdata(), calibrated.get_ydata(), atol=0.08)
    assert (over.get_ydata() < over.get_xdata()).mean() > 0.8  # below the diagonal: over-confident
    labels_shown = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels_shown[1].startswith("calibrated (ECE 0.0")
    assert labels_shown[2].startswith("over-confident (ECE")
    _save(ax.figure, tmp_path, "reliability")


def test_coverage_accuracy_marks_the_threshold(tmp_path):
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.55, 0.45]])
    ax = plotting.plot_coverage_accuracy({"model": (probabilities, np.array([0, 0, 1, 0]))}, threshold=0.8)
    [curve] = ax.lines
    assert list(curve.get_xdata()) == [0.25, 0.5, 0.75, 1.0]
    assert list(curve.get_ydata()) == pytest.approx([1.0, 1.0, 2 / 3, 0.75])
    [marker] = ax.collections
    assert marker.get_offsets().tolist() == [[0.5, 1.0]]
    assert "threshold 0.80: 50% answered" in [text.get_text() for text in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="expected a \\(probabilities, labels\\) pair"):
        plotting.plot_coverage_accuracy({"model": probabilities})
    _save(ax.figure, tmp_path, "coverage")

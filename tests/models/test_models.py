"""Tests for fercourse.models: baselines, Keras builders, augmentation, layers, model_input."""

from __future__ import annotations

import numpy as np
import pytest

from fercourse.data import as_flat, load
from fercourse.models import (
    BASELINES,
    build_baseline,
    build_model,
    cross_validate,
    make_augmentation,
    model_input,
)

FAST_OPTIONS = {  # the same algorithms at toy sizes, so the suite stays quick
    "random_forest": {"n_estimators": 10},
    "knn_pca": {"pca_components": 10, "k_grid": (1, 3)},
    "svm_pca": {"pca_components": 10, "max_samples": 200},
    "kmeans_logistic": {"pca_components": 10, "n_clusters": 8},
    "logistic_regression": {"pca_components": 20},
}
KERAS_CASES = [("mlp", None), ("lstm", None), ("gru_attention", None), ("cnn", "simple"), ("cnn", "bn"),
               ("cnn", "reference")]


@pytest.fixture(scope="module")
def tiny():
    """300 train / 60 test synthetic faces."""
    return load("sample", n_train=300, n_test=60)


@pytest.mark.parametrize("name", BASELINES)
def test_every_baseline_fits_and_predicts(name, tiny):
    model = build_baseline(name, **FAST_OPTIONS.get(name, {}))
    X_train, X_test = as_flat(tiny.train.images), as_flat(tiny.test.images)
    assert model.fit(X_train, tiny.train.labels) is model
    y_pred = model.predict(X_test)
    assert y_pred.shape == (60,)
    assert set(np.unique(y_pred)) <= set(range(7))
    if name == "dummy":
        assert (y_pred == 3).all()  # happy is the most frequent class, as in FER2013
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X_test)
        assert proba.shape[0] == 60
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-4)


def test_logistic_regression_class_weight_reaches_the_estimator(tiny):
    from fercourse.data import class_weights

    plain = build_baseline("logistic_regression", pca_components=20)
    balanced = build_baseline("logistic_regression", pca_components=20, class_weight="balanced")
    assert plain[-1].class_weight is None and balanced[-1].class_weight == "balanced"
    X, y = as_flat(tiny.train.images), tiny.train.labels
    balanced.fit(X, y)
    weighted = build_baseline("logistic_regression", pca_components=20, class_weight=class_weights(y))
    weighted.fit(X, y)
    # "balanced" is the n / (k * count) of fercourse.data.class_weights (rounded to 4 places there)
    np.testing.assert_allclose(weighted[-1].coef_, balanced[-1].coef_, atol=1e-3)


def test_subsampled_baselines_train_on_a_stratified_subset(tiny):
    model = build_baseline("svm_pca", pca_components=10, max_samples=120)
    model.fit(as_flat(tiny.train.images), tiny.train.labels)
    assert model.n_fit_ == 120
    assert not hasattr(model, "predict_proba")  # a plain SVM: evaluate.predict_proba softmaxes instead
    assert model.decision_function(as_flat(tiny.test.images[:5])).shape == (5, 7)


def test_baseline_options_lists_each_baselines_options_and_defaults():
    from fercourse.models.baselines import baseline_options

    assert baseline_options("svm_pca") == {"pca_components": 100, "C": 5.0, "max_samples": 6000}
    assert baseline_options("naive_bayes") == {}
    assert baseline_options("random_forest") == {"n_estimators": 100, "max_samples": 15000, "n_jobs": -1}
    forest = build_baseline("random_forest", random_state=3)
    assert (forest.max_samples, forest.random_state, forest.estimator.n_estimators) == (15000, 3, 100)
    with pytest.raises(ValueError, match="baseline name 'svm' is unknown: expected one of dummy, "):
        baseline_options("svm")


def test_build_baseline_rejects_unknown_names_and_options():
    with pytest.raises(ValueError, match="baseline name 'svm' is unknown: expected one of dummy, "):
        build_baseline("svm")
    with pytest.raises(TypeError, match=r"build_baseline\('sgd'\) got unknown option\(s\) n_estimators"):
        build_baseline("sgd", n_estimators=5)


def test_cross_validate_returns_fold_scores_mean_and_std(tiny):
    result = cross_validate("naive_bayes", as_flat(tiny.train.images), tiny.train.labels, cv=3)
    assert len(result["scores"]) == 3
    assert result["mean"] == pytest.approx(np.mean(result["scores"]))
    assert result["std"] == pytest.approx(np.std(result["scores"]))
    assert result["split"] == "cross-validation on the given data"
    assert 0.0 < result["mean"] < 1.0


@pytest.mark.parametrize("name, variant", KERAS_CASES)
def test_every_keras_builder_trains_one_epoch_and_predicts(name, variant, tiny):
    model = build_model(name, variant=variant, augment=(variant == "reference"), seed=0)
    assert model.output_shape == (None, 7)
    x = model_input(name, tiny.train.images[:96])
    history = model.fit(x, tiny.train.labels[:96], epochs=1, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == 1
    assert int(model.optimizer.iterations.numpy()) == 3
    proba = model.predict(model_input(name, tiny.test.images[:10]), verbose=0)
    assert proba.shape == (10, 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_build_model_loss_and_optimizer_follow_the_explicit_arguments_or_the_variants_defaults():
    import keras

    reference = build_model("cnn", variant="reference", width=4)  # the variant's defaults
    assert isinstance(reference.optimizer, keras.optimizers.AdamW)
    assert reference.optimizer.weight_decay == pytest.approx(1e-4)
    assert reference.loss.label_smoothing == pytest.approx(0.1)
    plain = build_model("cnn", variant="reference", width=4, label_smoothing=0.0, weight_decay=0.0)
    assert type(plain.optimizer) is keras.optimizers.Adam and plain.loss == "sparse_categorical_crossentropy"
    smoothed = build_model("cnn", variant="bn", width=4, label_smoothing=0.2, weight_decay=0.01)
    assert smoothed.loss.label_smoothing == pytest.approx(0.2) and smoothed.optimizer.weight_decay == 0.01
    simple = build_model("cnn", width=4)
    assert type(simple.optimizer) is keras.optimizers.Adam
    assert simple.loss == "sparse_categorical_crossentropy"


def test_build_model_rejects_bad_arguments():
    with pytest.raises(ValueError, match="model name 'resnet' is unknown: expected one of mlp, lstm"):
        build_model("resnet")
    with pytest.raises(ValueError, match="cnn variant 'huge' is unknown: expected one of simple, bn, "
                                         "reference"):
        build_model("cnn", variant="huge")
    with pytest.raises(ValueError, match="variant='bn' applies to 'cnn' only, not 'mlp'"):
        build_model("mlp", variant="bn")
    with pytest.raises(TypeError, match=r"build_model\('lstm'\): option\(s\) hidden_sizes do not apply to "
                                        r"'lstm'; it takes units, dense_units, dropout_rate"):
        build_model("lstm", hidden_sizes=(3,))
    with pytest.raises(TypeError, match="stem_convs applies to the 'reference' variant only, not 'bn'"):
        build_model("cnn", variant="bn", stem_convs=1)
    with pytest.raises(ValueError, match="stem_convs is 3: expected 1 or 2"):
        build_model("cnn", variant="reference", stem_convs=3)


def test_reference_cnn_stem_convs_sets_the_convolutions_at_full_resolution():
    def full_resolution_convs(model):
        return [layer for layer in model.layers
                if layer.__class__.__name__ == "Conv2D" and layer.output.shape[1:3] == (48, 48)]

    one = build_model("cnn", variant="reference", width=4, stem_convs=1)
    two = build_model("cnn", variant="reference", width=4)
    assert len(full_resolution_convs(one)) == 1 and len(full_resolution_convs(two)) == 2
    conv_count = [sum(layer.__class__.__name__ == "Conv2D" for layer in model.layers) for model in (one, two)]
    assert conv_count == [7, 8]  # the other three blocks keep their two convolutions


def test_mlp_is_configurable():
    import keras

    model = build_model("mlp", hidden_sizes=(32, 16, 8), dropout_rate=0.0, batch_norm=False, l2=0.01)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [32, 16, 8, 7]
    assert not any(isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Dropout))
                   for layer in model.layers)
    assert len(model.losses) == 3  # one L2 penalty per hidden layer


def test_augmentation_changes_images_in_training_only():
    images = np.random.default_rng(0).random((4, 48, 48, 1)).astype("float32")
    block = make_augmentation(seed=1)
    assert [layer.__class__.__name__ for layer in block.layers] == [
        "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast"]
    np.testing.assert_array_equal(np.asarray(block(images, training=False)), images)
    assert not np.allclose(np.asarray(block(images, training=True)), images)
    assert [layer.__class__.__name__
            for layer in make_augmentation(rotation=0, zoom=0, contrast=0).layers] == [
        "RandomFlip", "RandomTranslation"]
    model = build_model("cnn", augment=True, seed=0)
    x = model_input("cnn", (images[..., 0] * 255).astype(np.uint8))
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_random_crop_training_takes_one_window_per_image_in_training_and_the_centre_one_otherwise():
    from fercourse.models.layers import RandomCropTraining

    images = np.arange(6 * 48 * 48, dtype="float32").reshape(6, 48, 48, 1)
    layer = RandomCropTraining(40, seed=3)
    windows = np.asarray(layer(images, training=True))
    assert windows.shape == (6, 40, 40, 1)
    corners = set()
    for image, window in zip(images[..., 0], windows[..., 0]):
        top, left = np.argwhere(image == window[0, 0])[0]  # every pixel value occurs once in the batch
        assert 0 <= top <= 8 and 0 <= left <= 8
        np.testing.assert_array_equal(window, image[top:top + 40, left:left + 40])  # a window, not a resize
        corners.add((int(top), int(left)))
    assert len(corners) > 1  # each image gets its own window, not one per batch
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images[:, 4:44, 4:44])
    with pytest.raises(ValueError, match="crop size 50 is larger than the images"):
        RandomCropTraining(50)(images)
    with pytest.raises(ValueError, match="crop size is 0: expected a positive whole number"):
        RandomCropTraining(0)


def test_a_cnn_with_crop_augmentation_trains_and_predicts_on_windows_and_survives_saving(tmp_path):
    import keras

    block = make_augmentation(translation=0, crop=40, seed=0)
    assert [layer.__class__.__name__ for layer in block.layers][-1] == "RandomCropTraining"
    model = build_model("cnn", variant="reference", width=4, stem_convs=1, seed=0,
                        augment={"translation": 0.0, "crop": 40})
    rng = np.random.default_rng(0)
    x = model_input("cnn", rng.integers(0, 256, (16, 48, 48), dtype=np.uint8))
    augmented = keras.Model(model.input, model.get_layer("augmentation").output)
    assert tuple(augmented(x, training=True).shape) == (16, 40, 40, 1)
    np.testing.assert_array_equal(np.asarray(augmented(x, training=False)), x[:, 4:44, 4:44])
    model.fit(x, np.arange(16) % 7, epochs=1, batch_size=8, verbose=0)
    expected = model.predict(x, verbose=0)
    border = x.copy()
    border[:, :4] = rng.random(border[:, :4].shape)  # prediction looks at the centre window only
    np.testing.assert_allclose(model.predict(border, verbose=0), expected, rtol=1e-5)
    path = tmp_path / "crop.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5)
    assert isinstance(loaded.get_layer("augmentation").layers[-1], type(block.layers[-1]))
    seed_cnn = build_model("cnn", variant="bn", width=4, augment={"crop": 40})  # a Flatten head works too
    assert seed_cnn.predict(x, verbose=0).shape == (16, 7)


def test_additive_attention_weights_sum_to_one():
    from fercourse.models.layers import AdditiveAttention

    sequence = np.random.default_rng(0).random((2, 48, 5)).astype("float32")
    context, weights = AdditiveAttention(8, return_attention=True)(sequence)
    weights = np.asarray(weights)
    assert np.asarray(context).shape == (2, 5)
    assert weights.shape == (2, 48)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(context), np.einsum("bt,btf->bf", weights, sequence), rtol=1e-5)

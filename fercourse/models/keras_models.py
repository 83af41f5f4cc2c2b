"""Keras builders: the MLP, the LSTM over image rows, the GRU with attention and the CNN family.

Every builder returns a compiled ``keras.Model`` that takes float pixels in [0, 1] in the shape
:func:`fercourse.models.model_input` gives for its name, and outputs seven class probabilities (softmax).
Labels stay integers 0-6 (sparse cross-entropy). Augmentation, when asked for, is a block of
Keras preprocessing layers *inside* the model: Keras runs it during ``fit`` only, so
``predict`` and ``evaluate`` see the images untouched. (The seed courses used the legacy
``ImageDataGenerator``, which Keras 3 no longer ships.)
"""

from __future__ import annotations

import inspect

from fercourse.data.shapes import LAYOUTS
from fercourse.errors import InputError, InputTypeError

KERAS_MODELS = ("mlp", "lstm", "gru_attention", "cnn")
CNN_VARIANTS = ("simple", "bn", "reference")

# Keras's default 0.99 lets the inference statistics lag for many epochs on short runs (the
# validation accuracy sits at the majority class while training accuracy climbs); 0.9 tracks them.
_BN_MOMENTUM = 0.9
MODEL_LAYOUTS = {"mlp": "flat", "lstm": "sequence", "gru_attention": "sequence", "cnn": "image"}
"""The :data:`fercourse.data.shapes.LAYOUTS` name each Keras model takes (``model_input``)."""
_INPUT_SHAPES = {name: LAYOUTS[layout] for name, layout in MODEL_LAYOUTS.items()}


def _check_name(name: str) -> str:
    if name not in KERAS_MODELS:
        raise InputError(f"model name {name!r} is unknown: expected one of {', '.join(KERAS_MODELS)}")
    return name


def make_augmentation(*, flip: bool = True, rotation: float = 0.05, translation: float = 0.1,
                      zoom: float = 0.1, contrast: float = 0.2, crop: int = 0, seed: int | None = None):
    """Random training-time augmentation as a ``keras.Sequential`` of preprocessing layers.

    Takes and returns images shaped (batch, 48, 48, 1) (``crop``: (batch, crop, crop, 1)). Each
    layer but the crop is active only in training (``model.fit``); at inference they pass images
    through unchanged. Set an option to 0/False to drop its layer.

    Parameters
    ----------
    flip : bool
        Random horizontal flip (faces are roughly left-right symmetric; never flip vertically).
    rotation : float
        Maximum rotation as a fraction of a full turn (0.05 is about 18 degrees).
    translation : float
        Maximum shift as a fraction of the image height and width.
    zoom : float
        Maximum zoom in or out as a fraction.
    contrast : float
        Maximum contrast change as a fraction (pixels in [0, 1]). The models' per-image
        standardization undoes global contrast changes, so this mainly adds clipping effects.
    crop : int
        Train on a random ``crop`` x ``crop`` window of each face and predict on the centre window
        (:class:`fercourse.models.layers.RandomCropTraining`, last in the block, so unlike the
        other layers it is active at inference too and the block outputs ``crop`` x ``crop``
        images). 0 leaves it out.
    seed : int, optional
        Seed for the random layers.
    """
    import keras

    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode="nearest", seed=seed))
    if translation:
        layers.append(keras.layers.RandomTranslation(translation, translation, fill_mode="nearest",
                                                      seed=seed))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="nearest", seed=seed))
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0.0, 1.0), seed=seed))
    if crop:
        from fercourse.models.layers import RandomCropTraining

        layers.append(RandomCropTraining(crop, seed=seed, name="random_crop"))
    return keras.Sequential(layers, name="augmentation")


def _augmented(inputs, name: str, augment, seed):
    """Run the augmentation block on any model input, reshaping to an image and back."""
    import keras

    if not augment:
        return inputs
    options = augment if isinstance(augment, dict) else {}
    block = make_augmentation(seed=seed, **options)
    images = keras.layers.Reshape((48, 48, 1))(inputs) if name != "cnn" else inputs
    images = block(images)
    return keras.layers.Reshape(_INPUT_SHAPES[name])(images) if name != "cnn" else images


def _mlp(x, *, hidden_sizes=(512, 256), dropout_rate=0.3, batch_norm=True, l1=0.0, l2=0.0):
    import keras

    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    for units in hidden_sizes:
        x = keras.layers.Dense(units, use_bias=not batch_norm, kernel_regularizer=regularizer)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        if dropout_rate:
            x = keras.layers.Dropout(dropout_rate)(x)
    return x


def _lstm(x, *, units=128, dense_units=64, dropout_rate=0.3):
    import keras

    x = keras.layers.LSTM(units)(x)
    x = keras.layers.Dropout(dropout_rate)(x)
    return keras.layers.Dense(dense_units, activation="relu")(x)


def _gru_attention(x, *, units=96, attention_units=64, dropout_rate=0.3):
    import keras

    from fercourse.models.layers import AdditiveAttention

    x = keras.layers.GRU(units, return_sequences=True)(x)
    x = AdditiveAttention(attention_units, name="attention")(x)
    return keras.layers.Dropout(dropout_rate)(x)


def _conv_block(x, filters, *, convs=1, batch_norm=False, dropout_rate=0.0):
    import keras

    for _ in range(convs):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(momentum=_BN_MOMENTUM)(x)
        x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    return keras.layers.Dropout(dropout_rate)(x) if dropout_rate else x


def _cnn(x, variant, *, width=32, dropout_rate=None, stem_convs=2):
    """The CNN family; ``width`` is the first block's filter count (doubling per block).

    ``stem_convs`` (``reference`` only) is the number of convolutions in the first block, the one
    at the full 48x48 resolution: its second convolution costs about a quarter of a training step
    on a 2-core CPU, so the ``reference`` recipe keeps one and spends the time on more epochs.
    """
    import keras

    if variant != "reference" and stem_convs != 2:
        raise InputTypeError(f"stem_convs applies to the 'reference' variant only, not {variant!r}")
    if variant == "simple":  # the seeds' 3-block CNN
        for block in range(3):
            x = _conv_block(x, width * 2 ** block)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(128, activation="relu")(x)
        return keras.layers.Dropout(0.5 if dropout_rate is None else dropout_rate)(x)
    if variant == "bn":  # the seeds' 4-block CNN with batch norm and dropout
        rate = 0.25 if dropout_rate is None else dropout_rate
        for block in range(4):
            x = _conv_block(x, width * 2 ** block, batch_norm=True, dropout_rate=rate)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(256, use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=_BN_MOMENTUM)(x)
        x = keras.layers.Activation("relu")(x)
        return keras.layers.Dropout(0.5)(x)
    # reference: VGG-style double convolutions, batch norm, dropout, global average pooling.
    if stem_convs not in (1, 2):
        raise InputError(f"stem_convs is {stem_convs!r}: expected 1 or 2 convolutions in the first block")
    rate = 0.2 if dropout_rate is None else dropout_rate
    for block in range(4):
        x = _conv_block(x, width * 2 ** block, convs=stem_convs if block == 0 else 2, batch_norm=True,
                        dropout_rate=rate)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(256, activation="relu")(x)
    return keras.layers.Dropout(0.4)(x)


_ARCHITECTURES = {"mlp": _mlp, "lstm": _lstm, "gru_attention": _gru_attention, "cnn": _cnn}
# Loss and optimizer settings a variant trains with when build_model's label_smoothing /
# weight_decay are left at None; every other model gets plain cross-entropy and Adam (0 and None).
VARIANT_TRAINING_DEFAULTS = {"reference": {"label_smoothing": 0.1, "weight_decay": 1e-4}}


def _architecture_options(name: str, options: dict) -> dict:
    """The options given (not None) for architecture ``name``; TypeError naming any it does not take."""
    builder = _ARCHITECTURES[name]
    accepted = [parameter.name for parameter in inspect.signature(builder).parameters.values()
                if parameter.kind is parameter.KEYWORD_ONLY]
    given = {option: value for option, value in options.items() if value is not None}
    unknown = [option for option in given if option not in accepted]
    if unknown:
        raise InputTypeError(f"build_model({name!r}): option(s) {', '.join(unknown)} do not apply to "
                             f"{name!r}; it takes {', '.join(accepted)}")
    return given


def build_model(name: str, *, variant: str | None = None, augment: bool | dict = False, num_classes: int = 7,
                standardize: bool = True, learning_rate=None, label_smoothing: float | None = None,
                weight_decay: float | None = None, seed: int | None = None,
                hidden_sizes: tuple[int, ...] | None = None, units: int | None = None,
                dense_units: int | None = None, attention_units: int | None = None, width: int | None = None,
                stem_convs: int | None = None, dropout_rate: float | None = None,
                batch_norm: bool | None = None, l1: float | None = None, l2: float | None = None):
    # Over 60 lines: the docstring documents every architecture option; the body is about 35.
    """Build and compile a Keras model by name.

    Parameters
    ----------
    name : str
        One of :data:`KERAS_MODELS`: ``"mlp"``, ``"lstm"``, ``"gru_attention"``, ``"cnn"``.
    variant : str, optional
        For ``cnn`` only: ``"simple"`` (default; 3 conv blocks), ``"bn"`` (4 blocks with batch norm
        and dropout) or ``"reference"`` (VGG-style double convolutions, batch norm, dropout, global
        average pooling).
    augment : bool or dict
        Add the :func:`make_augmentation` block (a dict passes its options). Active only in training.
    num_classes : int
        Size of the softmax output.
    standardize : bool
        Start with a per-image standardization layer (zero mean, unit variance per image), after
        the augmentation. Brightness and contrast vary a lot between faces; without it the CNNs
        take several epochs to start learning on the built-in sample.
    learning_rate : float or keras LearningRateSchedule, optional
        Default 1e-3; a schedule from :mod:`fercourse.training.schedules` works too.
    label_smoothing : float, optional
        Smooth the one-hot targets of the cross-entropy by this much (0: plain sparse
        cross-entropy). None: the variant's default, 0.1 for ``reference`` and 0 for every other
        model (:data:`VARIANT_TRAINING_DEFAULTS`).
    weight_decay : float, optional
        Train with AdamW and this decoupled weight decay (0: plain Adam). None: the variant's
        default, 1e-4 (AdamW) for ``reference`` and plain Adam for every other model.
    seed : int, optional
        Seed for the augmentation layers.
    hidden_sizes, units, dense_units, attention_units, width, stem_convs, dropout_rate, batch_norm, l1, l2
        Architecture options; None keeps the architecture's default, and an option the model does
        not take raises TypeError. ``mlp``: ``hidden_sizes`` (default (512, 256)), ``dropout_rate``
        (0.3), ``batch_norm`` (True), ``l1`` and ``l2`` (0). ``lstm``: ``units`` (128),
        ``dense_units`` (64), ``dropout_rate`` (0.3). ``gru_attention``: ``units`` (96),
        ``attention_units`` (64), ``dropout_rate`` (0.3). ``cnn``: ``width`` (32, the first block's
        filters, doubling per block), ``dropout_rate`` (per block; 0.5 after the dense layer of
        ``simple``, 0.25 for ``bn``, 0.2 for ``reference``) and, for ``reference`` only,
        ``stem_convs`` (2; 1 or 2 convolutions at full resolution).

    Returns
    -------
    keras.Model
        Compiled with sparse cross-entropy and accuracy; input shape as :func:`fercourse.models.model_input`.

    Examples
    --------
    >>> model = build_model("mlp", hidden_sizes=(16,))
    >>> model.input_shape, model.output_shape, type(model.optimizer).__name__
    ((None, 2304), (None, 7), 'Adam')
    >>> type(build_model("cnn", variant="reference", width=4).optimizer).__name__  # the variant's default
    'AdamW'
    """
    import keras

    _check_name(name)
    if name == "cnn":
        variant = variant or "simple"
        if variant not in CNN_VARIANTS:
            raise InputError(f"cnn variant {variant!r} is unknown: expected one of {', '.join(CNN_VARIANTS)}")
    elif variant is not None:
        raise InputError(f"variant={variant!r} applies to 'cnn' only, not {name!r}")
    if num_classes < 2:
        raise InputError(f"num_classes is {num_classes}: expected at least 2")
    options = _architecture_options(name, {
        "hidden_sizes": hidden_sizes, "units": units, "dense_units": dense_units,
        "attention_units": attention_units, "width": width, "stem_convs": stem_convs,
        "dropout_rate": dropout_rate, "batch_norm": batch_norm, "l1": l1, "l2": l2})
    training_defaults = VARIANT_TRAINING_DEFAULTS.get(variant, {})
    if label_smoothing is None:
        label_smoothing = training_defaults.get("label_smoothing", 0.0)
    if weight_decay is None:
        weight_decay = training_defaults.get("weight_decay", 0.0)

    inputs = keras.Input(_INPUT_SHAPES[name], name="pixels")
    x = _augmented(inputs, name, augment, seed)
    if standardize:
        from fercourse.models.layers import PerImageStandardization

        x = PerImageStandardization(name="standardize")(x)
    x = _cnn(x, variant, **options) if name == "cnn" else _ARCHITECTURES[name](x, **options)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    model_name = f"cnn_{variant}" if name == "cnn" else name
    model = keras.Model(inputs, outputs, name=model_name)

    learning_rate = 1e-3 if learning_rate is None else learning_rate
    if weight_decay:
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    else:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    if label_smoothing:
        from fercourse.models.layers import SparseSmoothedCrossentropy

        loss = SparseSmoothedCrossentropy(num_classes=num_classes, label_smoothing=label_smoothing)
    else:
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model

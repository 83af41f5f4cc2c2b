"""The built-in sample: deterministic synthetic 48x48 grayscale faces for all seven emotions.

Every lesson, test and autograder run can use it without downloading anything.
Expressions live in facial geometry, as in real faces:

========  ==================================================================
emotion   what carries it
========  ==================================================================
angry     brows low and pulled together (inner ends down), narrowed eyes, pressed lips
disgust   nose wrinkles, raised and lopsided upper lip, squinted eyes
fear      brows raised with inner ends up, wide eyes, stretched half-open mouth
happy     mouth corners up, wide mouth with teeth, cheeks squint the eyes
sad       inner brow ends up, mouth corners down
surprise  brows high, eyes wide, round open mouth
neutral   everything relaxed
========  ==================================================================

Each face has its own identity (face shape, skin tone, eye spacing, hair) and
nuisance variation that defeats pixel matching: position, scale, rotation,
lighting, contrast, noise, background texture and occasional occluders
(glasses, a hand-like bar). Expression strength varies from subtle to full, and
a small fraction of labels is wrong, so no model reaches 100%. Class
proportions follow FER2013 (disgust rare, happy common) in both splits.

Examples
--------
>>> images, labels = generate(14, seed=3)
>>> images.shape, images.dtype, labels.shape
((14, 48, 48), dtype('uint8'), (14,))
>>> bool((generate(14, seed=3)[0] == images).all())
True
"""

from __future__ import annotations

import numpy as np

from fercourse.config import SAMPLE_SOURCE
from fercourse.data.cache import cached_dataset
from fercourse.data.dataset import Dataset, Split
from fercourse.errors import InputError
from fercourse.labels import EMOTIONS

GENERATOR_VERSION = "1"
SIZE = 48
DEFAULT_TRAIN = 10_000
DEFAULT_TEST = 2_000
LABEL_NOISE = 0.04
# FER2013 Training counts per class, canonical order (angry ... neutral).
FER2013_TRAIN_COUNTS = np.array([3995, 436, 4097, 7215, 4830, 3171, 4965])
CLASS_PROPORTIONS = FER2013_TRAIN_COUNTS / FER2013_TRAIN_COUNTS.sum()

# Expression geometry per class, in face units (the face is about 2 units tall):
# eye opening, brow height above the eye, brow tilt (inner end up > 0), mouth curvature
# (corners up > 0), mouth opening, mouth half-width, lip asymmetry, nose wrinkle, teeth.
_PARAMETERS = ("eye_open", "brow_height", "brow_tilt", "mouth_curve", "mouth_open", "mouth_width",
               "lip_asymmetry", "nose_wrinkle", "teeth")
_EXPRESSIONS = {
    "angry":    (0.55, 0.10, -0.10, -0.04, 0.015, 0.27, 0.0, 0.3, 0.0),
    "disgust":  (0.45, 0.12, -0.05, -0.06, 0.05, 0.25, 0.09, 1.0, 0.3),
    "fear":     (1.05, 0.22, 0.08, -0.04, 0.09, 0.33, 0.0, 0.0, 0.5),
    "happy":    (0.50, 0.16, 0.00, 0.14, 0.06, 0.37, 0.0, 0.0, 1.0),
    "sad":      (0.62, 0.17, 0.10, -0.11, 0.0, 0.27, 0.0, 0.0, 0.0),
    "surprise": (1.10, 0.30, 0.02, 0.00, 0.17, 0.19, 0.0, 0.0, 0.0),
    "neutral":  (0.72, 0.16, 0.00, 0.00, 0.0, 0.29, 0.0, 0.0, 0.0),
}
_MEANS = np.array([_EXPRESSIONS[name] for name in EMOTIONS], dtype=np.float32)
_NEUTRAL = _MEANS[EMOTIONS.index("neutral")]
_JITTER = np.array([0.10, 0.025, 0.03, 0.025, 0.015, 0.03, 0.02, 0.15, 0.15], dtype=np.float32)


def class_counts(n: int) -> np.ndarray:
    """Images per class for a split of ``n`` images in FER2013 proportions (largest remainder).

    Examples
    --------
    >>> class_counts(1000).tolist()
    [139, 15, 143, 251, 168, 111, 173]
    """
    exact = CLASS_PROPORTIONS * n
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _segment_distance(u, v, ax, ay, bx, by):
    """Distance from points (u, v) to the segment a-b (all arrays broadcast)."""
    dx, dy = bx - ax, by - ay
    t = np.clip(((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy + 1e-6), 0.0, 1.0)
    return np.hypot(u - (ax + t * dx), v - (ay + t * dy))


def _draw(n: int, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Over 60 lines: one face drawn feature by feature, top to bottom, each a few lines.
    """Render ``n`` faces for the given labels; returns float32 (n, 48, 48) in [0, 1]."""
    def col(values) -> np.ndarray:
        """One value per face, shaped to broadcast over (n, 48, 48)."""
        return np.asarray(values, dtype=np.float32).reshape(n, 1, 1)

    def uniform(low, high) -> np.ndarray:
        return col(rng.uniform(low, high, n))

    # Expression: class geometry, blended toward neutral by a random strength, plus jitter.
    strength = rng.uniform(0.35, 1.0, n).astype(np.float32)[:, None]
    params = _NEUTRAL + strength * (_MEANS[labels] - _NEUTRAL)
    params = params + rng.normal(0, 1, params.shape).astype(np.float32) * _JITTER
    eye_open, brow_h, brow_tilt, curve, mouth_open, mouth_w, asym, wrinkle, teeth = (
        col(params[:, i]) for i in range(len(_PARAMETERS)))
    mouth_open = np.maximum(mouth_open, 0.0)
    mouth_w = np.maximum(mouth_w, 0.12)
    eye_open = np.clip(eye_open, 0.2, 1.4)
    asym = asym * col(rng.choice([-1.0, 1.0], n))

    # Pose: scale (pixels per face unit), position and rotation.
    scale = uniform(17.0, 23.0)
    angle = uniform(-0.22, 0.22)
    center_x = 23.5 + uniform(-4.0, 4.0)
    center_y = 25.0 + uniform(-4.0, 4.0)
    grid_y, grid_x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    dx, dy = grid_x[None] - center_x, grid_y[None] - center_y
    cos, sin = np.cos(angle), np.sin(angle)
    u = (cos * dx + sin * dy) / scale
    v = (-sin * dx + cos * dy) / scale
    edge = scale * 0.9  # soft edges about one pixel wide

    # Background: a gradient plus low-frequency texture.
    background = uniform(0.05, 0.95) + uniform(-0.3, 0.3) * (grid_x[None] / SIZE - 0.5)
    for _ in range(2):
        fx, fy, phase = uniform(0.05, 0.5), uniform(0.05, 0.5), uniform(0, 6.3)
        background = background + uniform(0, 0.12) * np.sin(fx * grid_x[None] + fy * grid_y[None] + phase)

    # Identity: face shape, skin, hair.
    face_w, face_h = uniform(0.72, 0.88), uniform(0.95, 1.08)
    skin = uniform(0.45, 0.85)
    face = _sigmoid((1.0 - np.sqrt((u / face_w) ** 2 + (v / face_h) ** 2)) * edge * 0.9)
    light = 1.0 + uniform(-0.35, 0.35) * u + uniform(-0.15, 0.15) * v
    image = background * (1 - face) + skin * light * face
    hairline = uniform(-0.75, -0.45)
    hair = face * _sigmoid((hairline - v + 0.08 * np.cos(3 * u)) * edge)
    image = image * (1 - hair * uniform(0.0, 0.8))

    def dark(mask, amount):
        return mask * face * amount
    eye_x, eye_y, eye_w = uniform(0.30, 0.38), uniform(-0.22, -0.12), uniform(0.11, 0.15)
    shade = np.zeros_like(u)
    for side in (-1.0, 1.0):
        du, dv = u - side * eye_x, v - eye_y
        eye = _sigmoid((1 - np.sqrt((du / eye_w) ** 2 + (dv / (eye_w * 0.55 * eye_open)) ** 2)) * edge * 0.12)
        shade = np.maximum(shade, dark(eye, 0.75))
        # Brow: inner end at the nose side; tilt > 0 lifts the inner end.
        inner_x, outer_x = side * (eye_x - 0.14), side * (eye_x + 0.16)
        base_y = eye_y - 0.10 - brow_h
        brow_d = _segment_distance(u, v, inner_x, base_y - brow_tilt, outer_x, base_y + 0.3 * brow_tilt)
        shade = np.maximum(shade, dark(_sigmoid((0.045 - brow_d) * edge), 0.65))
        # Disgust and anger wrinkle the nose bridge.
        wrinkle_d = _segment_distance(u, v, side * 0.04, -0.05, side * 0.13, 0.06)
        shade = np.maximum(shade, dark(_sigmoid((0.02 - wrinkle_d) * edge), 0.45 * np.clip(wrinkle, 0, 1)))
        nostril = np.hypot(u - side * 0.07, v - 0.24)
        shade = np.maximum(shade, dark(_sigmoid((0.035 - nostril) * edge), 0.5))

    # Mouth: a curved centre line; corners up when curve > 0; lopsided by asymmetry.
    mouth_y = uniform(0.48, 0.56)
    x_rel = u / mouth_w
    inside = np.clip(1 - x_rel ** 2, 0.0, 1.0)
    centre = mouth_y - curve * x_rel ** 2 * 2.0 + asym * x_rel
    half_open = mouth_open * np.sqrt(inside)
    along = _sigmoid((1 - np.abs(x_rel)) * mouth_w * edge)
    lips = _sigmoid((0.028 + half_open - np.abs(v - centre)) * edge) * along
    shade = np.maximum(shade, dark(lips, 0.7))
    tooth_band = _sigmoid((half_open * 0.6 - np.abs(v - (centre - half_open * 0.35))) * edge) * along
    image = image * (1 - shade)
    image = image + face * tooth_band * np.clip(teeth, 0, 1) * (mouth_open > 0.03) * 0.55

    image = _occlude(image, u, v, edge, face, rng, uniform, n)

    # Camera: contrast, gamma and sensor noise.
    image = 0.5 + (image - 0.5) * uniform(0.6, 1.3)
    image = np.clip(image, 0.0, 1.0) ** uniform(0.7, 1.4)
    image = image + rng.normal(0, 1, image.shape).astype(np.float32) * uniform(0.01, 0.06)
    return np.clip(image, 0.0, 1.0)


def _occlude(image, u, v, edge, face, rng, uniform, n):
    """Add glasses to about 8% of faces and a hand-like bar to about 8%."""
    glasses = (rng.random(n) < 0.08).astype(np.float32).reshape(n, 1, 1)
    rims = np.zeros_like(image)
    for side in (-1.0, 1.0):
        ring = np.abs(np.hypot(u - side * 0.33, (v + 0.17) * 1.3) - 0.2)
        rims = np.maximum(rims, _sigmoid((0.03 - ring) * edge))
    image = image * (1 - 0.8 * glasses * rims * face)
    bar = (rng.random(n) < 0.08).astype(np.float32).reshape(n, 1, 1)
    bar_angle = uniform(0, np.pi)
    offset = uniform(-0.8, 0.8)
    distance = np.abs(np.cos(bar_angle) * u + np.sin(bar_angle) * v - offset)
    bar_mask = _sigmoid((uniform(0.08, 0.2) - distance) * edge) * bar
    return image * (1 - bar_mask) + bar_mask * uniform(0.2, 0.9)


def generate(n: int, seed: int = 0, *, chunk_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` synthetic faces in FER2013 class proportions.

    Parameters
    ----------
    n : int
        Number of images.
    seed : int
        The same seed gives byte-identical images and labels.

    Returns
    -------
    images : np.ndarray
        uint8 (n, 48, 48).
    labels : np.ndarray
        int64 canonical labels (0-6); about 4% deliberately wrong.
    """
    if n < 1:
        raise InputError(f"n is {n}: expected a positive number of images")
    rng = np.random.default_rng(seed)
    true_labels = np.repeat(np.arange(len(EMOTIONS)), class_counts(n))
    true_labels = true_labels[rng.permutation(n)]
    images = np.empty((n, SIZE, SIZE), dtype=np.uint8)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        chunk_rng = np.random.default_rng([seed, start])
        pixels = _draw(stop - start, true_labels[start:stop], chunk_rng)
        images[start:stop] = np.round(pixels * 255).astype(np.uint8)
    labels = true_labels.copy()
    flip = rng.random(n) < LABEL_NOISE
    labels[flip] = (labels[flip] + rng.integers(1, len(EMOTIONS), flip.sum())) % len(EMOTIONS)
    return images, labels.astype(np.int64)


def load_sample(n_train: int | None = None, n_test: int | None = None, seed: int = 0, cache: bool = True):
    """The built-in sample as a :class:`~fercourse.data.Dataset` (train and test), cached on disk.

    Parameters
    ----------
    n_train, n_test : int, optional
        Split sizes; default 10,000 and 2,000.
    seed : int
        Train uses ``seed``, test ``seed + 1_000_003``, so the splits never share a face.
    """
    n_train = DEFAULT_TRAIN if n_train is None else int(n_train)
    n_test = DEFAULT_TEST if n_test is None else int(n_test)

    def build():
        splits = {}
        for name, size, split_seed in (("train", n_train, seed), ("test", n_test, seed + 1_000_003)):
            images, labels = generate(size, split_seed)
            ids = np.array([f"{name}-{index:05d}" for index in range(size)])
            splits[name] = Split(images, labels, ids)
        return Dataset(splits, SAMPLE_SOURCE)

    signature = f"synthetic|{GENERATOR_VERSION}|{n_train}|{n_test}|{seed}"
    return cached_dataset(signature, SAMPLE_SOURCE, cache, build)

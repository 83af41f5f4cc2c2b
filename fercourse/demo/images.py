"""Read a photo from anything a user might hand us, safely, as an RGB uint8 array.

:func:`read_image` accepts a path, raw bytes, a PIL image or a NumPy array (gray, RGB or
RGBA; uint8, uint16, float or bool), honours the EXIF orientation tag, and turns every
way a file can be bad (missing, not an image, truncated, a decompression bomb) into an
error that names the file and says what was expected.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

from fercourse.errors import InputError, InputTypeError

#: Largest photo :func:`read_image` decodes, in pixels (width x height): 64 megapixels
#: covers every phone and most DSLR photos; anything larger is refused before decoding,
#: so a tiny "decompression bomb" file cannot exhaust memory.
MAX_PIXELS = 64_000_000

def describe(image) -> str:
    """A short name for ``image`` to use in error messages (its path, or its type)."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return f"<{len(image)} bytes>"
    if isinstance(image, np.ndarray):
        return f"<array {image.shape} {image.dtype}>"
    return f"<{type(image).__name__}>"


def read_image(image, *, max_pixels: int = MAX_PIXELS, name: str | None = None) -> np.ndarray:
    """Return ``image`` as an RGB uint8 array of shape (height, width, 3).

    Parameters
    ----------
    image : str, os.PathLike, bytes, PIL.Image.Image or np.ndarray
        A path to an image file, the file's bytes, a PIL image, or an array: (h, w) gray,
        (h, w, 1), (h, w, 3) RGB or (h, w, 4) RGBA; uint8, uint16 (16-bit), float in [0, 1]
        or bool. Transparent pixels are composited onto white.
    max_pixels : int
        Refuse images with more pixels than this (width x height) before decoding them.
    name : str, optional
        What to call the image in error messages (default: its path or type).

    Returns
    -------
    np.ndarray
        uint8 array (height, width, 3), upright according to the EXIF orientation tag.

    Raises
    ------
    FileNotFoundError
        A path that does not exist.
    ValueError
        Not an image, a truncated or corrupt file, too many pixels, or an array of the
        wrong shape; the message names the file.
    TypeError
        An input of an unsupported type.

    Examples
    --------
    >>> read_image(np.zeros((4, 6), dtype=np.uint8)).shape
    (4, 6, 3)
    >>> read_image(b"hello")
    Traceback (most recent call last):
    ...
    fercourse.errors.InputError: <5 bytes>: not an image file (expected JPEG, PNG, BMP, GIF, TIFF or WebP)
    """
    name = name or describe(image)
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image, name)
    from PIL import Image

    if isinstance(image, Image.Image):
        return _pil_to_rgb(image, name, max_pixels)
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file")
        if path.is_dir():
            raise InputError(f"{path}: is a folder, expected an image file")
        data = path.read_bytes()
    elif isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    else:
        raise InputTypeError(f"{name}: expected a path, bytes, a PIL image or a NumPy array, "
                        f"got {type(image).__name__}")
    if not data:
        raise InputError(f"{name}: the file is empty, expected an image")
    return _decode(data, name, max_pixels)


def _decode(data: bytes, name: str, max_pixels: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        # PIL warns (and past 2x its own limit raises) on huge images; we apply our own limit.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            pil = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise InputError(f"{name}: not an image file "
                             f"(expected JPEG, PNG, BMP, GIF, TIFF or WebP)") from None
        except Image.DecompressionBombError as error:
            raise InputError(f"{name}: image too large to decode safely, a decompression bomb? ({error}); "
                             f"expected at most {max_pixels:,} pixels") from None
        return _pil_to_rgb(pil, name, max_pixels)


def _pil_to_rgb(pil, name: str, max_pixels: int) -> np.ndarray:
    from PIL import Image, ImageOps

    width, height = pil.size
    if width * height > max_pixels:
        raise InputError(f"{name}: image is {width}x{height} = {width * height:,} pixels, "
                         f"more than the {max_pixels:,} allowed (a decompression bomb?); "
                         f"resize it first")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            pil.load()
            pil = ImageOps.exif_transpose(pil)
            return _array_to_rgb(_pil_array(pil), name)
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        # PIL reports truncated/corrupt data as OSError ("image file is truncated") or SyntaxError.
        raise InputError(f"{name}: could not decode the image: {error} "
                         f"(truncated or corrupt file?)") from None


def _pil_array(pil) -> np.ndarray:
    mode = pil.mode
    if mode in ("RGB", "L", "RGBA"):
        return np.asarray(pil)
    if mode in ("LA", "PA", "P"):
        return np.asarray(pil.convert("RGBA"))
    if mode == "1":
        return np.asarray(pil.convert("L"))
    if mode.startswith("I;16") or mode == "I":
        # 16-bit PNGs open as "I;16" or "I" (32-bit ints holding 0-65535).
        return np.asarray(pil, dtype=np.int64).clip(0, 65535).astype(np.uint16)
    if mode == "F":
        values = np.asarray(pil, dtype=np.float64)
        top = values.max() if values.size and values.max() > 1 else 1.0
        return (values / top).clip(0, 1)
    return np.asarray(pil.convert("RGB"))


def _array_to_rgb(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InputError(f"{name}: expected an image array of shape (h, w), (h, w, 1), (h, w, 3) "
                         f"or (h, w, 4), got {array.shape}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InputError(f"{name}: the image is empty ({array.shape})")
    array = _to_uint8(array, name)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 4:
        alpha = array[:, :, 3:4].astype(np.float32) / 255.0
        blended = array[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return np.round(blended).astype(np.uint8)
    return np.ascontiguousarray(array)


def _to_uint8(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return (array.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise InputError(f"{name}: the image array holds NaN or infinite values")
        return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 255:
            raise InputError(f"{name}: integer pixels must lie in 0-255 (uint8) or be uint16, "
                             f"got values {array.min()}..{array.max()} of {array.dtype}")
        return array.astype(np.uint8)
    raise InputTypeError(f"{name}: unsupported pixel type {array.dtype}; expected uint8, uint16, float or "
                         "bool")


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Convert an RGB uint8 image to gray the way FER2013 faces are gray (ITU-R 601 luma).

    Examples
    --------
    >>> to_gray(np.full((1, 1, 3), 200, dtype=np.uint8))
    array([[200]], dtype=uint8)
    """
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)

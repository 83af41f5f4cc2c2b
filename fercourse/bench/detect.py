"""``fercourse bench detect``: how fast the demo finds and classifies faces on this CPU.

Times the whole :meth:`EmotionDetector.detect` (read, gray, Haar detection, crops, model) on a
640x480 photo (scikit-image's astronaut, resized) after warm-up, and the batch method on many
photos; prints the median latency, its split between detection and classification, and
images per second.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from fercourse.errors import InputError

#: The goal from the issue: median detect+classify latency for a 640x480 photo, warm, on CPU.
GOAL_MS = 150.0


def benchmark_photo(width: int = 640, height: int = 480) -> np.ndarray:
    """A real photo with one face, resized to ``width`` x ``height`` (RGB uint8)."""
    import cv2
    from skimage import data

    return cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_AREA)


def _median_ms(function, repeats: int) -> tuple[float, float]:
    """Median wall-clock and process-CPU milliseconds per call.

    CPU time (all of this process's threads) is the steadier figure on a shared machine:
    wall time also counts the time other programs held the cores.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return 1000.0 * statistics.median(wall), 1000.0 * statistics.median(cpu)


def bench_detect(model=None, *, repeats: int = 20, batch: int = 16, warmup: int = 3) -> dict:
    """Measure the demo's speed; returns the figures and prints one summary line.

    Parameters
    ----------
    model : keras.Model or path, optional
        The classifier; default an untrained ``build_model("cnn", variant="simple")`` (the same
        cost as a trained one of that architecture).
    repeats : int
        Timed single-photo runs (the median is reported).
    batch : int
        Photos in the batch run.
    warmup : int
        Untimed runs first (model tracing, cascade loading).
    """
    from fercourse.demo.detector import EmotionDetector
    from fercourse.demo.faces import detect_gray
    from fercourse.demo.images import to_gray

    if repeats < 1 or batch < 1:
        raise InputError(f"repeats and batch must be at least 1, got {repeats} and {batch}")
    if model is None:
        from fercourse.models import build_model

        model = build_model("cnn", variant="simple")
    detector = EmotionDetector(model)
    photo = benchmark_photo()
    for _ in range(warmup):
        faces = detector.detect(photo)
    gray = to_gray(photo)
    _, boxes, crops = detector.faces(photo)
    total_ms, total_cpu_ms = _median_ms(lambda: detector.detect(photo), repeats)
    detect_ms, _ = _median_ms(lambda: detect_gray(gray, detector.settings), repeats)
    classify_ms, _ = _median_ms(lambda: detector.classify(crops), repeats)
    photos = [photo] * batch
    start = time.perf_counter()
    detector.detect_batch(photos)
    batch_seconds = time.perf_counter() - start
    result = {"photo": "skimage astronaut resized to 640x480", "faces": len(faces),
              "model": detector.model.name, "median_ms": round(total_ms, 1),
              "median_cpu_ms": round(total_cpu_ms, 1),
              "detect_ms": round(detect_ms, 1), "classify_ms": round(classify_ms, 1),
              "batch": batch, "images_per_second": round(batch / batch_seconds, 1),
              "goal_ms": GOAL_MS, "meets_goal": total_ms < GOAL_MS, "cpu_count": os.cpu_count(),
              "load_average": round(os.getloadavg()[0], 2)}
    print(f"detect+classify, 640x480 photo, {len(faces)} face(s), model {result['model']}: median "
          f"{total_ms:.1f} ms wall, {total_cpu_ms:.1f} ms CPU (Haar {detect_ms:.1f} ms, "
          f"model {classify_ms:.1f} ms) over {repeats} runs; "
          f"batch of {batch}: {result['images_per_second']} images/s; goal < {GOAL_MS:.0f} ms: "
          f"{'met' if result['meets_goal'] else 'NOT met'} "
          f"({result['cpu_count']} CPUs, load average {result['load_average']})")
    return result

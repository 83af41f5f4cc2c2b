"""``fercourse detect``: find faces in photos and classify their emotions, without a notebook."""

from __future__ import annotations

import argparse
import sys

from fercourse.cli import add_command

EPILOG = """\
examples:
  fercourse detect photo.jpg                     (the FER2013 model that ships with fercourse)
  fercourse detect *.jpg --json > faces.json
  fercourse detect class.png --model artifacts/fer2013-bn.keras --out annotated/ --detector haar --profile

--json prints one list with an object per image, in the order given:
  {"image": PATH, "calibration": {"temperature": T, "threshold": C, ...} or null,
   "faces": [{"box": [x, y, w, h], "emotion": NAME, "confidence": P, "uncertain": BOOL,
              "decision": NAME or "uncertain", "probabilities": {NAME: P, ...}}, ...]}
or {"image": PATH, "error": MESSAGE} for a file that could not be read.
The probabilities are the ones reported: calibrated (divided by the temperature fitted on FER2013
validation, `fercourse calibrate`) when the model has a calibration file beside it, as the shipped
model does; "decision" is "uncertain" when the top one is below the threshold chosen on validation
(threshold null: never, as with --no-uncertain).
Exit status: 0 when every image was read (faces or not), 1 when any failed.
"""


def register(subparsers) -> None:
    from fercourse.demo.faces import DETECTORS, DetectionSettings

    parser = add_command(subparsers, "detect",
        description="Find every face in each photo (MTCNN or OpenCV's Haar cascade), classify its emotion "
                    "with a trained Keras model (by default the FER2013 model that ships with fercourse; "
                    "see MODEL_CARD.md), and print boxes, emotions and probabilities. Unreadable files "
                    "are reported one by one; the other photos still run.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="photo files (JPEG, PNG, BMP, GIF, TIFF, "
                                                                   "WebP)")
    parser.add_argument("--model", default="pretrained", metavar="PATH",
                        help="a saved seven-class Keras model, e.g. artifacts/fer2013-bn.keras (lesson 05) "
                             "(default: 'pretrained', the FER2013 model that ships with fercourse)")
    parser.add_argument("--json", action="store_true", help="print one JSON list (format below)")
    parser.add_argument("--no-uncertain", dest="mark_uncertain", action="store_false",
                        help="always name the most probable emotion, never 'uncertain'")
    parser.add_argument("--uncalibrated", action="store_true",
                        help="report the model's raw probabilities (no temperature; implies --no-uncertain)")
    parser.add_argument("--out", metavar="DIR", help="write each photo with boxes and labels to "
                                                     "DIR/<name>.png")
    parser.add_argument("--detector", choices=DETECTORS, default=None,
                        help=f"face detector (default {DetectionSettings().detector}; "
                             f"`fercourse bench detect` compares them)")
    parser.add_argument("--profile", action="store_true",
                        help="Haar: also look for faces in profile (slower)")
    parser.add_argument("--min-neighbors", type=int, default=4, metavar="N",
                        help="Haar: raw hits a face needs: lower finds more faces and more false ones "
                             "(default 4)")
    parser.add_argument("--scale-factor", type=float, default=1.1, metavar="F",
                        help="Haar: step between window sizes, > 1: smaller is slower and finds more "
                             "(default 1.1)")
    parser.add_argument("--min-size", type=int, default=36, metavar="PX",
                        help="smallest face in pixels (of the photo shrunk to at most 1024 px; default 36)")
    parser.add_argument("--min-score", type=float, default=1.0, metavar="S",
                        help="Haar: drop boxes the cascade is less sure of than this: 0 keeps all "
                             "(default 1.0)")
    parser.set_defaults(handler=run_detect, tensorflow=True)


def run_detect(args: argparse.Namespace) -> int:
    import json
    import os
    from pathlib import Path

    # TensorFlow's warnings (MTCNN logs one for every photo without a face) would bury the results.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from fercourse.demo import EmotionDetector, annotate, read_image
    from fercourse.demo.detector import encode_png

    chosen = {"detector": args.detector} if args.detector else {}
    detector = EmotionDetector(args.model, profile=args.profile, min_neighbors=args.min_neighbors,
                               scale_factor=args.scale_factor, min_size=args.min_size,
                               min_score=args.min_score, calibration=None if args.uncalibrated else "auto",
                               mark_uncertain=args.mark_uncertain, **chosen)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    results, failed, written = [], 0, set()
    for image in args.images:
        try:
            rgb = read_image(image)
            faces = detector.detect(rgb)
        except (ValueError, TypeError, OSError) as error:
            failed += 1
            message = str(error)
            results.append({"image": image, "error": message})
            if not args.json:
                print(f"{image}: error: {message}", file=sys.stderr)
            continue
        results.append({"image": image, "calibration": detector.describe_calibration(),
                        "faces": [face.to_dict() for face in faces]})
        if out:
            target = _unique(out / (Path(image).stem + ".png"), written)
            target.write_bytes(encode_png(annotate(rgb, faces)))
        if not args.json:
            _print_text(image, faces)
    if args.json:
        print(json.dumps(results, indent=2))
    if failed and not args.json:
        print(f"{failed} of {len(args.images)} image(s) could not be read", file=sys.stderr)
    return 1 if failed else 0


def _unique(path, taken: set):
    """``path``, or ``name-2.png``, ``name-3.png`` ... when two inputs share a file name."""
    candidate, number = path, 1
    while candidate in taken:
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    taken.add(candidate)
    return candidate


def _print_text(image: str, faces) -> None:
    print(f"{image}: {len(faces)} face{'s' if len(faces) != 1 else ''}")
    for number, face in enumerate(faces, start=1):
        others = ", ".join(f"{name} {p:.2f}" for name, p in face.probabilities.items())
        decision = f"uncertain (top: {face.emotion} {face.confidence:.2f})" if face.uncertain else \
            f"{face.emotion} {face.confidence:.2f}"
        print(f"  face {number} box {list(face.box)}: {decision} ({others})")

"""``fercourse data``: inspect, convert, prepare and generate datasets."""

from __future__ import annotations

import argparse
import json

from fercourse.cli import add_command_group
from fercourse.cli.options import SOURCE_HELP, add_sample_size_options
from fercourse.data.writers import FORMATS
from fercourse.errors import InputError


def register(subparsers) -> None:
    commands = add_command_group(subparsers, "data",
                                 description="Inspect, convert, prepare and generate FER datasets.")

    info = commands.add_parser("info", help="counts per class and split, image shape, duplicates",
                               description="Show per split the counts per class (canonical names), the "
                                           "image shape and exact duplicates within and across splits.")
    info.add_argument("source", help=SOURCE_HELP)
    info.add_argument("--json", action="store_true", help="print a machine-readable JSON object")
    info.add_argument("--no-cache", action="store_true", help="read the source again even if it is cached")
    info.set_defaults(handler=run_info)

    convert = commands.add_parser("convert", help="convert a dataset between formats (lossless)",
                                  description="Write SOURCE to OUT in another format. Loading OUT gives the "
                                              "same arrays and labels in the same order.")
    convert.add_argument("source", help=SOURCE_HELP)
    convert.add_argument("out", help="output folder (created if needed)")
    convert.add_argument("--format", required=True, choices=FORMATS, help="output format")
    convert.set_defaults(handler=run_convert)

    prepare = commands.add_parser(
        "prepare", help="write an instructor's course release and answer key",
        description="Write OUT/release/train.csv (id,emotion,pixels), OUT/release/test.csv (id,pixels, no "
                    "labels) and the instructor-only OUT/instructor/answer_key.csv (id,emotion). Ids are "
                    "salted hashes: stable for the same data and salt, unrelated to row order. The "
                    "faces are released as they are in SOURCE (FER2013's labels are public: see the "
                    "instructor guide's threat model). OUT/instructor/answer_key.split.json splits the "
                    "test ids into a public and a private part, seeded by the salt (the course "
                    "leaderboard's public and final standings).")
    prepare.add_argument("source", help=SOURCE_HELP)
    prepare.add_argument("--out", required=True, help="course data folder to create")
    prepare.add_argument("--salt", default="fercourse",
                         help="secret mixed into the ids and the public/private split (change it per course "
                              "offering)")
    prepare.add_argument("--public-fraction", type=float, default=0.5,
                         help="share of the test ids in the public part (default 0.5)")
    prepare.set_defaults(handler=run_prepare)

    sample = commands.add_parser("sample", help="write the built-in synthetic sample in any format",
                                 description="Generate the synthetic sample and write it to OUT.")
    sample.add_argument("out", help="output folder")
    sample.add_argument("--format", default="course-csv", choices=FORMATS, help="output format")
    add_sample_size_options(sample)
    sample.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    sample.set_defaults(handler=run_sample)


def _load(source: str, cache: bool = True):
    from fercourse.data import load

    return load(source, cache=cache, progress=None)


def info_dict(dataset) -> dict:
    """The ``data info --json`` object for a dataset."""
    from fercourse.data import find_duplicates

    duplicates = find_duplicates(dataset)
    splits = {}
    for name, split in dataset.splits.items():
        splits[name] = {
            "n": len(split),
            "labelled": split.labels is not None,
            "classes": split.counts(),
            "shape": list(split.images.shape[1:]),
            "duplicates_within": duplicates.within[name],
        }
        if name in duplicates.across:
            splits[name]["duplicates_in_train"] = duplicates.across[name]
    return {"source": dataset.source, "splits": splits,
            "conflicting_duplicate_labels": duplicates.conflicting_labels,
            "converted_images": dataset.converted}


def run_info(args: argparse.Namespace) -> int:
    from fercourse.labels import EMOTIONS

    info = info_dict(_load(args.source, cache=not args.no_cache))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"source: {info['source']}")
    names = list(info["splits"])
    print(f"{'class':<10}" + "".join(f"{name:>10}" for name in names))
    for emotion in EMOTIONS:
        counts = (info["splits"][name]["classes"].get(emotion, "-") for name in names)
        print(f"{emotion:<10}" + "".join(f"{count:>10}" for count in counts))
    print(f"{'total':<10}" + "".join(f"{info['splits'][n]['n']:>10}" for n in names))
    for name in names:
        split = info["splits"][name]
        line = (f"{name}: images {'x'.join(map(str, split['shape']))} uint8, "
                f"{split['duplicates_within']} exact duplicates within")
        if "duplicates_in_train" in split:
            line += f", {split['duplicates_in_train']} also in train"
        print(line)
    if info["conflicting_duplicate_labels"]:
        print(f"duplicates with conflicting labels: {info['conflicting_duplicate_labels']}")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from fercourse.data.writers import save

    dataset = _load(args.source)
    written = save(dataset, args.out, args.format)
    sizes = ", ".join(f"{name} {len(split)}" for name, split in dataset.splits.items())
    print(f"wrote {args.format} ({sizes}): " + ", ".join(map(str, written)))
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from fercourse.data.writers import prepare
    from fercourse.grading.instructor_files import split_path
    from fercourse.grading.records.split import PublicPrivateSplit
    from fercourse.submission import read_ids

    if not 0 < args.public_fraction < 1:  # before the long part
        raise InputError(f"--public-fraction {args.public_fraction}: expected a number strictly between 0 "
                         "and 1")
    release = prepare(_load(args.source), args.out, salt=args.salt)
    split = PublicPrivateSplit.from_ids(read_ids(release.answer_key), args.salt, args.public_fraction)
    split_sha256 = split.write(split_path(release.answer_key))
    print(f"release for students:  {release.train_csv} ({release.n_train} labelled rows)")
    print(f"                       {release.test_csv} ({release.n_test} unlabelled rows)")
    print(f"instructor only:       {release.answer_key} (never release this file)")
    print(f"answer key sha256:     {release.answer_key_sha256}")
    print(f"public/private split:  {split_path(release.answer_key)} ({len(split.public)} public, "
          f"{len(split.private)} private test ids; sha256 {split_sha256})")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    from fercourse.data import load
    from fercourse.data.writers import save

    dataset = load("sample", n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    written = save(dataset, args.out, args.format)
    print(f"wrote the synthetic sample (train {len(dataset.train)}, test {len(dataset.test)}) as "
          f"{args.format}: " + ", ".join(map(str, written)))
    return 0

"""Options several ``fercourse`` commands share, defined once: the data source and the sample's size."""

from __future__ import annotations

import argparse

SOURCE_HELP = ("'sample' (the built-in synthetic faces), 'fer2013' ($FERCOURSE_FER2013), a Kaggle "
               "fer2013.csv, a course train CSV (id,emotion,pixels; its *test* twin is found by name), a "
               "folder with train.csv/test.csv, or an image-folder root such as ../shared/fer2013 "
               "(train/<emotion>/, test/<emotion>/)")


def add_sample_size_options(parser: argparse.ArgumentParser, *, n_train: int | None = None,
                            n_test: int | None = None) -> None:
    """``--n-train`` / ``--n-test``: the size of the built-in sample (ignored for files).

    ``n_train`` / ``n_test`` are the command's defaults (None: the sample's own, 10,000 and 2,000).
    """
    parser.add_argument("--n-train", type=int, default=n_train, metavar="N",
                        help=f"training images of the built-in sample (default {n_train or 10_000:,}; "
                             "ignored for files)")
    parser.add_argument("--n-test", type=int, default=n_test, metavar="N",
                        help=f"test images of the built-in sample (default {n_test or 2_000:,}; ignored for "
                             "files)")


def load_data(args: argparse.Namespace):
    """Load ``args.data`` (with the sample sizes when it is the built-in sample)."""
    from fercourse.config import is_sample
    from fercourse.data import load

    if is_sample(args.data):
        return load(args.data, n_train=args.n_train, n_test=args.n_test)
    return load(args.data)


def add_data_option(parser: argparse.ArgumentParser, *, default: str | None = "sample",
                    extra: str = "") -> None:
    """``--data SOURCE`` with the one description of what a source can be."""
    shown = f" (default: {default})" if default else ""
    parser.add_argument("--data", default=default, metavar="SOURCE", help=SOURCE_HELP + extra + shown)


CHECKOUT_HELP = ("the course checkout (holding notebooks/ and book/_config.yml) whose folders are the "
                 "defaults (default: the checkout holding the current directory). Not the nbgrader course: "
                 "the grade commands' --course is that")


def add_checkout_option(parser: argparse.ArgumentParser) -> None:
    """``--checkout DIR``: the course checkout whose folders a maintainer's command uses."""
    parser.add_argument("--checkout", default=None, metavar="DIR", help=CHECKOUT_HELP)

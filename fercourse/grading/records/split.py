"""The hidden test ids split into a public and a private part, as Kaggle's leaderboards do.

During an assignment students see their accuracy on the **public** part only (in the feedback and
on the public leaderboard); the **private** part decides the final standings
(``fercourse grade leaderboard NAME --final``). A student who tunes against the public accuracy
(many submissions, or labels guessed from it) gains nothing on the private part.

Which id goes where is a pure function of the offering's salt and the id (the salt already seeds
the release's ids): ids are ordered by a salted hash and the first ``round(n * public_fraction)``
are public. With an instructor-held test set (``fercourse grade setup --test-set``) the split is
given instead (:meth:`PublicPrivateSplit.held_out`): every face of the public source is public, every
held face private, and the tiers count the private rows only (``tiers_on``), since the public
faces' labels can be looked up. The split is written next to the answer key
(``answer_key.split.json``, mode 0600): instructor-only, never under the course folder, so never
released and never visible to a student's kernel. ``fercourse grade setup`` pins its SHA-256 in
``answer_key.pin.json`` and the grader refuses any other split.

A course set up before the split existed has no split file: its grader treats every test row as
public (feedback shows the accuracy on all rows, as before), and ``grade leaderboard --final``
says to re-run ``fercourse grade setup`` with the same salt (same data, same ids, same key; the
split file and the pin are added).

Examples
--------
>>> split = PublicPrivateSplit.from_ids([f"id{i}" for i in range(10)], salt="course-2026")
>>> len(split.public), len(split.private), split.public.isdisjoint(split.private)
(5, 5, True)
>>> PublicPrivateSplit.from_ids(["a", "b", "c", "d"], salt="course-2026").public == \\
...     PublicPrivateSplit.from_ids(["d", "c", "b", "a"], salt="course-2026").public
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fercourse.errors import DataError, InputError
from fercourse.grading.digests import bytes_digest, salted_digest

DEFAULT_PUBLIC_FRACTION = 0.5
"""Kaggle's FER2013 challenge scored its public and private leaderboards on two halves of the test rows."""
FORMAT = "fercourse public/private split 1"


@dataclass(frozen=True)
class PublicPrivateSplit:
    """The public and private test ids, the public fraction asked for, and the pseudonym secret.

    ``pseudonym_secret`` (a one-way hash of the salt, so it does not reveal the salt) keys the
    students' leaderboard pseudonyms (:mod:`fercourse.grading.records.pseudonyms`). ``tiers_on`` says
    which rows the accuracy tiers count: ``"all"`` (a split of one test set), or ``"private"`` (the
    private rows are the instructor's held faces, the public ones a public dataset's).
    """

    public: frozenset[str]
    private: frozenset[str]
    public_fraction: float
    pseudonym_secret: str
    tiers_on: str = "all"

    @classmethod
    def from_ids(cls, ids: Iterable[str], salt: str,
                 public_fraction: float = DEFAULT_PUBLIC_FRACTION) -> PublicPrivateSplit:
        """Split ``ids``: the same ids and salt give the same split, whatever their order."""
        if not 0 < public_fraction < 1:
            raise InputError(f"public fraction {public_fraction!r}: expected a number strictly between 0 "
                             "and 1 (e.g. 0.5: half the test rows public, half private)")
        ids = list(dict.fromkeys(str(i) for i in ids))
        if len(ids) < 2:
            raise InputError(f"{len(ids)} test id(s): expected at least 2 to split into public and private")
        ordered = sorted(ids, key=lambda test_id: salted_digest(salt, "public-private", test_id))
        n_public = min(max(round(len(ids) * public_fraction), 1), len(ids) - 1)
        secret = salted_digest(salt, "pseudonyms")
        return cls(frozenset(ordered[:n_public]), frozenset(ordered[n_public:]), public_fraction, secret)

    @classmethod
    def held_out(cls, public: Iterable[str], private: Iterable[str], salt: str) -> PublicPrivateSplit:
        """The split of a release whose private rows are an instructor-held test set: given, not drawn.

        Examples
        --------
        >>> split = PublicPrivateSplit.held_out(["a", "b", "c"], ["x"], salt="course-2026")
        >>> sorted(split.private), split.public_fraction, split.tiers_on
        (['x'], 0.75, 'private')
        """
        public, private = frozenset(map(str, public)), frozenset(map(str, private))
        if not public or not private or not public.isdisjoint(private):
            raise InputError(f"{len(public)} public and {len(private)} held test ids: expected both "
                             "non-empty and disjoint")
        fraction = round(len(public) / (len(public) + len(private)), 4)
        return cls(public, private, fraction, salted_digest(salt, "pseudonyms"), "private")

    def to_json(self) -> str:
        """The split file's text (ids sorted, so the bytes depend only on the split)."""
        table = {"format": FORMAT, "public_fraction": self.public_fraction,
                 "n_public": len(self.public), "n_private": len(self.private),
                 "pseudonym_secret": self.pseudonym_secret}
        if self.tiers_on != "all":  # left out otherwise, so a course's pinned split keeps its bytes
            table["tiers_on"] = self.tiers_on
        table.update(public=sorted(self.public), private=sorted(self.private))
        return json.dumps(table, indent=1) + "\n"

    def write(self, path: str | Path) -> str:
        """Write the split file (mode 0600, instructor-only); returns its SHA-256."""
        path = Path(path)
        data = self.to_json().encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o600)
        path.write_bytes(data)
        os.chmod(path, 0o600)
        return bytes_digest(data)

    @classmethod
    def read(cls, path: str | Path, sha256: str | None = None) -> PublicPrivateSplit:
        """Read a split file; with ``sha256``, refuse one whose bytes hash to anything else."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no public/private split file (expected the file `fercourse "
                                    "grade setup` writes next to the answer key)")
        data = path.read_bytes()
        if sha256 is not None and bytes_digest(data) != sha256:
            raise InputError(f"the split {path} has SHA-256 {bytes_digest(data)}, but the "
                             f"course pins {sha256}: it was edited or belongs to another setup; not grading")
        try:
            table = json.loads(data)
            public, private = frozenset(table["public"]), frozenset(table["private"])
            fraction, secret = float(table["public_fraction"]), str(table["pseudonym_secret"])
            tiers_on = table.get("tiers_on", "all")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DataError(path, f"not a public/private split ({error!r}): expected the JSON object "
                                  "`fercourse grade setup` writes") from None
        if tiers_on not in ("all", "private"):
            raise DataError(path, f"field 'tiers_on' is {tiers_on!r}: expected 'all' or 'private'")
        if not public or not private or not public.isdisjoint(private):
            raise DataError(path, "the public and private ids must both be non-empty and disjoint")
        return cls(public, private, fraction, secret, tiers_on)

    def check_covers(self, ids: Iterable[str], where: str = "the answer key") -> None:
        """Raise unless the split's ids are exactly ``ids`` (the key's), naming a few that differ."""
        ids = set(ids)
        ours = self.public | self.private
        if ids != ours:
            missing, extra = sorted(ids - ours), sorted(ours - ids)
            raise InputError(f"the public/private split does not match {where}: {len(missing)} ids are in "
                             f"neither part {missing[:3]}, {len(extra)} split ids are not in it {extra[:3]}: "
                             "re-run `fercourse grade setup` so that key and split come from one setup")


__all__ = ["DEFAULT_PUBLIC_FRACTION", "PublicPrivateSplit"]

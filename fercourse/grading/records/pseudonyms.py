"""Stable pseudonyms for students on a class leaderboard (``grade leaderboard --pseudonyms``).

A pseudonym is three words picked by an HMAC of the student id keyed with a secret of the
offering (the split's ``pseudonym_secret``, itself a one-way hash of the salt): the same student
gets the same pseudonym in every assignment and every run of that offering, and without the
secret nobody can tell whose it is, even holding the class roster. There are
48 x 48 x 1000 (about 2.3 million) pseudonyms, so two students in a class of 200 share one with
a probability under 1%; :func:`unique_pseudonyms` tells them apart when it happens.

Examples
--------
>>> pseudonym("ada", secret="s3cret") == pseudonym("ada", secret="s3cret")
True
>>> pseudonym("ada", secret="s3cret") != pseudonym("ada", secret="other")
True
>>> len(pseudonym("ada", secret="s3cret").split("-"))
3
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping

ADJECTIVES = ("amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "curious", "daring",
              "deft", "eager", "early", "fair", "fleet", "gentle", "glad", "golden", "grand", "green",
              "happy", "honest", "jolly", "keen", "kind", "lively", "lucky", "merry", "mellow", "misty",
              "nimble", "noble", "polar", "proud", "quick", "quiet", "rapid", "rosy", "silver", "sly",
              "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise", "witty")
ANIMALS = ("badger", "beaver", "bison", "crane", "dingo", "dolphin", "eagle", "egret", "falcon", "ferret",
           "finch", "fox", "gecko", "gibbon", "heron", "ibis", "jackal", "jaguar", "koala", "lemur",
           "lynx", "marten", "mole", "newt", "ocelot", "orca", "osprey", "otter", "owl", "panda",
           "pelican", "puffin", "quail", "raven", "robin", "salmon", "seal", "shrew", "stoat", "swan",
           "tapir", "tern", "tiger", "toucan", "walrus", "weasel", "wombat", "wren")


def pseudonym(student: str, secret: str) -> str:
    """The pseudonym of ``student`` under ``secret``: ``adjective-animal-NNN``."""
    digest = hmac.new(secret.encode(), str(student).encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[2:4], "big") % 1000
    return f"{ADJECTIVES[digest[0] % len(ADJECTIVES)]}-{ANIMALS[digest[1] % len(ANIMALS)]}-{number:03d}"


def unique_pseudonyms(pseudonyms: Mapping[str, str]) -> dict[str, str]:
    """``student -> pseudonym`` with shared pseudonyms told apart by a suffix (``-b``, ``-c``...).

    Among students sharing one, the first by student id keeps it and the next get ``-b``, ``-c``:
    stable across runs as long as the class does not change.

    Examples
    --------
    >>> unique_pseudonyms({"ada": "calm-owl-001", "bob": "calm-owl-001", "cy": "kind-fox-002"})
    {'ada': 'calm-owl-001', 'bob': 'calm-owl-001-b', 'cy': 'kind-fox-002'}
    """
    counts = Counter(pseudonyms.values())
    seen: Counter[str] = Counter()
    out = {}
    for student in sorted(pseudonyms):
        name = pseudonyms[student]
        if counts[name] > 1:
            seen[name] += 1
            if seen[name] > 1:
                name = f"{name}-{chr(ord('a') + seen[name] - 1)}"
        out[student] = name
    return out


__all__ = ["ADJECTIVES", "ANIMALS", "pseudonym", "unique_pseudonyms"]

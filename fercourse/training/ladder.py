"""The trick ladder's rungs: lesson 5's CNN, then the reference recipe's ingredients added one at a time.

Each rung is a :class:`~fercourse.training.recipes.Recipe`: the rung below with one change. The
recorded experiment ``ladder`` (:mod:`fercourse.course.experiments`) trains them on FER2013, and lesson 6
writes the same networks in Keras and checks them against :data:`RUNGS` (so a lesson reaches this
module, not the book's code).

Every rung computes in bfloat16 where the hardware runs it natively, as the reference recipe does (on
this course's CPU, one epoch of 4,096 faces: lesson 5's CNN 10.3 s in float32, 5.6 s in bfloat16; the
reference network 20.5 s and 12.0 s); the same on every rung, so the rungs still differ by one
ingredient.

Examples
--------
>>> [rung.name for rung in RUNGS][:3]
['lesson_cnn', 'crops', 'augmentation']
>>> RUNGS[3].recipe.label_smoothing, RUNGS[2].recipe.label_smoothing
(0.1, 0.0)
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from fercourse.config import Budget
from fercourse.training.recipes import Recipe

__all__ = ["RUNGS", "Rung"]


@dataclasses.dataclass(frozen=True)
class Rung:
    """One rung: its name (the experiment's arm), title, a short label for figures, and its recipe."""

    name: str
    title: str
    short: str
    recipe: Recipe


def _rungs() -> tuple[Rung, ...]:
    no_augmentation = {"flip": False, "rotation": 0.0, "translation": 0.0, "zoom": 0.0, "contrast": 0.0}
    changes = [
        ("lesson_cnn", "Lesson 5's CNN (bn variant, Adam 1e-3, no augmentation)", "lesson 5 CNN",
         dict(name="ladder_lesson_cnn", description="lesson 5's CNN", variant="bn",
              augment=MappingProxyType({}), learning_rate=1e-3, schedule="plateau",
              budget=Budget(epochs=30, batch_size=64), bfloat16=True)),
        ("crops", "+ random 40x40 windows", "+ 40x40 crops",
         dict(augment=MappingProxyType({**no_augmentation, "crop": 40}))),
        ("augmentation", "+ flips, rotations, zooms", "+ flips etc.",
         dict(augment=MappingProxyType({**no_augmentation, "flip": True, "rotation": 0.05, "zoom": 0.1,
                                        "crop": 40}))),
        ("label_smoothing", "+ label smoothing 0.1", "+ smoothing", dict(label_smoothing=0.1)),
        ("adamw", "+ AdamW (decoupled weight decay 0.01)", "+ AdamW", dict(weight_decay=0.01)),
        ("one_cycle", "+ one-cycle learning rate (peak 2e-3)", "+ one-cycle",
         dict(schedule="one_cycle", learning_rate=2e-3)),
        ("wide_gap", "+ the reference network (width 40, global average pooling)", "+ width, GAP",
         dict(variant="reference", width=40, stem_convs=1)),
    ]
    rungs, recipe = [], None
    for name, title, short, change in changes:
        recipe = Recipe(**change) if recipe is None else dataclasses.replace(
            recipe, name=f"ladder_{name}", description=title, **change)
        rungs.append(Rung(name, title, short, recipe))
    return tuple(rungs)


#: The trained rungs, in order (the experiment adds test-time augmentation and an ensemble, which
#: train nothing).
RUNGS: tuple[Rung, ...] = _rungs()

"""The budgets the lessons run with on real FER2013 in the book build (``book build --data``).

The lessons' own defaults are the budgets a student would give them on a GPU or an afternoon of CPU
(the CNN's 40 epochs alone take about two hours on a 2-core CPU). The publishing build instead
runs every lesson on real FER2013 with the shorter budgets below, chosen so that the whole build
fits in 90 minutes on a 2-core CPU, and each executed lesson says which budget produced it (its
build note, :func:`fercourse.course.runner.describe_build`). Parameters given with ``-p`` win.

``minutes`` is the wall time each lesson took in the first full real-data build (2026-12-03,
2-core CPU, rounded up to whole minutes; the runner prints it beside the measured time of every
later build; a lowest-priority grading job shared the cores): 44 min for the seven lessons and 6 s
for the book, 44 min 9 s in all. That leaves about half of the 90 minutes unused: raise a lesson's
epochs here (lesson 5's CNN was still improving after 8) and the next build's printed times show
what it cost.

Examples
--------
>>> real_data_budget("05_cnn")["num_epochs"]
8
>>> real_data_budget("99_new")
{}
>>> sum(budget.minutes for budget in REAL_DATA_BUDGETS.values()) <= 90
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["REAL_DATA_BUDGETS", "LessonBudget", "real_data_budget"]


@dataclass(frozen=True)
class LessonBudget:
    """One lesson's parameters in the real-data build and its planned minutes."""

    minutes: float
    parameters: dict[str, object] = field(default_factory=dict)


#: Per lesson stem. Epoch budgets are per model the lesson trains (lesson 4 trains two, lesson 6 several).
REAL_DATA_BUDGETS: dict[str, LessonBudget] = {
    "01_eda": LessonBudget(1),
    "02_baselines": LessonBudget(8),
    "03_mlp": LessonBudget(9, {"num_epochs": 15, "ablation_seeds": 2, "ablation_epochs": 5}),
    "04_recurrent": LessonBudget(5, {"num_epochs": 6}),
    "05_cnn": LessonBudget(13, {"num_epochs": 8, "tuner_trials": 2, "tuner_epochs": 1}),
    "06_augmentation": LessonBudget(10, {"num_epochs": 3}),
    "07_demo": LessonBudget(1),
    "08_trust": LessonBudget(19, {"num_epochs": 5, "forest_trees": 60, "robustness_faces": 600}),  # estimate
}


def real_data_budget(stem: str) -> dict[str, object]:
    """The parameters lesson ``stem`` runs with in the real-data build ({} for a lesson not listed)."""
    budget = REAL_DATA_BUDGETS.get(stem)
    return dict(budget.parameters) if budget else {}

"""The budgets the lessons run with on real FER2013 in the book build (``book build --data``).

The lessons' own defaults are the budgets a student would give them on a GPU or an afternoon of CPU
(the CNN's 40 epochs alone take about two hours on a 2-core CPU). The publishing build instead
runs every lesson on real FER2013 with the shorter budgets below, chosen so that the whole build
fits in 90 minutes on a 2-core CPU, and each executed lesson says which budget produced it (its
build note, :func:`fercourse.course.build_note.describe_build`). Parameters given with ``-p`` win.

``minutes`` is the wall time each lesson took in the first full real-data build (2026-12-03,
2-core CPU, rounded up to whole minutes; the runner prints it beside the measured time of every
later build; a lowest-priority grading job shared the cores): 44 min for the seven lessons and 6 s
for the book, 44 min 9 s in all. That leaves about half of the 90 minutes unused: raise a lesson's
epochs here (lesson 5's CNN was still improving after 8) and the next build's printed times show
what it cost.

Each lesson's :class:`~fercourse.config.Budget` gives its epochs per model (injected as
``num_epochs``) and its planned minutes; :data:`LESSON_OPTIONS` holds the other parameters a lesson
shrinks for the build.

Examples
--------
>>> real_data_budget("03_mlp")
{'num_epochs': 15, 'ablation_seeds': 2, 'ablation_epochs': 5}
>>> real_data_budget("99_new")
{}
"""

from __future__ import annotations

from fercourse.config import Budget

__all__ = ["LESSON_OPTIONS", "REAL_DATA_BUDGETS", "real_data_budget"]

#: Per lesson stem. Epoch budgets are per model the lesson trains (lesson 4 trains two, lesson 6 several).
REAL_DATA_BUDGETS: dict[str, Budget] = {
    "01_eda": Budget(minutes=1),
    "02_baselines": Budget(minutes=8),
    "03_mlp": Budget(epochs=15, minutes=9),
    "04_recurrent": Budget(epochs=6, minutes=5),
    "05_cnn": Budget(epochs=8, minutes=13),
    "06_augmentation": Budget(epochs=3, minutes=10),
    "07_demo": Budget(epochs=10, minutes=13),  # 766 s and 1,085 s measured 2026-12-07, loaded 2-core CPU
    "08_trust": Budget(epochs=5, minutes=19),  # an estimate, scaled from a quick real-data run
    "09_labeller": Budget(minutes=1),  # trains nothing: 38.5 s measured (2026-12-07, load 11, 2 cores)
}

#: Lesson parameters besides ``num_epochs`` that the real-data build sets.
LESSON_OPTIONS: dict[str, dict[str, object]] = {
    "03_mlp": {"ablation_seeds": 2, "ablation_epochs": 5},
    "05_cnn": {"tuner_trials": 2, "tuner_epochs": 1},
    "08_trust": {"forest_trees": 60, "robustness_faces": 600},
}


def real_data_budget(stem: str) -> dict[str, object]:
    """The parameters lesson ``stem`` runs with in the real-data build ({} for a lesson not listed)."""
    budget = REAL_DATA_BUDGETS.get(stem)
    if budget is None:
        return {}
    epochs = {"num_epochs": budget.epochs} if budget.epochs is not None else {}
    return {**epochs, **LESSON_OPTIONS.get(stem, {})}

"""The budgets the lessons run with on real FER2013 in the publishing build (``book build --data``).

Each budget is chosen from what its lesson claims, not from a total, so that the figures a reader
sees carry the lesson's sentences; the whole cold build is planned for about 150 minutes of a 2-core
CPU (issue 29), and each executed lesson says which budget produced it (its build note,
:func:`fercourse.course.build_note.describe_build`). Parameters given with ``-p`` win.

- Lessons 3 and 4 run at their own defaults: their networks stop early (patience 6 and 5) long
  before the caps (the recorded experiments stopped the MLP after 6-17 epochs, 0.5-1.4 min each, the
  LSTM after 15 epochs in 2.4 min and the GRU with attention after 21 in 4.6 min), so lesson 3's
  ablation gets its 3 seeds of up to 20 epochs per setting and each network trains until validation
  stops improving.
- Lesson 5's CNN keeps its 40-epoch cap with patience 8, so it trains until validation loss stops
  improving (the recorded 40-epoch runs of the same network bottomed out at epochs 20-22, so about
  30 epochs run). Its search tries 6 of the 12 settings for 3 epochs each: enough to rank them by
  how fast they learn, which is what the lesson says a short search measures.
- Lesson 6's six runs of the simple CNN get 8 epochs each. The plain model starts to overfit by
  then (a train-validation gap of 0.100 on 2026-12-08), well short of the 40 epochs over which the
  recorded experiment judged augmentation (the bn CNN's validation loss was lowest at epochs 20-22),
  so the lesson's prose quotes the recorded ``augmentation`` and
  ``ladder`` experiments for what augmentation does later, and reads this run's figures as what 8
  epochs show.

``minutes`` is each lesson's planned wall time on a 2-core CPU: for lessons 1, 2, 7, 8 and 9
as measured in earlier real-data builds (2026-12-03 and 2026-12-07, rounded up); for lessons 3-6 an
estimate from the epoch times of those builds and of the recorded experiments. 134 minutes in all.
Lessons 3-6 first ran at these budgets on 2026-12-08, each beside another job on the same two cores
(a training run, a full test run), so their measured times (in the comments) are upper bounds; a
build on a quiet machine prints the measured time beside each plan.

Each lesson's :class:`~fercourse.config.Budget` gives its epochs per model (injected as
``num_epochs``; None keeps the lesson's own) and its planned minutes; :data:`LESSON_OPTIONS` holds
the other parameters a lesson changes for the build.

Examples
--------
>>> real_data_budget("05_cnn")
{'tuner_trials': 6, 'tuner_epochs': 3}
>>> real_data_budget("03_mlp")  # the lesson's own defaults
{}
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
    "03_mlp": Budget(minutes=15),  # 19.1 min measured 2026-12-08 beside a training run
    "04_recurrent": Budget(minutes=12),  # 13.6 min measured 2026-12-08 beside a training run
    # 65.0 min measured 2026-12-08 beside a full test run: 30 epochs (early stopping), 18 search epochs
    "05_cnn": Budget(minutes=40),
    "06_augmentation": Budget(epochs=8, minutes=25),  # estimate: 6 runs of 8 epochs at about 30 s
    "07_demo": Budget(epochs=10, minutes=13),  # 766 s and 1,085 s measured 2026-12-07, loaded 2-core CPU
    "08_trust": Budget(epochs=5, minutes=19),  # an estimate, scaled from a quick real-data run
    "09_labeller": Budget(minutes=1),  # trains nothing: 38.5 s measured (2026-12-07, load 11, 2 cores)
}

#: Lesson parameters besides ``num_epochs`` that the real-data build sets.
LESSON_OPTIONS: dict[str, dict[str, object]] = {
    "05_cnn": {"tuner_trials": 6, "tuner_epochs": 3},
    "08_trust": {"forest_trees": 60, "robustness_faces": 600},
}


def real_data_budget(stem: str) -> dict[str, object]:
    """The parameters lesson ``stem`` runs with in the real-data build ({} for a lesson not listed)."""
    budget = REAL_DATA_BUDGETS.get(stem)
    if budget is None:
        return {}
    epochs = {"num_epochs": budget.epochs} if budget.epochs is not None else {}
    return {**epochs, **LESSON_OPTIONS.get(stem, {})}

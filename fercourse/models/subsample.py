"""Train any scikit-learn classifier on a stratified random subsample of its training data.

Imported lazily by :func:`fercourse.models.build_baseline` (it needs scikit-learn's base classes).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if


def _inner_has(method: str):
    return lambda self: hasattr(self.estimator_ if hasattr(self, "estimator_") else self.estimator, method)


class Subsampled(ClassifierMixin, BaseEstimator):
    """Fit a classifier on at most ``max_samples`` rows (a stratified random subsample).

    Follows the scikit-learn estimator rules (``fit`` returns ``self``, learned state ends in
    ``_``) and forwards ``predict`` / ``predict_proba`` to the fitted copy ``estimator_``.
    ``n_fit_`` says how many rows it really trained on.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn classifier.
    max_samples : int or None
        Upper bound on training rows; None trains on everything.
    random_state : int
        Seed of the subsample.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((10, 3)), np.array([0, 1] * 5)
    >>> Subsampled(DummyClassifier(), max_samples=4).fit(X, y).n_fit_
    4
    """

    def __init__(self, estimator, max_samples: int | None = 10_000, random_state: int = 0):
        self.estimator = estimator
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(self, X, y):  # noqa: N803 - scikit-learn's convention
        from sklearn.base import clone

        X, y = np.asarray(X), np.asarray(y)
        rows = np.arange(len(y))
        if self.max_samples is not None and len(y) > self.max_samples:
            from sklearn.model_selection import train_test_split

            counts = np.bincount(y)
            stratify = y if counts[counts > 0].min() >= 2 else None
            rows, _ = train_test_split(rows, train_size=int(self.max_samples), random_state=self.random_state,
                                       stratify=stratify)
            rows = np.sort(rows)
        self.estimator_ = clone(self.estimator).fit(X[rows], y[rows])
        self.classes_ = self.estimator_.classes_
        self.n_fit_ = len(rows)
        return self

    def predict(self, X):  # noqa: N803
        return self.estimator_.predict(X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):  # noqa: N803
        return self.estimator_.predict_proba(X)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):  # noqa: N803
        return self.estimator_.decision_function(X)

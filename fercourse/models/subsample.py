"""Train any scikit-learn classifier on a stratified random subsample of its training data.

Imported lazily by :func:`fercourse.models.build_baseline` (it needs scikit-learn's base classes).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if

from fercourse.data.splits import stratified_subsample


def _inner_has(method: str):
    return lambda self: hasattr(self.estimator_ if hasattr(self, "estimator_") else self.estimator, method)


class Subsampled(ClassifierMixin, BaseEstimator):
    """Fit a classifier on at most ``max_samples`` rows (:func:`fercourse.data.stratified_subsample`).

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

    def fit(self, X, y):  # scikit-learn's convention
        from sklearn.base import clone

        X, y = np.asarray(X), np.asarray(y)
        rows = np.arange(len(y)) if self.max_samples is None else stratified_subsample(
            y, int(self.max_samples), self.random_state)
        self.estimator_ = clone(self.estimator).fit(X[rows], y[rows])
        self.classes_ = self.estimator_.classes_
        self.n_fit_ = len(rows)
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        return self.estimator_.decision_function(X)

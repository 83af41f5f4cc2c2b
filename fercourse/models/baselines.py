"""Classical scikit-learn baselines, built by name, and a cross-validation helper.

Every baseline is a scikit-learn estimator (usually a pipeline) that takes flat float pixels,
``fercourse.data.as_flat(images)`` of shape (n, 2304), and predicts labels 0-6. The defaults
are sized to fit in about a minute on the full FER2013 training split (28,709 images) on a
2-core machine. Where the algorithm is too slow for that (KNN's grid search, the RBF SVM and
the random forest's trees), the pipeline trains on a stratified random subsample, as the seed
courses did; :class:`~fercourse.models.subsample.Subsampled` does it and says how many rows it kept.
"""

from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

from fercourse.errors import InputError, InputTypeError


def _dummy(seed: int, *, strategy: str = "most_frequent"):
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy=strategy, random_state=seed)


def _logistic_regression(seed: int, *, pca_components: int | None = 200, C: float = 0.1,  # noqa: N803
                         max_iter: int = 300, class_weight: str | dict | None = None):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # Whitened components make the problem well conditioned: lbfgs converges in tens of
    # iterations instead of hundreds on raw pixels.
    pca = [PCA(pca_components, whiten=True, random_state=seed)] if pca_components else []
    # class_weight="balanced" weighs each class's loss by n / (k * count), as fercourse.data.class_weights.
    return make_pipeline(StandardScaler(), *pca, LogisticRegression(C=C, max_iter=max_iter,
                                                                     class_weight=class_weight))


def _random_forest(seed: int, *, n_estimators: int = 100, max_samples: int | None = 15_000, n_jobs: int = -1):
    from sklearn.ensemble import RandomForestClassifier

    from fercourse.models.subsample import Subsampled

    forest = RandomForestClassifier(n_estimators=n_estimators, min_samples_leaf=2, max_features="sqrt",
                                    n_jobs=n_jobs, random_state=seed)
    return Subsampled(forest, max_samples, seed)


def _naive_bayes(seed: int):
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB()


def _sgd(seed: int, *, loss: str = "modified_huber", alpha: float = 1e-3, max_iter: int = 30):
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), SGDClassifier(loss=loss, alpha=alpha, max_iter=max_iter, tol=1e-3,
                                                         random_state=seed))


def _knn_pca(seed: int, *, pca_components: int = 60, k_grid: tuple[int, ...] = (3, 7, 15),
             max_samples: int | None = 10_000):
    from sklearn.decomposition import PCA
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline

    from fercourse.models.subsample import Subsampled

    pipeline = make_pipeline(PCA(pca_components, random_state=seed), KNeighborsClassifier(weights="distance"))
    grid = {"kneighborsclassifier__n_neighbors": list(k_grid)}
    return Subsampled(GridSearchCV(pipeline, grid, cv=3), max_samples, seed)


def _svm_pca(seed: int, *, pca_components: int = 100, C: float = 5.0,  # noqa: N803
             max_samples: int | None = 6_000):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from fercourse.models.subsample import Subsampled

    svm = make_pipeline(StandardScaler(), PCA(pca_components, random_state=seed),
                        SVC(C=C, gamma="scale", random_state=seed))
    return Subsampled(svm, max_samples, seed)


def _kmeans_logistic(seed: int, *, pca_components: int = 60, n_clusters: int = 200,
                     C: float = 0.1, max_iter: int = 300):  # noqa: N803
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return make_pipeline(
        StandardScaler(), PCA(pca_components, whiten=True, random_state=seed),
        MiniBatchKMeans(n_clusters, n_init=3, random_state=seed), FunctionTransformer(triangle_features),
        StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))


# name -> factory(seed, **options). A factory's keyword arguments are the options build_baseline takes.
_FACTORIES: dict[str, Callable] = {
    "dummy": _dummy,
    "logistic_regression": _logistic_regression,
    "random_forest": _random_forest,
    "naive_bayes": _naive_bayes,
    "sgd": _sgd,
    "knn_pca": _knn_pca,
    "svm_pca": _svm_pca,
    "kmeans_logistic": _kmeans_logistic,
}
BASELINES = tuple(_FACTORIES)


def baseline_options(name: str) -> dict:
    """The options baseline ``name`` takes, with their defaults.

    Examples
    --------
    >>> baseline_options("sgd")
    {'loss': 'modified_huber', 'alpha': 0.001, 'max_iter': 30}
    """
    if name not in _FACTORIES:
        raise InputError(f"baseline name {name!r} is unknown: expected one of {', '.join(BASELINES)}")
    parameters = inspect.signature(_FACTORIES[name]).parameters.values()
    return {parameter.name: parameter.default for parameter in parameters
            if parameter.kind is parameter.KEYWORD_ONLY}


def build_baseline(name: str, *, random_state: int = 0, **options):
    """Build an unfitted scikit-learn baseline by name.

    Parameters
    ----------
    name : str
        One of :data:`BASELINES`; :func:`baseline_options` lists each one's options and defaults.

        - ``dummy``: always predicts the most frequent class (the floor every model must beat);
          ``strategy``.
        - ``logistic_regression``: standard scaling, optional whitened PCA (``pca_components``,
          default 200; None keeps all 2,304 pixels), multinomial logistic regression (``C`` 0.1,
          ``max_iter`` 300, ``class_weight`` None; ``"balanced"`` weighs each class's loss by
          ``n / (k * count)``).
        - ``random_forest``: ``n_estimators`` (default 100) trees, ``min_samples_leaf`` 2, on a
          subsample of ``max_samples`` (default 15,000) rows; ``n_jobs``.
        - ``naive_bayes``: Gaussian naive Bayes on the raw pixels; no options.
        - ``sgd``: standard scaling, linear SVM by stochastic gradient descent (``loss``, ``alpha``,
          ``max_iter``).
        - ``knn_pca``: PCA (``pca_components`` 60, whitened off) then k-nearest neighbours, ``k``
          chosen from ``k_grid`` (default (3, 7, 15)) by 3-fold grid search on a subsample of
          ``max_samples`` (default 10,000) rows.
        - ``svm_pca``: scaling, PCA (``pca_components`` 100) then an RBF SVM (``C`` 5) on a subsample
          of ``max_samples`` (default 6,000) rows. It has no ``predict_proba`` (Platt scaling would
          triple its cost); :func:`fercourse.evaluate.predict_proba` softmaxes its decision function.
        - ``kmeans_logistic``: scaling, whitened PCA (``pca_components`` 60), mini-batch k-means
          (``n_clusters`` 200); the distances to the centroids, through :func:`triangle_features`,
          feed a logistic regression (``C`` 0.1, ``max_iter`` 300).

        The subsamples are :func:`fercourse.data.stratified_subsample` (through
        :class:`~fercourse.models.subsample.Subsampled`); ``max_samples=None`` trains on every row.
    random_state : int
        Seed for every random part.
    **options
        The options above; anything else raises TypeError.

    Returns
    -------
    estimator
        A scikit-learn classifier with ``fit``, ``predict`` and (all but ``svm_pca``) ``predict_proba``.

    Examples
    --------
    >>> model = build_baseline("naive_bayes")
    >>> X = np.r_[np.zeros((5, 2304)), np.ones((5, 2304))]
    >>> model.fit(X, [0] * 5 + [3] * 5).predict(X[[0, 9]]).tolist()
    [0, 3]
    """
    unknown = sorted(set(options) - set(baseline_options(name)))
    if unknown:
        raise InputTypeError(f"build_baseline({name!r}) got unknown option(s) {', '.join(unknown)}")
    return _FACTORIES[name](random_state, **options)


def triangle_features(distances: np.ndarray) -> np.ndarray:
    """Coates and Ng's "triangle" k-means encoding: ``max(0, mean distance - distance to centroid k)``.

    Sparse and far better conditioned than raw distances, so the logistic regression on top
    converges in tens of iterations instead of hundreds.

    Examples
    --------
    >>> triangle_features(np.array([[1.0, 2.0, 6.0]])).tolist()
    [[2.0, 1.0, 0.0]]
    """
    distances = np.asarray(distances, dtype=np.float64)
    return np.maximum(0.0, distances.mean(axis=1, keepdims=True) - distances)


def cross_validate(model, X, y, *, cv: int = 5, scoring: str = "accuracy",
                   seed: int = 0) -> dict:
    """Stratified k-fold cross-validation of a baseline (a name or an estimator).

    Returns
    -------
    dict
        ``scores`` (one per fold), ``mean`` and ``std`` of the scores, ``metric`` and ``split``
        (always ``"cross-validation on the given data"``, so nobody mistakes it for a test score).

    Examples
    --------
    >>> X = np.r_[np.zeros((6, 2304)), np.ones((6, 2304))]
    >>> result = cross_validate("naive_bayes", X, [0] * 6 + [1] * 6, cv=3)
    >>> result["mean"], result["std"], len(result["scores"])
    (1.0, 0.0, 3)
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    estimator = build_baseline(model, random_state=seed) if isinstance(model, str) else model
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    scores = cross_val_score(estimator, np.asarray(X), np.asarray(y), cv=folds, scoring=scoring)
    return {"scores": [float(s) for s in scores], "mean": float(np.mean(scores)),
            "std": float(np.std(scores)), "metric": scoring, "split": "cross-validation on the given data"}

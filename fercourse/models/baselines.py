"""Classical scikit-learn baselines, built by name, and a cross-validation helper.

Every baseline is a scikit-learn estimator (usually a pipeline) that takes flat float pixels,
``fercourse.data.as_flat(images)`` of shape (n, 2304), and predicts labels 0-6. The defaults
are sized to fit in about a minute on the full FER2013 training split (28,709 images) on a
2-core machine. Where the algorithm is too slow for that (KNN's grid search, the RBF SVM and
the random forest's trees), the pipeline trains on a stratified random subsample, as the seed
courses did; :class:`~fercourse.models.subsample.Subsampled` does it and says how many rows it kept.
"""

from __future__ import annotations

import numpy as np

BASELINES = ("dummy", "logistic_regression", "random_forest", "naive_bayes", "sgd", "knn_pca", "svm_pca",
             "kmeans_logistic")


def build_baseline(name: str, *, random_state: int = 0, **params):
    """Build an unfitted scikit-learn baseline by name.

    Parameters
    ----------
    name : str
        One of :data:`BASELINES`:

        - ``dummy``: always predicts the most frequent class (the floor every model must beat).
        - ``logistic_regression``: standard scaling, optional whitened PCA (``pca_components``,
          default 200; None keeps all 2,304 pixels), multinomial logistic regression (``C`` 0.1,
          ``max_iter``).
        - ``random_forest``: ``n_estimators`` (default 100) trees, ``min_samples_leaf`` 2, on a
          subsample of ``max_samples`` (default 15,000) rows.
        - ``naive_bayes``: Gaussian naive Bayes on the raw pixels.
        - ``sgd``: standard scaling, linear SVM by stochastic gradient descent (``loss``, ``alpha``).
        - ``knn_pca``: PCA (``pca_components`` 60, whitened off) then k-nearest neighbours, ``k``
          chosen from ``k_grid`` (default (3, 7, 15)) by 3-fold grid search on a subsample of
          ``max_samples`` (default 10,000) rows.
        - ``svm_pca``: scaling, PCA (100 components) then an RBF SVM (``C`` 5) on a subsample of
          ``max_samples`` (default 6,000) rows. It has no ``predict_proba`` (Platt scaling would
          triple its cost); :func:`fercourse.evaluate.predict_proba` softmaxes its decision function.
        - ``kmeans_logistic``: scaling, whitened PCA (60), mini-batch k-means (``n_clusters`` 200); the
          distances to the centroids, through :func:`triangle_features`, feed a logistic regression.
    random_state : int
        Seed for every random part.
    **params
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
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fercourse.models.subsample import Subsampled

    if name not in BASELINES:
        raise ValueError(f"baseline name {name!r} is unknown: expected one of {', '.join(BASELINES)}")
    options = dict(params)

    def take(key, default):
        return options.pop(key, default)

    seed = random_state
    if name == "dummy":
        from sklearn.dummy import DummyClassifier

        model = DummyClassifier(strategy=take("strategy", "most_frequent"), random_state=seed)
    elif name == "logistic_regression":
        from sklearn.linear_model import LogisticRegression

        components = take("pca_components", 200)
        # Whitened components make the problem well conditioned: lbfgs converges in tens of
        # iterations instead of hundreds on raw pixels.
        steps = [StandardScaler()] + ([PCA(components, whiten=True, random_state=seed)] if components else [])
        model = make_pipeline(*steps, LogisticRegression(C=take("C", 0.1), max_iter=take("max_iter", 300)))
    elif name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        forest = RandomForestClassifier(n_estimators=take("n_estimators", 100), min_samples_leaf=2,
                                        max_features="sqrt", n_jobs=take("n_jobs", -1), random_state=seed)
        model = Subsampled(forest, take("max_samples", 15_000), seed)
    elif name == "naive_bayes":
        from sklearn.naive_bayes import GaussianNB

        model = GaussianNB()
    elif name == "sgd":
        from sklearn.linear_model import SGDClassifier

        model = make_pipeline(StandardScaler(), SGDClassifier(
            loss=take("loss", "modified_huber"), alpha=take("alpha", 1e-3), max_iter=take("max_iter", 30),
            tol=1e-3, random_state=seed))
    elif name == "knn_pca":
        from sklearn.model_selection import GridSearchCV
        from sklearn.neighbors import KNeighborsClassifier

        pipeline = make_pipeline(PCA(take("pca_components", 60), random_state=seed),
                                 KNeighborsClassifier(weights="distance"))
        grid = {"kneighborsclassifier__n_neighbors": list(take("k_grid", (3, 7, 15)))}
        model = Subsampled(GridSearchCV(pipeline, grid, cv=3), take("max_samples", 10_000), seed)
    elif name == "svm_pca":
        from sklearn.svm import SVC

        svm = make_pipeline(StandardScaler(), PCA(take("pca_components", 100), random_state=seed),
                            SVC(C=take("C", 5.0), gamma="scale", random_state=seed))
        model = Subsampled(svm, take("max_samples", 6_000), seed)
    else:  # kmeans_logistic
        from sklearn.cluster import MiniBatchKMeans
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import FunctionTransformer

        model = make_pipeline(
            StandardScaler(), PCA(take("pca_components", 60), whiten=True, random_state=seed),
            MiniBatchKMeans(take("n_clusters", 200), n_init=3, random_state=seed),
            FunctionTransformer(triangle_features),
            StandardScaler(), LogisticRegression(C=take("C", 0.1), max_iter=take("max_iter", 300)))
    if options:
        raise TypeError(f"build_baseline({name!r}) got unknown option(s) {', '.join(sorted(options))}")
    return model


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


def cross_validate(model, X, y, *, cv: int = 5, scoring: str = "accuracy", seed: int = 0) -> dict:  # noqa: N803
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

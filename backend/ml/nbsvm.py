"""NB-SVM (Wang & Manning 2012, in its logistic-regression form): a linear model on features
scaled by their naive-Bayes log-count ratio, a strong classic for toxic-comment data.

The fitted model keeps only arrays: `r_` (the ratios), and `coef_`/`intercept_` already
multiplied by them, so it scores raw features exactly like any linear model (and explains
itself the same way: feature value × `coef_`). skops stores it as this project's own type.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


class NBSVMClassifier(LinearClassifierMixin, BaseEstimator):
    """Logistic regression on naive-Bayes-scaled features; one-vs-rest for more classes.

    `alpha` smooths the per-class feature counts behind the log-count ratio; `C` is the
    inverse regularisation of the logistic regression. Features must be non-negative
    (counts or TF-IDF), as for any naive Bayes model.
    """

    def __init__(
        self,
        C: float = 4.0,
        alpha: float = 1.0,
        max_iter: int = 1000,
        class_weight: Literal["balanced"] | None = None,
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.alpha = alpha
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> NBSVMClassifier:
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        check_classification_targets(y)
        if (X.data if sp.issparse(X) else X).min(initial=0.0) < 0:
            raise ValueError("NB-SVM needs non-negative features (counts or TF-IDF)")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("NB-SVM needs at least two classes in the training data")
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        ratios, coefs, intercepts = [], [], []
        for target in targets:
            positive = y == target
            ratio = self._log_count_ratio(X, positive)
            scaled = X.multiply(ratio).tocsr() if sp.issparse(X) else X * ratio
            model = LogisticRegression(
                C=self.C,
                max_iter=self.max_iter,
                class_weight=self.class_weight,
                random_state=self.random_state,
                solver="liblinear",
            ).fit(scaled, positive)
            ratios.append(ratio)
            coefs.append(model.coef_[0] * ratio)  # folded in: raw features score directly
            intercepts.append(model.intercept_[0])
        self.r_ = np.vstack(ratios)
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts, dtype=np.float64)
        return self

    def _log_count_ratio(self, X: Any, positive: np.ndarray) -> np.ndarray:
        p = self.alpha + np.asarray(X[positive].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(X[~positive].sum(axis=0)).ravel()
        return np.log(p / p.sum()) - np.log(q / q.sum())

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        decision = np.asarray(self.decision_function(X), dtype=np.float64)
        if decision.ndim == 1:
            positive = expit(decision)
            return np.column_stack([1.0 - positive, positive])
        # One-vs-rest: each class's own probability, normalised across classes.
        probabilities = expit(decision)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return np.log(self.predict_proba(X))

"""The logistic-regression baseline: the simplest honest ML model on the same features and split."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from models.features import FeaturesStep


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


def build_logistic_baseline(features: FeaturesStep, min_category_share: float = 0.002) -> Pipeline:
    """A fresh copy of the model's features step -> signed log1p, median imputation with missing indicators,
    scaling, one-hot -> logistic regression."""
    spec = features.feature_spec
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        FunctionTransformer(_signed_log1p, feature_names_out="one-to-one"),
        StandardScaler(),
    )
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True),
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_category_share or None),
    )
    encoder = ColumnTransformer(
        [("numeric", numeric, list(spec.numeric)), ("categorical", categorical, list(spec.categorical))]
    )
    return Pipeline(
        [("features", clone(features)), ("encode", encoder), ("classifier", LogisticRegression(C=0.1, max_iter=2000))]
    )

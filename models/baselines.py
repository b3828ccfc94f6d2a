"""The logistic-regression baseline: the simplest honest ML model on the same features and split."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from models.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, LeadFeatureBuilder


def build_logistic_baseline(
    min_category_share: float = 0.002,
    extra_freemail_domains: tuple[str, ...] = (),
    competitor_domains: tuple[str, ...] = (),
) -> Pipeline:
    """Features -> log1p counts, median imputation with missing indicators, scaling, one-hot -> logistic regression."""
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
        StandardScaler(),
    )
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True),
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_category_share or None),
    )
    encoder = ColumnTransformer(
        [("numeric", numeric, list(NUMERIC_FEATURES)), ("categorical", categorical, list(CATEGORICAL_FEATURES))]
    )
    return Pipeline(
        [
            ("features", LeadFeatureBuilder(extra_freemail_domains, competitor_domains)),
            ("encode", encoder),
            ("classifier", LogisticRegression(C=0.1, max_iter=2000)),
        ]
    )

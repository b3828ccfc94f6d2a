"""The model: one sklearn Pipeline from raw lead records to LightGBM's conversion probability.

    features (LeadFeatures) -> encode (CategoryCodes) -> classifier (LGBMClassifier)

Categorical features become codes (rare categories grouped, unseen ones treated as missing) that LightGBM
treats as categorical. Monotone constraints encode what the domain is sure of, e.g. a demo request can
only raise the score and a freemail address can only lower it.
"""

from __future__ import annotations

from collections.abc import Mapping

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from models.features import FeatureSpec, FeaturesStep, factorize_values, feature_spec_of


class BoosterParams(BaseModel):
    """LightGBM hyper-parameters; ``max_trees`` is an upper bound, early stopping picks the number used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    learning_rate: float = Field(0.03, gt=0, le=1)
    max_trees: int = Field(2000, ge=10)
    early_stopping_rounds: int = Field(100, ge=5)
    num_leaves: int = Field(15, ge=2)
    min_child_samples: int = Field(100, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(5.0, ge=0)
    min_category_share: float = Field(0.002, ge=0, lt=0.5)
    random_state: int = 42


def monotone_vector(constraints: Mapping[str, int], spec: FeatureSpec) -> list[int]:
    """LightGBM's per-column constraint list, in the encoder's output order (numeric, then categorical).

    Raises:
        ValueError: a constraint names a feature the model does not have, or a categorical one; named.
    """
    unknown = sorted(set(constraints) - set(spec.names))
    if unknown:
        raise ValueError(
            f"monotone_constraints: {unknown} are not features of this model; expected some of {list(spec.numeric)}"
        )
    categorical = sorted(set(constraints) & set(spec.categorical))
    if categorical:
        raise ValueError(f"monotone_constraints: {categorical} are categories; only numeric features can be monotone")
    return [int(constraints.get(name, 0)) for name in spec.names]


def input_fields(model: Pipeline) -> tuple[str, ...]:
    """The CRM export columns a model reads (its request fields)."""
    return tuple(model.named_steps["features"].input_columns)


class CategoryCodes(TransformerMixin, BaseEstimator):
    """Numeric features pass through; each categorical feature becomes a number LightGBM treats as a category.

    Categories seen in at least ``min_category_share`` of the training leads get their own code (in sorted
    order); rarer ones share one "infrequent" code; missing and never-seen values become NaN (LightGBM's
    missing). This is what sklearn's ColumnTransformer + OrdinalEncoder(min_frequency=...) did, written as
    dictionary lookups on distinct values because their per-call validation cost ~9 ms for a single lead,
    more than the whole scoring budget.
    """

    def __init__(self, min_category_share: float = 0.002, spec: FeatureSpec | None = None):
        self.min_category_share = min_category_share
        self.spec = spec

    @property
    def spec_(self) -> FeatureSpec:
        if self.spec is None:
            raise ValueError("CategoryCodes needs the model's FeatureSpec")
        return self.spec

    def fit(self, X: pd.DataFrame, y: object = None) -> CategoryCodes:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        minimum = self.min_category_share * len(X)
        self.codes_: dict[str, dict[str, float]] = {}
        for feature in self.spec_.categorical:
            counts = X[feature].dropna().astype(str).value_counts()
            frequent = sorted(counts.index[counts >= minimum])
            codes = {category: float(code) for code, category in enumerate(frequent)}
            codes.update(dict.fromkeys(counts.index[counts < minimum], float(len(frequent))))
            self.codes_[feature] = codes
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        names = self.spec_.names
        encoded = self.encode_arrays({feature: X[feature].to_numpy() for feature in names})
        return pd.DataFrame(encoded, columns=list(names), index=X.index)

    def encode_arrays(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """The booster's input matrix (columns ``spec.names``) from one array per feature."""
        spec = self.spec_
        n = len(features[spec.names[0]])
        encoded = np.empty((n, len(spec.names)))
        for position, feature in enumerate(spec.numeric):
            encoded[:, position] = features[feature]
        for position, feature in enumerate(spec.categorical, start=len(spec.numeric)):
            codes, uniques = factorize_values(features[feature])
            mapping = self.codes_[feature]
            lookup = np.array([mapping.get(str(value), np.nan) for value in uniques] + [np.nan])
            encoded[:, position] = lookup[codes]
        return encoded

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.spec_.names, dtype=object)


def assemble_pipeline(
    features: FeaturesStep, params: BoosterParams, monotone_constraints: Mapping[str, int]
) -> Pipeline:
    """features -> encode -> classifier around a features step (see :class:`models.features.FeaturesStep`)."""
    spec = features.feature_spec
    classifier = lgb.LGBMClassifier(
        objective="binary",
        n_estimators=params.max_trees,
        learning_rate=params.learning_rate,
        num_leaves=params.num_leaves,
        min_child_samples=params.min_child_samples,
        subsample=params.subsample,
        subsample_freq=1,
        colsample_bytree=params.colsample_bytree,
        reg_lambda=params.reg_lambda,
        monotone_constraints=monotone_vector(monotone_constraints, spec),
        # "advanced" lets a few leads break the constraints (lightgbm-org/LightGBM#5358, #6155: a demo request
        # lowered 2 of 5,000 synthetic leads' scores); "intermediate" keeps the promise at ~0.004 test AUC.
        monotone_constraints_method="intermediate",
        random_state=params.random_state,
        verbose=-1,
    )
    encoder = CategoryCodes(params.min_category_share, spec)
    return Pipeline([("features", features), ("encode", encoder), ("classifier", classifier)])


def fit_model(
    model: Pipeline,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_valid: pd.DataFrame,
    y_valid: pd.Series,
    early_stopping_rounds: int,
) -> Pipeline:
    """Fit the pipeline; the number of trees is chosen by early stopping on the (later) validation leads.

    The preprocessing steps are fitted on the training leads only, then used to encode the validation
    leads for LightGBM's early stopping; the pipeline ends up fitted exactly as ``model.fit`` would.
    """
    preprocessing, classifier = model[:-1], model[-1]
    encoded_train = preprocessing.fit_transform(X_train, y_train)
    encoded_valid = preprocessing.transform(X_valid)
    classifier.fit(
        encoded_train,
        y_train,
        # eval_y is not label-encoded by LightGBM 4.7 (lightgbm-org/LightGBM#7400): our labels are already 0/1.
        eval_X=encoded_valid,
        eval_y=y_valid,
        categorical_feature=list(feature_spec_of(model).categorical),
        callbacks=[lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)],
    )
    return model


def predict_raw(model: Pipeline, leads: pd.DataFrame) -> np.ndarray:
    """Uncalibrated conversion probability of each lead."""
    return model.predict_proba(leads)[:, 1]

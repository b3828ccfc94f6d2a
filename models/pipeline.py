"""The model: one sklearn Pipeline from raw lead records to LightGBM's conversion probability.

    features (LeadFeatures) -> encode (CategoryCodes) -> classifier (LGBMClassifier)

Categorical features become codes (rare categories grouped, unseen ones treated as missing) that LightGBM
treats as categorical; a column with more distinct categories than a tree can split on well (hundreds of
landing pages or accounts) becomes its categories' smoothed conversion rate instead, cross-fitted on the
training leads so that no lead's own outcome is in its encoding. Monotone constraints encode what the domain
is sure of, e.g. a demo request can only raise the score and a freemail address can only lower it.
Hyper-parameters left unset scale with the training leads (:meth:`BoosterParams.scaled_to`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from models.features import Factorized, FeatureSpec, FeaturesStep, factorize_values

# From this many training leads on, the scaling rule gives the values the 200,000-lead synthetic export was
# tuned with (learning rate 0.03, 100 early-stopping rounds, 15 leaves, 100 leads per leaf).
LARGE_EXPORT_ROWS = 100_000
SINGLE_THREAD_ROWS = 50_000


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


class BoosterParams(BaseModel):
    """LightGBM hyper-parameters; ``max_trees`` is an upper bound, early stopping picks the number used.

    ``learning_rate``, ``early_stopping_rounds``, ``num_leaves`` and ``min_child_samples`` left unset (None)
    scale with the training leads (``n`` rows, ``p`` of them won), see :meth:`scaled_to`; a value set in
    ``mlflow.yml`` always wins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    learning_rate: float | None = Field(None, gt=0, le=1)
    max_trees: int = Field(2000, ge=10)
    early_stopping_rounds: int | None = Field(None, ge=5)
    num_leaves: int | None = Field(None, ge=2)
    min_child_samples: int | None = Field(None, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(5.0, ge=0)
    min_category_share: float = Field(0.002, ge=0, lt=0.5)
    max_category_codes: int = Field(32, ge=2, description="more distinct categories: the column is target-encoded")
    n_jobs: int | None = Field(None, description="LightGBM threads; unset: 1 below 50,000 training leads, else all")
    random_state: int = 42

    def scaled_to(self, n_rows: int | None = None, n_positives: int | None = None) -> BoosterParams:
        """The unset hyper-parameters for ``n_rows`` training leads of which ``n_positives`` won (None: a large export).

        - ``learning_rate`` = 0.03 x sqrt(100,000 / n), within 0.03..0.1: a small export early-stops on a small
          calibration set, where a few hundred slow steps chase noise; large ones keep the small steps that
          were tuned on 200,000 leads.
        - ``early_stopping_rounds`` = 3 / learning_rate, at least 30 (100 at 0.03, 30 at 0.1).
        - ``min_child_samples`` = n / 1,000, within 20..100: a leaf stands for 0.1% of the leads.
          LightGBM's ``min_data_per_group`` (leads per category group) follows it.
        - ``num_leaves`` = 2^floor(log2(p / 25)) - 1, within 3..15 (3 below 100 won leads, 7 from 200, 15 from
          400): few conversions cannot support deep interactions.
        - ``n_jobs`` = 1 below 50,000 leads: on small data threads wait on each other more than they work (a
          10,000-lead fit took 2-4x longer on 2 busy cores than on one), above all cores.
        - ``reg_lambda`` stays 5: a leaf's value is G / (H + lambda), so the same lambda already shrinks small
          leaves (few leads, small H) far more than large ones.
        """
        rows = LARGE_EXPORT_ROWS if n_rows is None else max(n_rows, 1)
        leaf_bits = 4 if n_positives is None else math.floor(math.log2(max(n_positives / 25, 1)))
        learning_rate = self.learning_rate or _clip(0.03 * math.sqrt(LARGE_EXPORT_ROWS / rows), 0.03, 0.1)
        scaled = {
            "learning_rate": learning_rate,
            "early_stopping_rounds": self.early_stopping_rounds or max(30, round(3 / learning_rate)),
            "min_child_samples": self.min_child_samples or int(_clip(round(rows / 1000), 20, 100)),
            "num_leaves": self.num_leaves or int(_clip(2**leaf_bits - 1, 3, 15)),
            "n_jobs": self.n_jobs or (1 if rows < SINGLE_THREAD_ROWS else None),
        }
        return self.model_copy(update=scaled)

    @property
    def is_scaled(self) -> bool:
        return None not in (self.learning_rate, self.early_stopping_rounds, self.num_leaves, self.min_child_samples)


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
    """Numeric features pass through; each categorical feature becomes a number LightGBM can split on.

    A column with at most ``max_category_codes`` distinct training categories is coded for LightGBM's own
    categorical splits: categories seen in at least ``min_category_share`` of the training leads get their own
    code (in sorted order), rarer ones share one "infrequent" code.

    A column with more (hundreds of landing pages, campaigns or accounts, most of them rare) would lose nearly
    all of them to "infrequent", and LightGBM's categorical splits over-fit such columns; it becomes each
    category's conversion rate instead, shrunk towards the overall rate by ``smoothing`` pseudo-leads
    ((won + smoothing x rate) / (leads + smoothing)). Fitted with the outcome (``fit_transform(X, y)``, as the
    Pipeline does) the training leads' own encodings are cross-fitted: each fold's rates come from the other
    folds, so no lead's outcome is in its own input (sklearn's TargetEncoder does the same). Such a column is
    numeric to LightGBM (``booster_categorical_`` omits it). Without the outcome it is coded as above.

    Missing and never-seen values become NaN (LightGBM's missing) either way. This is what sklearn's
    ColumnTransformer + OrdinalEncoder / TargetEncoder did, written as dictionary lookups on distinct values
    because their per-call validation cost ~9 ms for a single lead, more than the whole scoring budget.
    """

    def __init__(
        self,
        min_category_share: float = 0.002,
        spec: FeatureSpec | None = None,
        max_category_codes: int = 32,
        smoothing: float = 20.0,
        folds: int = 5,
        random_state: int = 0,
    ):
        self.min_category_share = min_category_share
        self.spec = spec
        self.max_category_codes = max_category_codes
        self.smoothing = smoothing
        self.folds = folds
        self.random_state = random_state

    @property
    def spec_(self) -> FeatureSpec:
        if self.spec is None:
            raise ValueError("CategoryCodes needs the model's FeatureSpec")
        return self.spec

    def _category_codes(self, values: pd.Series, n_rows: int) -> dict[str, float]:
        counts = values.value_counts()
        minimum = self.min_category_share * n_rows
        frequent = sorted(counts.index[counts >= minimum])
        codes = {category: float(code) for code, category in enumerate(frequent)}
        codes.update(dict.fromkeys(counts.index[counts < minimum], float(len(frequent))))
        return codes

    def _conversion_rates(self, values: pd.Series, y: np.ndarray) -> dict[str, float]:
        prior = float(y.mean())
        stats = (
            pd.DataFrame({"category": values.to_numpy(), "y": y})
            .groupby("category", sort=False)["y"]
            .agg(["sum", "count"])
        )
        rates = (stats["sum"] + self.smoothing * prior) / (stats["count"] + self.smoothing)
        return {str(category): float(rate) for category, rate in rates.items()}

    @staticmethod
    def _categories(X: pd.DataFrame, feature: str) -> tuple[pd.Series, np.ndarray]:
        """A column's given values as text, and where they are (positions in ``X``)."""
        column = X[feature]
        present = column.notna().to_numpy()
        return column[present].astype(str), present

    def fit(self, X: pd.DataFrame, y: object = None) -> CategoryCodes:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        labels = None if y is None else np.asarray(y, dtype=float)
        self.codes_: dict[str, dict[str, float]] = {}
        target_encoded = []
        for feature in self.spec_.categorical:
            values, present = self._categories(X, feature)
            if labels is not None and values.nunique() > self.max_category_codes:
                self.codes_[feature] = self._conversion_rates(values, labels[present])
                target_encoded.append(feature)
            else:
                self.codes_[feature] = self._category_codes(values, len(X))
        self.target_encoded_ = tuple(target_encoded)
        return self

    def fit_transform(self, X: pd.DataFrame, y: object = None, **fit_params: object) -> pd.DataFrame:
        """Fit, then encode the fitting rows; target-encoded columns cross-fitted (see the class docstring)."""
        encoded = self.fit(X, y).transform(X)
        if not self.target_encoded_:
            return encoded
        labels = np.asarray(y, dtype=float)
        n_folds = int(min(self.folds, len(X)))
        for fit_rows, held_out in KFold(n_folds, shuffle=True, random_state=self.random_state).split(X):
            fold = X.iloc[fit_rows]
            for feature in self.target_encoded_:
                values, present = self._categories(fold, feature)
                rates = self._conversion_rates(values, labels[fit_rows][present])
                column = X[feature].iloc[held_out].to_numpy()
                codes, uniques = factorize_values(column)
                lookup = np.array([rates.get(str(value), np.nan) for value in uniques] + [np.nan])
                position = list(encoded.columns).index(feature)
                encoded.iloc[held_out, position] = lookup[codes]
        return encoded

    @property
    def booster_categorical_(self) -> tuple[str, ...]:
        """The features LightGBM splits on as categories (the target-encoded ones are numbers)."""
        return tuple(f for f in self.spec_.categorical if f not in getattr(self, "target_encoded_", ()))

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        names = self.spec_.names
        encoded = self.encode_arrays({feature: X[feature].to_numpy() for feature in names})
        return pd.DataFrame(encoded, columns=list(names), index=X.index)

    def encode_arrays(
        self, features: Mapping[str, np.ndarray], factorized: Mapping[str, Factorized] | None = None
    ) -> np.ndarray:
        """The booster's input matrix (columns ``spec.names``) from one array per feature (``factorized``: category
        features' factorizations the features step gave, ``LeadFeatures.arrays_from_columns``)."""
        spec = self.spec_
        n = len(features[spec.names[0]])
        encoded = np.empty((n, len(spec.names)))
        for position, feature in enumerate(spec.numeric):
            encoded[:, position] = features[feature]
        for position, feature in enumerate(spec.categorical, start=len(spec.numeric)):
            found = factorized.get(feature) if factorized is not None else None
            codes, uniques = found if found is not None else factorize_values(features[feature])
            mapping = self.codes_[feature]
            lookup = np.array([mapping.get(str(value), np.nan) for value in uniques] + [np.nan])
            encoded[:, position] = lookup[codes]
        return encoded

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.spec_.names, dtype=object)


def assemble_pipeline(
    features: FeaturesStep, params: BoosterParams, monotone_constraints: Mapping[str, int]
) -> Pipeline:
    """features -> encode -> classifier around a features step (see :class:`models.features.FeaturesStep`).

    Unset hyper-parameters take their large-export values; call :meth:`BoosterParams.scaled_to` first to
    scale them to the training leads.
    """
    spec = features.feature_spec
    params = params if params.is_scaled else params.scaled_to()
    learning_rate, num_leaves, min_child_samples = params.learning_rate, params.num_leaves, params.min_child_samples
    # pragma: no cover below - scaled_to always sets them; the check is for the type checker
    if learning_rate is None or num_leaves is None or min_child_samples is None:  # pragma: no cover
        raise ValueError("assemble_pipeline needs scaled BoosterParams (BoosterParams.scaled_to)")
    classifier = lgb.LGBMClassifier(
        objective="binary",
        n_estimators=params.max_trees,
        learning_rate=learning_rate,
        num_leaves=num_leaves,
        min_child_samples=min_child_samples,
        # leads a category group needs to be split off (LightGBM's default, 100, is a whole leaf of a large
        # export and would keep most categories of a small one together)
        min_data_per_group=min_child_samples,
        subsample=params.subsample,
        subsample_freq=1,
        colsample_bytree=params.colsample_bytree,
        reg_lambda=params.reg_lambda,
        monotone_constraints=monotone_vector(monotone_constraints, spec),
        # "advanced" lets a few leads break the constraints (lightgbm-org/LightGBM#5358, #6155: a demo request
        # lowered 2 of 5,000 synthetic leads' scores); "intermediate" keeps the promise at ~0.004 test AUC.
        monotone_constraints_method="intermediate",
        random_state=params.random_state,
        n_jobs=params.n_jobs,
        verbose=-1,
    )
    encoder = CategoryCodes(params.min_category_share, spec, params.max_category_codes)
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
        categorical_feature=list(model.named_steps["encode"].booster_categorical_),
        callbacks=[lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)],
    )
    return model


def predict_raw(model: Pipeline, leads: pd.DataFrame) -> np.ndarray:
    """Uncalibrated conversion probability of each lead."""
    return model.predict_proba(leads)[:, 1]


def refit_trees(best_iteration: int, n_fitted: int, n_refit: int, max_trees: int) -> int:
    """Trees for a refit on ``n_refit`` leads when early stopping chose ``best_iteration`` on ``n_fitted``.

    More leads support proportionally more trees at the same learning rate (the rule of thumb for refitting
    on all folds after cross-validated early stopping), never more than ``max_trees``.
    """
    return int(min(max(round(best_iteration * n_refit / max(n_fitted, 1)), 1), max_trees))


def _fit_booster(
    encoder: CategoryCodes, classifier: lgb.LGBMClassifier, features: pd.DataFrame, y: pd.Series, n_trees: int
) -> tuple[CategoryCodes, lgb.LGBMClassifier]:
    encoder, classifier = clone(encoder), clone(classifier).set_params(n_estimators=n_trees)
    encoded = encoder.fit_transform(features, y)
    classifier.fit(encoded, y, categorical_feature=list(encoder.booster_categorical_))
    return encoder, classifier


def refit_cross_fitted(
    model: Pipeline, X: pd.DataFrame, y: pd.Series, n_trees: int, folds: int = 3, seed: int = 0
) -> tuple[Pipeline, np.ndarray]:
    """A fitted pipeline's settings refit on the leads ``X``, and every lead's out-of-fold raw probability.

    The refit keeps the fitted features step (how each column is read, learnt on the training leads: features
    are computed once) and fits the encoder and ``n_trees`` trees on all of ``X``. The out-of-fold
    probabilities come from ``folds`` copies, each fitted on the other folds with proportionally fewer trees:
    no lead's own outcome is in its score, so they calibrate the refit model and choose its threshold without
    leaking (cross-fitting, as sklearn's ``CalibratedClassifierCV(ensemble=False)``).

    Returns:
        The refit pipeline (a new object; ``model`` is unchanged) and the out-of-fold raw probabilities.
    """
    features_step, encoder, classifier = (model.named_steps[step] for step in ("features", "encode", "classifier"))
    features = features_step.transform(X)
    y = y.astype(int)
    out_of_fold = np.empty(len(y))
    fold_trees = max(1, round(n_trees * (folds - 1) / folds))
    for fit_rows, held_out in StratifiedKFold(folds, shuffle=True, random_state=seed).split(features, y):
        fold_encoder, fold_classifier = _fit_booster(
            encoder, classifier, features.iloc[fit_rows], y.iloc[fit_rows], fold_trees
        )
        encoded = fold_encoder.transform(features.iloc[held_out])
        out_of_fold[held_out] = np.asarray(fold_classifier.predict_proba(encoded))[:, 1]
    refit_encoder, refit_classifier = _fit_booster(encoder, classifier, features, y, n_trees)
    refit = Pipeline([("features", features_step), ("encode", refit_encoder), ("classifier", refit_classifier)])
    return refit, out_of_fold

from concurrent.futures import ThreadPoolExecutor

import lightgbm
import numpy as np
import pytest

from models.single_feature_trees import FEATURE_PREDICTIONS_MIN_ROWS, feature_trees, feature_trees_of, tree_shap_values


def _leads(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Numbers with gaps (NaN), a category (codes 0..4, some unknown) and an outcome that reads three of them."""
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(n, 5))
    matrix[:, 3] = rng.integers(0, 5, size=n)
    matrix[rng.random(n) < 0.15, 0] = np.nan
    matrix[rng.random(n) < 0.1, 3] = np.nan
    logit = matrix[:, 1] + np.nan_to_num(matrix[:, 0]) * matrix[:, 2] + (matrix[:, 3] == 2)
    return matrix, (logit + rng.normal(size=n) > 0).astype(int)


def _booster(num_leaves: int, rounds: int = 60, **params: object) -> lightgbm.Booster:
    matrix, outcome = _leads()
    data = lightgbm.Dataset(matrix, outcome, categorical_feature=[3])
    settings = {"objective": "binary", "num_leaves": num_leaves, "min_data_in_leaf": 5, "verbose": -1, **params}
    return lightgbm.train(settings, data, num_boost_round=rounds)


@pytest.mark.parametrize("num_leaves", [2, 3, 7])
def test_shap_values_equal_treeshap_whatever_the_tree_size(num_leaves: int) -> None:
    booster = _booster(num_leaves)
    matrix, _ = _leads(400, seed=1)
    np.testing.assert_allclose(
        tree_shap_values(booster, matrix), booster.predict(matrix, pred_contrib=True), rtol=0, atol=1e-12
    )


def test_stumps_need_no_treeshap_and_mixed_trees_only_for_their_pairs() -> None:
    stumps, mixed = feature_trees(_booster(2)), feature_trees(_booster(3))
    assert stumps is not None
    assert stumps.rest is None
    assert mixed is not None
    assert mixed.by_feature
    assert mixed.rest is not None
    matrix, _ = _leads(300, seed=6)
    np.testing.assert_allclose(
        mixed.contributions(matrix), _booster(3).predict(matrix, pred_contrib=True), rtol=0, atol=1e-12
    )


def test_the_trees_before_early_stopping_s_best_iteration_only() -> None:
    booster = _booster(2, rounds=80)
    matrix, _ = _leads(200, seed=2)
    np.testing.assert_allclose(
        tree_shap_values(booster, matrix, num_iteration=30),
        booster.predict(matrix, pred_contrib=True, num_iteration=30),
        rtol=0,
        atol=1e-12,
    )
    assert not np.allclose(tree_shap_values(booster, matrix, num_iteration=30), tree_shap_values(booster, matrix))


def test_a_few_leads_go_through_treeshap_and_agree_with_many() -> None:
    booster = _booster(2)
    matrix, _ = _leads(FEATURE_PREDICTIONS_MIN_ROWS * 2, seed=3)
    few = tree_shap_values(booster, matrix[:3])
    np.testing.assert_array_equal(few, booster.predict(matrix[:3], pred_contrib=True))
    np.testing.assert_allclose(tree_shap_values(booster, matrix)[:3], few, rtol=0, atol=1e-12)


def test_models_that_are_no_plain_sum_of_trees_keep_treeshap() -> None:
    matrix, outcome = _leads()
    forest = lightgbm.train(
        {
            "objective": "binary",
            "boosting": "rf",
            "bagging_freq": 1,
            "bagging_fraction": 0.7,
            "num_leaves": 2,
            "verbose": -1,
        },
        lightgbm.Dataset(matrix, outcome),
        num_boost_round=20,
    )
    linear = lightgbm.train(
        {"objective": "binary", "linear_tree": True, "num_leaves": 2, "verbose": -1},
        lightgbm.Dataset(np.nan_to_num(matrix), outcome),
        num_boost_round=10,
    )
    assert feature_trees(forest) is None
    assert feature_trees(linear) is None
    rows, _ = _leads(100, seed=4)
    np.testing.assert_array_equal(tree_shap_values(forest, rows), forest.predict(rows, pred_contrib=True))


def test_the_grouping_is_made_once_per_booster_even_by_concurrent_first_calls() -> None:
    booster = _booster(2, rounds=10)
    matrix, _ = _leads(100, seed=5)
    with ThreadPoolExecutor(4) as threads:
        plans = list(threads.map(lambda _: feature_trees_of(booster), range(8)))

    assert all(plan is plans[0] for plan in plans)
    tree_shap_values(booster, matrix)
    assert feature_trees_of(booster) is plans[0]

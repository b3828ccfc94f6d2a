"""SHAP values without TreeSHAP where the trees allow it: the exact cheaper path for reasons and grades.

A tree that splits on one feature alone gives all of its prediction, less its expected value, to that feature:
a feature the tree never reads gets nothing (SHAP's dummy property) and the contributions add up to the
prediction less the expected value (efficiency). So the SHAP values of such trees are their predictions: one
``Booster.predict`` per feature over the trees that read it, less those trees' expected value, and no path
bookkeeping at all. Issue 13's scaled hyper-parameters often choose two-leaf trees (an additive model), where
every tree is such a tree; TreeSHAP (``pred_contrib``) is then only needed for the trees that read two
features or more. Measured on the benchmark's 1,498 two-leaf trees (23 features, 100,000 leads): ``pred_contrib``
4.6 s, the predictions per feature 0.5 s, equal within 1e-14.

One ``predict`` per feature costs a fixed ~20 microseconds, and TreeSHAP ~35 microseconds a lead on those trees,
so a few leads are cheaper through one ``pred_contrib`` call: the predictions per feature answer from 32 leads
and two leads per feature on (23 features: one lead 0.09 ms by TreeSHAP against 0.4 ms, 100 leads 3.5 against
1.3 ms).
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import lightgbm
import numpy as np

FEATURE_PREDICTIONS_MIN_ROWS = 32
ONE_THREAD_BELOW_ROWS = 10_000

_TREE_FEATURES = re.compile(r"^split_feature=(.*)$", re.MULTILINE)
_TREE_NUMBER = re.compile(r"^Tree=\d+$", re.MULTILINE)
_END_OF_TREES = "\nend of trees"


@dataclass(frozen=True)
class FeatureTrees:
    """The booster's trees grouped by the one feature each reads, and the rest (TreeSHAP's)."""

    n_features: int
    by_feature: tuple[tuple[int, lightgbm.Booster, float], ...]  # the feature's column, its trees, their expected value
    rest: lightgbm.Booster | None  # trees reading two features or more, and constant trees

    def cheaper_than_treeshap(self, rows: int) -> bool:
        return rows >= max(FEATURE_PREDICTIONS_MIN_ROWS, 2 * len(self.by_feature))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """``pred_contrib``'s output for ``matrix``: one row per lead, each feature's SHAP value and the bias."""
        # A call on several threads starts and joins them: on a busy machine milliseconds a call, more than a
        # feature's trees cost for a few thousand leads (8 ms a predict at 100 leads at load 2 against 0.02 ms)
        threads: dict[str, Any] = {"num_threads": 1} if len(matrix) < ONE_THREAD_BELOW_ROWS else {}
        if self.rest is None:
            contributions = np.zeros((len(matrix), self.n_features + 1))
        else:
            contributions = np.asarray(self.rest.predict(matrix, pred_contrib=True, **threads))
        for column, trees, expected in self.by_feature:
            contributions[:, column] += np.asarray(trees.predict(matrix, raw_score=True, **threads)) - expected
            contributions[:, -1] += expected
        return contributions


def _tree_blocks(model: str) -> tuple[str, list[str], str] | None:
    """The model text's header (without ``tree_sizes``), its tree blocks and what follows them."""
    start, end = model.find("\nTree=0\n"), model.find(_END_OF_TREES)
    if start < 0 or end < 0:
        return None
    header = "\n".join(line for line in model[:start].split("\n") if not line.startswith("tree_sizes="))
    blocks = [block for block in model[start + 1 : end].split("\n\n\n") if block.strip()]
    return header, blocks, model[end:]


def _booster_of(header: str, blocks: list[str], tail: str) -> lightgbm.Booster:
    trees = "\n\n\n".join(_TREE_NUMBER.sub(f"Tree={number}", block) for number, block in enumerate(blocks))
    return lightgbm.Booster(model_str=f"{header}\n\n{trees}\n\n{tail}")


def _expected_value(trees: lightgbm.Booster, n_features: int) -> float:
    """The trees' expected raw score as TreeSHAP counts it (its bias column, the same for every row)."""
    return float(np.asarray(trees.predict(np.zeros((1, n_features)), pred_contrib=True))[0, -1])


def feature_trees(booster: lightgbm.Booster, num_iteration: int | None = None) -> FeatureTrees | None:
    """The booster's first ``num_iteration`` trees (all: None) by the feature each reads; None where the model
    is not a plain sum of trees (random forests average, linear trees read more in their leaves, several classes)
    or no tree reads a single feature."""
    model = booster.model_to_string(num_iteration=num_iteration or -1)
    parts = _tree_blocks(model)
    if parts is None or "average_output" in parts[0] or "\nnum_class=1\n" not in parts[0]:
        return None
    header, blocks, tail = parts
    if any("is_linear=1" in block for block in blocks):
        return None
    trees_of: dict[int, list[str]] = {}
    rest: list[str] = []
    for block in blocks:
        read = _TREE_FEATURES.search(block)
        features = set(read.group(1).split()) if read else set()
        if len(features) == 1:
            trees_of.setdefault(int(features.pop()), []).append(block)
        else:
            rest.append(block)
    if not trees_of:
        return None
    n_features = booster.num_feature()
    by_feature = []
    for column, column_blocks in sorted(trees_of.items()):
        trees = _booster_of(header, column_blocks, tail)
        by_feature.append((column, trees, _expected_value(trees, n_features)))
    return FeatureTrees(n_features, tuple(by_feature), _booster_of(header, rest, tail) if rest else None)


_PLANS: weakref.WeakKeyDictionary[lightgbm.Booster, dict[int | None, FeatureTrees | None]] = weakref.WeakKeyDictionary()
_PLANNING = threading.Lock()  # concurrent first requests build the grouping once


def feature_trees_of(booster: lightgbm.Booster, num_iteration: int | None = None) -> FeatureTrees | None:
    """``feature_trees`` of the booster, made once per booster and number of trees (the service makes it when it
    loads a model: ``models.explanations.prepare_tree_contributions``)."""
    plans = _PLANS.get(booster, {})
    if num_iteration in plans:
        return plans[num_iteration]
    with _PLANNING:
        plans = _PLANS.setdefault(booster, {})
        if num_iteration not in plans:
            plans[num_iteration] = feature_trees(booster, num_iteration)
        return plans[num_iteration]


def tree_shap_values(booster: lightgbm.Booster, matrix: np.ndarray, num_iteration: int | None = None) -> np.ndarray:
    """The SHAP values of ``pred_contrib`` (each feature's, then the bias), through the trees of one feature at
    a time where the model and the number of rows make that cheaper."""
    plan = None if len(matrix) < FEATURE_PREDICTIONS_MIN_ROWS else feature_trees_of(booster, num_iteration)
    if plan is None or not plan.cheaper_than_treeshap(len(matrix)):
        return np.asarray(booster.predict(matrix, pred_contrib=True, num_iteration=num_iteration))
    return plan.contributions(matrix)

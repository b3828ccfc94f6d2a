from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from models.mlflow_model import LeadScorerModel, save_scorer
from models.pipeline import input_fields
from models.scorer import OUTPUT_COLUMNS


@pytest.fixture(scope="module")
def leads(synthetic_crm) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return synthetic_crm.leads.sample(500, random_state=11)


def test_score_is_the_rounded_percentage_and_mql_follows_the_threshold(trained, leads) -> None:  # type: ignore[no-untyped-def]
    scored = trained.scorer.score(leads)

    assert tuple(scored.columns) == OUTPUT_COLUMNS
    assert scored.index.equals(leads.index)
    assert scored["probability"].between(0, 1).all()
    np.testing.assert_array_equal(scored["score"], np.rint(scored["probability"] * 100).astype(int))
    threshold = trained.scorer.threshold.threshold
    assert (scored["is_mql"] == (scored["probability"] >= threshold)).all()
    assert 0 < scored["is_mql"].sum() < len(scored)


def test_calibrated_probability_keeps_the_model_ranking(trained, leads) -> None:  # type: ignore[no-untyped-def]
    from models.pipeline import predict_raw

    raw = predict_raw(trained.scorer.pipeline, leads)
    calibrated = trained.scorer.predict_proba(leads)

    order = np.argsort(raw, kind="stable")
    assert (np.diff(calibrated[order]) >= -1e-12).all()


def test_partial_records_are_scored(trained) -> None:  # type: ignore[no-untyped-def]
    sparse = pd.DataFrame({"job_title": ["Head of Marketing", None], "demo_requested": [True, False]})

    scored = trained.scorer.score(sparse)

    assert scored["probability"].notna().all()
    assert scored["probability"].iloc[0] >= scored["probability"].iloc[1]


def test_pyfunc_wrapper_loads_the_saved_scorer(trained, leads, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = save_scorer(trained.scorer, tmp_path / "scorer.joblib")

    model = LeadScorerModel()
    model.load_context(SimpleNamespace(artifacts={"scorer": str(path)}))  # type: ignore[arg-type]

    predicted = model.predict(None, leads, params={"top_k": 2, "language": "de"})  # type: ignore[arg-type]

    pd.testing.assert_frame_equal(predicted, trained.scorer.explain(leads, top_k=2, language="de"))
    assert predicted["reasons_for"].map(len).max() == 2


def test_records_as_a_crm_sends_them_score_as_the_frame_does(trained, leads) -> None:  # type: ignore[no-untyped-def]
    head = leads.head(20)
    records = [
        {column: None if pd.isna(value) else value for column, value in row.items()}
        for row in head.astype(object).to_dict("records")
    ]

    explained = trained.scorer.explain_records(records)

    frame = trained.scorer.score(head)
    np.testing.assert_allclose([lead["probability"] for lead in explained], frame["probability"], rtol=1e-12)
    assert [lead["grade"] for lead in explained] == frame["grade"].tolist()
    assert not any("@" in str(value) for lead in explained for value in lead["features"].values())


def _forbid_treeshap(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, a call of LightGBM's TreeSHAP (``pred_contrib``) fails the test."""
    import lightgbm

    predict = lightgbm.Booster.predict

    def predict_without_contributions(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert not kwargs.get("pred_contrib"), "TreeSHAP called"
        return predict(self, *args, **kwargs)

    monkeypatch.setattr(lightgbm.Booster, "predict", predict_without_contributions)


def test_predict_mql_decides_as_score_does_without_shap(trained, leads, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    expected = trained.scorer.score(leads)
    _forbid_treeshap(monkeypatch)
    decided = trained.scorer.predict_mql(leads)

    assert list(decided.columns) == ["probability", "score", "is_mql"]
    assert decided.index.equals(leads.index)
    np.testing.assert_allclose(decided["probability"], expected["probability"], rtol=1e-12)
    assert decided["score"].tolist() == expected["score"].tolist()
    assert decided["is_mql"].tolist() == expected["is_mql"].tolist()
    with pytest.raises(AssertionError, match="TreeSHAP called"):
        trained.scorer.score(leads.head(3))


def test_decide_records_answers_as_explain_records_does_without_shap(trained, leads, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    records = leads.head(40).astype(object).where(leads.head(40).notna(), None).to_dict("records")
    records[0] = {**records[0], "industry": "Basket weaving"}  # a category the model never saw
    explained = trained.scorer.explain_records(records)
    _forbid_treeshap(monkeypatch)
    decided = trained.scorer.decide_records(records)

    assert [sorted(lead) for lead in decided] == [
        ["features", "is_mql", "probability", "score", "unseen_categories"]
    ] * len(records)
    np.testing.assert_allclose([d["probability"] for d in decided], [e["probability"] for e in explained], rtol=1e-12)
    for name in ("score", "is_mql", "unseen_categories", "features"):
        assert [d[name] for d in decided] == [e[name] for e in explained], name
    assert decided[0]["unseen_categories"] == ["industry"]


def test_decide_mql_rounds_to_a_percentage_and_includes_the_threshold(trained) -> None:  # type: ignore[no-untyped-def]
    threshold = trained.scorer.threshold.threshold
    # at the threshold as the scorer's ways of summing the trees may leave it (1e-14 apart), or clearly below it
    probability = np.array([threshold, np.nextafter(threshold, 0.0), threshold - 1e-8, 0.424, 0.426, 0.0, 1.0])

    decided = trained.scorer.decide_mql(probability)

    assert decided["is_mql"].tolist()[:3] == [True, True, False]
    assert decided["score"].tolist()[3:] == [42, 43, 0, 100]
    assert decided["score"].dtype == np.int64


def test_the_fields_every_training_lead_had_are_those_the_reference_never_saw_missing(trained) -> None:  # type: ignore[no-untyped-def]
    scorer = trained.scorer
    profiled = scorer.reference["features"]

    given = scorer.always_given()

    assert given  # the synthetic export's yes/no fields are never empty
    assert given <= set(input_fields(scorer.pipeline))
    assert all(profiled[field]["missing"] <= 0.005 for field in given)
    assert "company_size" not in given  # missing for about a seventh of the leads
    assert dataclasses.replace(scorer, reference=None).always_given() == frozenset()  # a model before the profile

"""Settings: read from mlflow.yml, overridden by the environment, refused with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.sla import SlaTable
from pipelines.settings import DEMO_MAPPING, ConfigError, get_settings, load_settings

REPO_CONFIG = Path(__file__).parents[2] / "mlflow.yml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mlflow.yml"
    path.write_text(text)
    return path


def test_repository_config_is_valid() -> None:
    settings = load_settings(REPO_CONFIG)

    assert settings.mlflow.tracking_uri == f"sqlite:///{REPO_CONFIG.parent / '.leadq/mlflow.db'}"
    assert settings.data.export == REPO_CONFIG.parent / "data/synthetic/leads.parquet"
    assert settings.data.mapping == DEMO_MAPPING  # the synthetic CRM's shipped mapping
    # the shipped settings train any export: auto uses the sales capacity only where creation dates allow it
    assert (settings.threshold.policy, settings.threshold.mqls_per_month) == ("auto", 600)
    assert settings.gate.min_auc > 0.5
    assert settings.sla == SlaTable()  # the SLA the file ships is the one declared in models.sla


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADQ_LABELS__HORIZON_DAYS", "90")
    monkeypatch.setenv("LEADQ_THRESHOLD__POLICY", "precision")

    settings = load_settings(_write(tmp_path, "labels:\n  horizon_days: 180\n"))

    assert settings.labels.horizon_days == 90
    assert settings.threshold.policy == "precision"


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADQ_CONFIG", str(_write(tmp_path, "split:\n  test_quarters: 2\n")))
    get_settings.cache_clear()
    try:
        assert get_settings().split.test_quarters == 2
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("labels:\n  horizon_days: -5\n", "labels.horizon_days"),
        ("threshold:\n  policy: gut_feeling\n", "threshold.policy"),
        ("threshold:\n  target_precision: 2\n", "threshold.target_precision"),
        ("threshold:\n  policy: capacity\n", "threshold: threshold.policy capacity needs threshold.mqls_per_month"),
        ("gate:\n  min_auc: 0.4\n", "gate.min_auc"),
        ("mlflow:\n  tracking_uri: ftp://example.org/store\n", "mlflow.tracking_uri"),
        ("labels:\n  horizon_dayz: 90\n", "labels.horizon_dayz"),
        ("model:\n  num_leaves: many\n", "model.num_leaves"),
    ],
)
def test_invalid_value_is_refused_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError) as error:
        load_settings(path)

    assert f"  {key}" in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("data:\n  leads: data/leads.parquet\n", "data.leads"),
        ("data:\n  dispositions: data/dispositions.parquet\n", "data.dispositions"),
        ("data:\n  deals: data/deals.parquet\n", "data.deals"),
        ("rule_score:\n  mql_points: 60\n", "rule_score"),
        ("features:\n  monotone_constraints:\n    demo_requested: 1\n", "features.monotone_constraints"),
    ],
)
def test_keys_of_the_old_road_are_refused_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    # The export comes through data.export and its mapping; monotone constraints and the points rule are the
    # mapping's (they name its features), no longer settings.
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError) as error:
        load_settings(path)

    assert f"  {key}: Extra inputs are not permitted" in str(error.value)


def test_an_export_alone_uses_the_shipped_mapping(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, "data:\n  export: crm/leads.parquet\n"))

    assert settings.data.export == (tmp_path / "crm" / "leads.parquet").resolve()
    assert settings.data.mapping == DEMO_MAPPING


def test_invalid_environment_value_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADQ_SPLIT__TEST_QUARTERS", "zero")

    with pytest.raises(ConfigError, match=r"split\.test_quarters"):
        load_settings(_write(tmp_path, ""))


def test_missing_and_malformed_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(tmp_path / "nope.yml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(_write(tmp_path, "labels: [unclosed\n"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(_write(tmp_path, "- just\n- a list\n"))


def test_an_export_and_its_mapping_resolve_against_the_settings_file(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, "data:\n  export: crm/export.csv\n  mapping: crm/mapping.yml\n"))

    assert settings.data.export == (tmp_path / "crm" / "export.csv").resolve()
    assert settings.data.mapping == (tmp_path / "crm" / "mapping.yml").resolve()

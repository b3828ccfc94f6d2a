from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from pipelines.report import ReportContext, build_report, write_report

CONTEXT = ReportContext(model_name="leadq-test", model_label="version 7", period="test quarter(s) 2026Q1")


@pytest.fixture(scope="module")
def report(trained) -> str:  # type: ignore[no-untyped-def]
    converted = trained.test_scores["converted"].to_numpy()
    return build_report(trained.scorer, trained.test_leads, converted, CONTEXT, trained.points_rule, 500)


def test_report_is_self_contained(report: str) -> None:
    sources = re.findall(r'(?:src|href)="([^"]*)"', report)

    assert sources
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    assert "<script" not in report
    assert "<link" not in report
    assert "http://" not in report
    assert "https://" not in report


def test_report_has_every_section_in_plain_language(report: str) -> None:
    for heading in (
        "What moves the score most",
        "How each signal pushes individual leads",
        "How the strongest signals work",
        "Lead sources and campaigns",
        "Grades: fit letter and engagement digit",
        "The points rule next to the model",
        "How to read the numbers",
    ):
        assert heading in report
    assert "leadq-test" in report
    assert "version 7" in report
    assert "Demo requested" in report  # a rule line
    assert len(re.findall(r"<img ", report)) >= 5


def test_report_counts_every_lead_in_the_grade_table(report: str, trained) -> None:  # type: ignore[no-untyped-def]
    start = report.index("Grades: fit letter")
    section = report[start : report.index("</table>", start)]
    counts = [int(n.replace(",", "")) for n in re.findall(r"<td>([\d,]+)</td>", section)]

    assert sum(counts) == len(trained.test_leads)


def test_report_uses_the_scorers_language(trained) -> None:  # type: ignore[no-untyped-def]
    german = dataclasses.replace(trained.scorer, language="de")

    html = build_report(german, trained.test_leads.head(400), None, CONTEXT, trained.points_rule, 200)

    assert "Unternehmensgröße" in html
    assert "actual conversion</th>" not in html  # no outcomes, no conversion columns


def test_report_with_open_outcomes_says_so(trained) -> None:  # type: ignore[no-untyped-def]
    converted = trained.test_scores["converted"].to_numpy(dtype=float)[:400].copy()
    converted[::2] = np.nan

    html = build_report(trained.scorer, trained.test_leads.head(400), converted, CONTEXT, trained.points_rule)

    assert "whose outcome is final" in html


def test_write_report_replaces_atomically_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "report.html"
    write_report("<html>first</html>", path)

    with pytest.raises(TypeError):
        write_report(None, path)  # type: ignore[arg-type]

    assert path.read_text() == "<html>first</html>"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]
    assert path.stat().st_mode & 0o777 == 0o644


def test_large_quarters_are_sampled_and_the_report_says_so(trained) -> None:  # type: ignore[no-untyped-def]
    converted = trained.test_scores["converted"].to_numpy()

    html = build_report(
        trained.scorer, trained.test_leads, converted, CONTEXT, trained.points_rule, 200, max_leads=1_000
    )

    assert f"{len(trained.test_leads):,} leads" in html
    assert "a random sample of 1,000 of them" in html
    start = html.index("Grades: fit letter")
    counts = [
        int(n.replace(",", "")) for n in re.findall(r"<td>([\d,]+)</td>", html[start : html.index("</table>", start)])
    ]
    assert sum(counts) == 1_000


def test_without_a_points_rule_the_report_has_no_rule_section(trained) -> None:  # type: ignore[no-untyped-def]
    converted = trained.test_scores["converted"].to_numpy()[:400]

    html = build_report(trained.scorer, trained.test_leads.head(400), converted, CONTEXT, None, 200)

    assert "The points rule next to the model" not in html
    assert "Grades: fit letter and engagement digit" in html


def test_the_training_report_names_the_served_models_own_threshold_where_it_differs(trained) -> None:  # type: ignore[no-untyped-def]
    # the report's model is the one evaluated; the shipped refit chose its own threshold the same way (walk87: the
    # report said 27.9% while the service used 25.0%)
    converted = trained.test_scores["converted"].to_numpy()[:300]
    own = trained.scorer.threshold.threshold
    served = dataclasses.replace(CONTEXT, served_threshold=own + 0.021)
    same = dataclasses.replace(CONTEXT, served_threshold=own)

    html = build_report(trained.scorer, trained.test_leads.head(300), converted, served, None, 100)
    unchanged = build_report(trained.scorer, trained.test_leads.head(300), converted, same, None, 100)

    assert f"chose its own threshold the same way: {(own + 0.021) * 100:.1f}%" in " ".join(html.split())
    assert "chose its own threshold" not in unchanged

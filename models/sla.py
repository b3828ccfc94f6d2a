"""The service-level agreement between marketing and sales: who gets called back how fast.

Rules are checked in order and the first that matches a lead decides its priority and response time; a lead
that matches none goes to the default (usually nurture, without a response time). A rule matches when all
of its conditions hold: the lead's grade is in ``grades``, it did (not) request a demo, it is (not) an MQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.explanations import GRADES


class SlaRule(BaseModel):
    """One line of the SLA table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    priority: str = Field(min_length=1)
    response_hours: float | None = Field(None, gt=0, description="None: no personal follow-up (nurture)")
    grades: tuple[str, ...] | None = None
    demo_requested: bool | None = None
    is_mql: bool | None = None

    @field_validator("grades")
    @classmethod
    def _known_grades(cls, grades: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = sorted(set(grades or ()) - set(GRADES))
        if unknown:
            raise ValueError(f"unknown grade(s) {unknown}; expected A1..D4")
        return grades


class SlaTable(BaseModel):
    """Ordered SLA rules and the default for leads that match none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Sales follows up MQLs (the threshold's decision) and hand-raisers; the grade only orders them. An MQL never
    # lands in nurture for its grade, and a lead below the threshold is not called because its grade is good.
    rules: tuple[SlaRule, ...] = (
        SlaRule(name="demo request", priority="P1", response_hours=4, demo_requested=True),
        SlaRule(
            name="MQL, best fit, highly engaged", priority="P2", response_hours=24, grades=("A1", "B1"), is_mql=True
        ),
        SlaRule(
            name="MQL, good fit or engaged", priority="P3", response_hours=48, grades=("A2", "A3", "B2"), is_mql=True
        ),
        SlaRule(name="MQL", priority="P4", response_hours=72, is_mql=True),
    )
    default: SlaRule = SlaRule(name="nurture", priority="nurture", response_hours=None)

    def assign(self, grades: np.ndarray, demo_requested: np.ndarray, is_mql: np.ndarray) -> SlaAssignment:
        """Priority, response time (NaN: no personal follow-up) and rule name per lead (arrays aligned by position)."""
        chosen = np.full(len(grades), len(self.rules), dtype=int)  # index of the rule; len(rules) = default
        undecided = np.ones(len(grades), dtype=bool)
        grades = np.asarray(grades, dtype=object)
        for position, rule in enumerate(self.rules):
            match = undecided.copy()
            if rule.grades is not None:
                match &= np.isin(grades, rule.grades)
            if rule.demo_requested is not None:
                match &= np.asarray(demo_requested, dtype=bool) == rule.demo_requested
            if rule.is_mql is not None:
                match &= np.asarray(is_mql, dtype=bool) == rule.is_mql
            chosen[match] = position
            undecided &= ~match
        table = [*self.rules, self.default]
        return SlaAssignment(
            priority=np.array([rule.priority for rule in table], dtype=object)[chosen],
            response_hours=np.array([rule.response_hours or np.nan for rule in table], dtype=float)[chosen],
            rule=np.array([rule.name for rule in table], dtype=object)[chosen],
        )


@dataclass(frozen=True)
class SlaAssignment:
    """The SLA decision for each lead."""

    priority: np.ndarray
    response_hours: np.ndarray  # NaN: no personal follow-up
    rule: np.ndarray

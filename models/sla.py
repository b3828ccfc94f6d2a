"""The service-level agreement between marketing and sales: who gets called back how fast.

Rules are checked in order and the first that matches a lead decides its priority and response time; a lead
that matches none goes to the default (usually nurture, without a response time). A rule matches when all
of its conditions hold: the lead's grade is in ``grades``, it did (not) request a demo, it is (not) an MQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.explanations import GRADES
from models.features import FeatureSpec

DEMO_REQUEST_FEATURE = "demo_requested"  # leadq's own name (the demo export's column)
# A yes/no column by which a lead asked for a demo or a trial, by the words of its name (feature names: snake case,
# umlauts written out): "Requested Demo", "Demo angefragt", "Trial Requested", "Demoanfrage". Not one that says no
# ("No Demo Requested", "Demo abgelehnt"), nor a call back, which sales may have arranged (the leak guard's word).
_HAND_RAISE_THING = frozenset({"demo", "trial", "testversion", "testzugang"})
_HAND_RAISE_ASK = frozenset(
    {"request", "requested", "requests", "anfrage", "angefragt", "angefordert", "gewuenscht", "wanted", "booked"}
)
_HAND_RAISE_COMPOUND = re.compile(r"(demo|trial|testversion)(anfrage|angefragt|request(ed)?)")
_SAYS_NO = frozenset(
    {"no", "not", "nicht", "kein", "keine", "declined", "abgelehnt", "cancelled", "canceled", "storniert", "rejected"}
)


def _asks_for_a_demo(feature: str) -> bool:
    words = set(feature.split("_"))
    if words & _SAYS_NO:
        return False
    return bool(words & _HAND_RAISE_THING and words & _HAND_RAISE_ASK) or any(
        _HAND_RAISE_COMPOUND.fullmatch(word) for word in words
    )


def demo_request_feature(spec: FeatureSpec) -> str | None:
    """The yes/no feature that says a lead asked for a demo (the SLA's hand-raiser rules): leadq's own
    ``demo_requested``, else an export's yes/no column named like a demo or trial request; None when the model
    has none (no lead matches a rule on a demo request)."""
    if DEMO_REQUEST_FEATURE in spec.names:
        return DEMO_REQUEST_FEATURE
    yes_no = [feature for feature, text in spec.texts.items() if text.yes is not None and feature in spec.numeric]
    return next((feature for feature in yes_no if _asks_for_a_demo(feature)), None)


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


def demo_rule_warning(sla: SlaTable, spec: FeatureSpec) -> str:
    """What to say when the SLA has a rule on a demo request and the model reads none: no lead can match it."""
    rules = [rule for rule in sla.rules if rule.demo_requested]
    if not rules or demo_request_feature(spec) is not None:
        return ""
    named = ", ".join(f"'{rule.name}' ({rule.priority})" for rule in rules)
    return (
        f"the SLA rule(s) {named} need a yes/no column by which a lead asked for a demo, and this export maps none: "
        "no lead gets that priority. Map such a column as boolean, named like 'Demo requested' or 'Trial "
        "requested', or drop the rule (sla.rules)"
    )


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

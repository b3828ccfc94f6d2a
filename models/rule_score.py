"""The classic points-based lead score that teams use before ML: the baseline leadq must beat.

Explicit fit points (company size in the ideal range, target industry and country, seniority, budget)
plus implicit engagement points (visits, downloads, webinar, pricing page, demo request, e-mail clicks)
minus negative points (freemail, student/intern, unsubscribe, competitor). A lead is an MQL when its points
reach ``mql_points``. The point values follow common marketing-automation practice and are deliberately
not fitted to data: this is the rule as a team would write it down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

FIT_POINTS = {
    "size_in_range": 20,
    "size_near_range": 10,
    "target_industry": 15,
    "target_country": 10,
    "seniority_c_level": 20,
    "seniority_vp_director": 15,
    "seniority_manager": 10,
    "budget_stated": 10,
}
ENGAGEMENT_POINTS = {
    "per_visit": 1,
    "max_visits": 10,
    "pricing_page": 10,
    "per_download": 5,
    "max_downloads": 3,
    "webinar": 10,
    "demo_request": 30,
    "per_email_click": 2,
    "max_email_clicks": 5,
}
NEGATIVE_POINTS = {"freemail": -15, "student_intern": -30, "unsubscribed": -10, "competitor": -50}


class RuleScoreConfig(BaseModel):
    """The ideal customer profile and MQL bar of the points rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mql_points: int = Field(60, gt=0)
    target_industries: tuple[str, ...] = ("Software", "Manufacturing", "Financial Services", "Logistics")
    target_countries: tuple[str, ...] = ("DE", "AT", "CH")
    min_employees: int = Field(200, ge=1)
    max_employees: int = Field(5000, ge=1)

    @model_validator(mode="after")
    def _size_range(self) -> RuleScoreConfig:
        if self.min_employees > self.max_employees:
            raise ValueError("min_employees must not exceed max_employees")
        return self


def _flag(condition: pd.Series) -> np.ndarray:
    return condition.fillna(False).to_numpy(dtype=bool).astype(float)


def _capped(values: pd.Series, per_unit: int, cap: int) -> np.ndarray:
    return per_unit * np.minimum(values.fillna(0).to_numpy(dtype=float), cap)


@dataclass(frozen=True)
class RuleComponent:
    """One line of the points rule: what earns the points, and which model feature speaks to the same signal."""

    name: str
    group: str  # fit | engagement | negative
    feature: str
    points: str  # how the rule awards them, in words


RULE_COMPONENTS = (
    RuleComponent("Company size in the ideal range", "fit", "company_size", "+20 (+10 if near the range)"),
    RuleComponent("Target industry", "fit", "industry", "+15"),
    RuleComponent("Target country", "fit", "country", "+10"),
    RuleComponent("Seniority", "fit", "seniority", "+20 C-level, +15 VP/director, +10 manager"),
    RuleComponent("Budget stated", "fit", "budget_stated", "+10 (not for <10k)"),
    RuleComponent("Website visits", "engagement", "website_visits", "+1 per visit, at most +10"),
    RuleComponent("Pricing page visited", "engagement", "pricing_page_visits", "+10"),
    RuleComponent("Content downloads", "engagement", "content_downloads", "+5 per download, at most +15"),
    RuleComponent("Webinar attended", "engagement", "webinar_attended", "+10"),
    RuleComponent("Demo requested", "engagement", "demo_requested", "+30"),
    RuleComponent("E-mail clicks", "engagement", "email_clicks", "+2 per click, at most +10"),
    RuleComponent("Freemail address", "negative", "is_freemail", "-15"),
    RuleComponent("Student or intern", "negative", "is_student_or_intern", "-30"),
    RuleComponent("Unsubscribed", "negative", "newsletter_unsubscribed", "-10"),
    RuleComponent("Competitor", "negative", "is_competitor", "-50"),
)


def rule_components(features: pd.DataFrame, config: RuleScoreConfig) -> pd.DataFrame:
    """Points of each lead per rule component (columns: the component names of ``RULE_COMPONENTS``)."""
    size, seniority = features["company_size"], features["seniority"]
    in_range = size.between(config.min_employees, config.max_employees)
    near_range = size.between(config.min_employees / 4, config.max_employees * 4) & ~in_range
    industries = {i.strip().lower() for i in config.target_industries}
    countries = {c.strip().lower() for c in config.target_countries}
    fit, engage, negative = FIT_POINTS, ENGAGEMENT_POINTS, NEGATIVE_POINTS
    budget = features["budget_stated"]
    points = {
        "Company size in the ideal range": fit["size_in_range"] * _flag(in_range)
        + fit["size_near_range"] * _flag(near_range),
        "Target industry": fit["target_industry"] * _flag(features["industry"].isin(industries)),
        "Target country": fit["target_country"] * _flag(features["country"].isin(countries)),
        "Seniority": fit["seniority_c_level"] * _flag(seniority == "c_level")
        + fit["seniority_vp_director"] * _flag(seniority.isin(["vp", "director"]))
        + fit["seniority_manager"] * _flag(seniority == "manager"),
        "Budget stated": fit["budget_stated"] * _flag(budget.notna() & (budget != "<10k")),
        "Website visits": _capped(features["website_visits"], engage["per_visit"], engage["max_visits"]),
        "Pricing page visited": engage["pricing_page"] * _flag(features["pricing_page_visits"] > 0),
        "Content downloads": _capped(features["content_downloads"], engage["per_download"], engage["max_downloads"]),
        "Webinar attended": engage["webinar"] * _flag(features["webinar_attended"] == 1),
        "Demo requested": engage["demo_request"] * _flag(features["demo_requested"] == 1),
        "E-mail clicks": _capped(features["email_clicks"], engage["per_email_click"], engage["max_email_clicks"]),
        "Freemail address": negative["freemail"] * _flag(features["is_freemail"] == 1),
        "Student or intern": negative["student_intern"] * _flag(features["is_student_or_intern"] == 1),
        "Unsubscribed": negative["unsubscribed"] * _flag(features["newsletter_unsubscribed"] == 1),
        "Competitor": negative["competitor"] * _flag(features["is_competitor"] == 1),
    }
    return pd.DataFrame(points, index=features.index)[[component.name for component in RULE_COMPONENTS]]


def _group_points(features: pd.DataFrame, config: RuleScoreConfig, group: str) -> np.ndarray:
    names = [component.name for component in RULE_COMPONENTS if component.group == group]
    return rule_components(features, config)[names].sum(axis=1).to_numpy()


def fit_points(features: pd.DataFrame, config: RuleScoreConfig) -> np.ndarray:
    """Points for matching the ideal customer profile, from model features (see models.features)."""
    return _group_points(features, config, "fit")


def engagement_points(features: pd.DataFrame, config: RuleScoreConfig) -> np.ndarray:
    """Points for showing buying intent, capped so that volume alone cannot make an MQL."""
    return _group_points(features, config, "engagement")


def negative_points(features: pd.DataFrame, config: RuleScoreConfig) -> np.ndarray:
    """Points taken away for signals that a lead will not buy."""
    return _group_points(features, config, "negative")


def rule_score(features: pd.DataFrame, config: RuleScoreConfig) -> np.ndarray:
    """Total points of each lead: fit + engagement + negative."""
    return rule_components(features, config).sum(axis=1).to_numpy()

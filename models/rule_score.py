"""The classic points-based lead score that teams use before ML: the baseline leadq must beat.

Explicit fit points (company size in the ideal range, target industry and country, seniority, budget)
plus implicit engagement points (visits, downloads, webinar, pricing page, demo request, e-mail clicks)
minus negative points (freemail, student/intern, unsubscribe, competitor). A lead is an MQL when its points
reach ``mql_points``. The point values follow common marketing-automation practice and are deliberately
not fitted to data: this is the rule as a team would write it down.
"""

from __future__ import annotations

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


def fit_points(features: pd.DataFrame, config: RuleScoreConfig) -> np.ndarray:
    """Points for matching the ideal customer profile, from model features (see models.features)."""
    size = features["company_size"]
    in_range = size.between(config.min_employees, config.max_employees)
    near_range = size.between(config.min_employees / 4, config.max_employees * 4) & ~in_range
    industries = {i.strip().lower() for i in config.target_industries}
    countries = {c.strip().lower() for c in config.target_countries}
    seniority = features["seniority"]
    return (
        FIT_POINTS["size_in_range"] * _flag(in_range)
        + FIT_POINTS["size_near_range"] * _flag(near_range)
        + FIT_POINTS["target_industry"] * _flag(features["industry"].isin(industries))
        + FIT_POINTS["target_country"] * _flag(features["country"].isin(countries))
        + FIT_POINTS["seniority_c_level"] * _flag(seniority == "c_level")
        + FIT_POINTS["seniority_vp_director"] * _flag(seniority.isin(["vp", "director"]))
        + FIT_POINTS["seniority_manager"] * _flag(seniority == "manager")
        + FIT_POINTS["budget_stated"] * _flag(features["budget_stated"].notna() & (features["budget_stated"] != "<10k"))
    )


def engagement_points(features: pd.DataFrame) -> np.ndarray:
    """Points for showing buying intent, capped so that volume alone cannot make an MQL."""
    points = ENGAGEMENT_POINTS
    return (
        _capped(features["website_visits"], points["per_visit"], points["max_visits"])
        + points["pricing_page"] * _flag(features["pricing_page_visits"] > 0)
        + _capped(features["content_downloads"], points["per_download"], points["max_downloads"])
        + points["webinar"] * _flag(features["webinar_attended"] == 1)
        + points["demo_request"] * _flag(features["demo_requested"] == 1)
        + _capped(features["email_clicks"], points["per_email_click"], points["max_email_clicks"])
    )


def negative_points(features: pd.DataFrame) -> np.ndarray:
    """Points taken away for signals that a lead will not buy."""
    return (
        NEGATIVE_POINTS["freemail"] * _flag(features["is_freemail"] == 1)
        + NEGATIVE_POINTS["student_intern"] * _flag(features["is_student_or_intern"] == 1)
        + NEGATIVE_POINTS["unsubscribed"] * _flag(features["newsletter_unsubscribed"] == 1)
        + NEGATIVE_POINTS["competitor"] * _flag(features["is_competitor"] == 1)
    )


def rule_score(features: pd.DataFrame, config: RuleScoreConfig) -> np.ndarray:
    """Total points of each lead: fit + engagement + negative."""
    return fit_points(features, config) + engagement_points(features) + negative_points(features)

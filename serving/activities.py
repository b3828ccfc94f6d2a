"""A lead's raw activities in a request, turned into the served model's engagement fields as of the request's time.

A model trained with an activities table reads engagement features (``<kind>_<w>d``, ``days_since_<kind>``,
``<kind>_decayed``) as input fields. A CRM may send them as fields, or send the lead's ``activities`` (time and the
CRM's own activity word) and let the service compute them: each word is translated by the mapping the model was
trained with (``ServedModel.activities``, the mapping's own translation), and the features come from the one
computation of training and ``leadq score``, ``models.engagement.engagement_features``, as of the request's time (an
activity at or after it changes nothing; one dated after it is counted in a warning). The computed values replace
the fields in the lead's record, so the answer, its reasons and the scoring log's model features are those of the
computed features: the audit replays them.

A request that cannot be read this way is 422 naming the place (the lead's position in a batch, the activity's
position, never a value): activities for a model that reads none, activities together with values of the fields
they compute, an activity word the mapping does not translate (the answer lists the words it does).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.exceptions import RequestValidationError

from models.engagement import ActivityVocabulary
from serving.schemas import ACTIVITIES_FIELD, LeadBase

SHOWN_WORDS = 30  # an unknown word's error lists this many of the mapping's words, then counts the rest


@dataclass(frozen=True)
class RequestEngagement:
    """The engagement fields computed for the leads of a request that sent activities, by the lead's position."""

    fields: dict[int, dict[str, float | None]]  # export column -> value (None: missing, a recency without activity)
    warnings: dict[int, list[str]]

    def computed(self, position: int) -> Collection[str]:
        """The fields computed for the lead at ``position`` (none: it sent no activities)."""
        return self.fields.get(position, {}).keys()


def _error(location: tuple[Any, ...], message: str, kind: str) -> dict[str, Any]:
    return {"loc": ("body", *location, ACTIVITIES_FIELD), "msg": message, "type": kind}


def _words_list(words: Sequence[str]) -> str:
    shown = ", ".join(repr(word) for word in words[:SHOWN_WORDS])
    more = f" and {len(words) - SHOWN_WORDS} more" if len(words) > SHOWN_WORDS else ""
    return shown + more


def _problems(
    lead: LeadBase, location: tuple[Any, ...], vocabulary: ActivityVocabulary | None, record: dict[str, object]
) -> list[dict[str, Any]]:
    if vocabulary is None:
        return [
            _error(
                location,
                "the served model reads no activities (it was trained without an activities table, or its mapping "
                "could not be read): send its fields",
                "activities_not_read",
            )
        ]
    problems = []
    sent = [name for name in vocabulary.windows.feature_names() if record.get(name) is not None]
    if sent:
        problems.append(
            _error(
                location,
                f"activities compute the field(s) {', '.join(sent)}: send the activities or those fields, not both",
                "activities_and_fields",
            )
        )
    for position, activity in enumerate(lead.sent_activities() or ()):
        if vocabulary.kind_of(activity.kind) is None:
            problems.append(
                {
                    "loc": ("body", *location, ACTIVITIES_FIELD, position, "type"),
                    "msg": f"an activity type the model's mapping does not translate; expected one of "
                    f"{_words_list(vocabulary.words)}",
                    "type": "unknown_activity_type",
                }
            )
    return problems


def request_engagement(
    leads: Sequence[LeadBase],
    records: Sequence[dict[str, object]],
    vocabulary: ActivityVocabulary | None,
    now: datetime,
    batch: bool,
) -> RequestEngagement:
    """The engagement fields of the leads that sent activities, computed as of ``now`` (aware), for their records.

    Args:
        leads: the request's leads; records: their scoring records (checked for fields sent with activities).
        vocabulary: the served model's activity words (None: it reads no activities).
        batch: the leads came in a batch (errors are placed at ``leads.<i>``).

    Raises:
        RequestValidationError: 422, every problem of every lead named by its place.
    """
    positions = [position for position, lead in enumerate(leads) if lead.sent_activities() is not None]
    problems = [
        problem
        for position in positions
        for problem in _problems(leads[position], ("leads", position) if batch else (), vocabulary, records[position])
    ]
    if problems or vocabulary is None:
        raise RequestValidationError(problems)
    moment = now.astimezone(UTC).replace(tzinfo=None)  # naive UTC, as the CRM's activity times are read
    lists = [
        [
            (activity.timestamp.replace(tzinfo=None), str(vocabulary.kind_of(activity.kind)))
            for activity in leads[position].sent_activities() or ()
        ]
        for position in positions
    ]
    features = vocabulary.features_of_lists(lists, moment)
    # the model's input fields among the features (a feature the model does not read is left out)
    inputs = [(column, name) for column, name in enumerate(features.columns) if name in records[0]]
    table = features.to_numpy(dtype=float)
    fields: dict[int, dict[str, float | None]] = {}
    warnings: dict[int, list[str]] = {}
    for row, (position, listed) in enumerate(zip(positions, lists, strict=True)):
        values = table[row].tolist()
        fields[position] = {name: None if math.isnan(values[column]) else values[column] for column, name in inputs}
        later = sum(at > moment for at, _ in listed)
        if later:
            warnings[position] = [
                f"activities: {later} dated after the request's time (clock or time zone?), not counted"
            ]
    return RequestEngagement(fields, warnings)

"""What is shipped: the fitted pipeline, its calibrator and the MQL threshold, travelling together.

``LeadScorer`` is the one object serving needs. It is logged to MLflow as a pyfunc model (see
``models/mlflow_model.py``), whose ``predict`` returns the calibrated probability, a 0-100 score and the MQL
decision for each lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from models.calibration import ProbabilityCalibrator
from models.pipeline import predict_raw
from models.threshold import ThresholdChoice

OUTPUT_COLUMNS = ("probability", "score", "is_mql")


@dataclass(frozen=True)
class LeadScorer:
    """A calibrated lead-conversion model with its agreed MQL threshold."""

    pipeline: Pipeline
    calibrator: ProbabilityCalibrator
    threshold: ThresholdChoice
    metadata: dict[str, object] = field(default_factory=dict)

    def predict_proba(self, leads: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each lead converts within the label horizon."""
        return self.calibrator.transform(predict_raw(self.pipeline, leads))

    def score(self, leads: pd.DataFrame) -> pd.DataFrame:
        """probability, score (0-100, the probability in percent, rounded) and is_mql for each lead."""
        probability = self.predict_proba(leads)
        return pd.DataFrame(
            {
                "probability": probability,
                "score": np.rint(probability * 100).astype(np.int64),
                "is_mql": probability >= self.threshold.threshold,
            },
            index=leads.index,
        )

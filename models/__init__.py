"""The model: features, labels and split, the sklearn Pipeline, calibration, thresholds, evaluation and explanations."""

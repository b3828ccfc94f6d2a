"""The model: data contract, labels, features, the sklearn Pipeline, calibration, thresholds and evaluation."""

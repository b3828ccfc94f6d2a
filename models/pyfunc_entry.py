"""Models-from-code entry point: MLflow runs this file when it loads a leadq model.

It is never imported by leadq itself; registering the model object is its only effect.
"""

from mlflow.models import set_model

from models.mlflow_model import LeadScorerModel

set_model(LeadScorerModel())

"""The FastAPI scoring service the CRM calls (built with the serving issue on top of the registered model)."""

"""Training, audit and scoring pipelines: thin wiring of the steps in ``models/``, plus settings and the CLI."""

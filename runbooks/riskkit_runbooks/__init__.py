"""The runbooks shipped with riskkit: YAML data validated by
``riskkit_drills.models.Runbook`` (JSON Schema: ``runbook.schema.json``)."""

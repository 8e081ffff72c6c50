"""MS4 transacciones: the REST API for money movements and the orchestrator of the money saga."""

"""MS5 analytics: read-only SQL over the event lake (DuckDB embedded by default, Athena on AWS)."""

"""Continuous pipelines over the event log: the lake sink (Kafka -> Parquet -> folder or S3 + Glue), replay, audit."""

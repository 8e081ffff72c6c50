"""The lake sink: every domain event lands once in a typed, date-partitioned Parquet table."""

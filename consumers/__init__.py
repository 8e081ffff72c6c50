"""Getting events off Kafka: the consumer runner (commit after effect, DLQ), inbox dedupe helpers."""

"""Every way of reading Kafka: the handler protocol, the consumer loop (commit after effect, retry, DLQ), the one
dead-letter shape, the inbox of each store, and the group-less reader of bounded replays."""

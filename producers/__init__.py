"""Getting events onto Kafka: the producer factory and the transactional-outbox relays."""

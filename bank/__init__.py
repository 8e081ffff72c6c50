"""The `bank` command: run services, create topics, seed demo data, replay, audit, export events."""

"""The Caliper event store (`event_store.expanded`): rates, streams, rows and JSON-LD."""

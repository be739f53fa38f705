"""The streaming pipeline: Pub/Sub messages in, warehouse rows and dead letters out."""

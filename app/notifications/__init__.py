"""Notifications: signed webhooks and their subscriptions, the Kafka publisher and its
topics, and the outbox lag. The relay that drives them is ``app.workers.relay``."""

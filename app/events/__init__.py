"""Business events: the versioned catalogue and the transactional outbox they go through."""

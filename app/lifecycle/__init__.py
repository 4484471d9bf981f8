"""The shipment lifecycle: transitions, broker review, the activity log. The submission
worker that drives it is ``app.workers.submission``."""

"""The shipment lifecycle: transitions, broker review, the submission worker, the activity
log."""

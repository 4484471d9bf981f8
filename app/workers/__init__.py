"""The loops that run beside the HTTP interface: the submission worker, the outbox relay and
the analytics refresher. Each is its own runner; ``s321 worker``, ``s321 relay`` and the API
process's in-process mode (``app.workers.in_process``) start the same ones."""

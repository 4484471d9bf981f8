"""Logs, metrics and readiness shared by every process (API, worker, relay, simulator)."""

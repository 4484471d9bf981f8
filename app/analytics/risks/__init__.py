"""Compliance risks: findings derived from the manifests and events (``derive``, ``events``,
kept fresh by ``findings``) and the risk views that read them (``consignees``, ``goods``,
``declarations``, ``customs``). See docs/analytics.md, "Compliance risks"."""

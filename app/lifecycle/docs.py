"""The transition table as Markdown, for docs/lifecycle.md (a test keeps it current)."""

from __future__ import annotations

from app.lifecycle.transitions import TABLE, Event


def transition_rows() -> list[str]:
    rows: dict[Event, list[str]] = {}
    for (source, event), to in TABLE.items():
        rows.setdefault(event, []).append(f"{source} → {to}")
    return [f"| `{event.value}` | {'; '.join(rows[event])} |" for event in Event]

"""The web console under /ui: server-rendered pages over the same domain services as the
API (HTTP only: no domain logic lives here)."""

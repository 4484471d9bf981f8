"""Gateway adapters are found through the ``s321.ace_gateways`` entry-point group, so a
package that registers one there is usable by setting S321_ACE_GATEWAY to its name."""

from __future__ import annotations

from importlib.metadata import entry_points

from app.ace_gateway.gateway import Gateway
from app.settings import Settings

GROUP = "s321.ace_gateways"


def available() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def adapter_class(name: str) -> type[Gateway]:
    found = entry_points(group=GROUP, name=name)
    if not found:
        raise LookupError(f"No customs gateway adapter named {name!r} is installed "
                          f"(installed: {', '.join(available()) or 'none'}).")
    cls = next(iter(found)).load()
    if not (isinstance(cls, type) and issubclass(cls, Gateway)):
        raise TypeError(f"Entry point {name!r} in {GROUP} is not a Gateway subclass.")
    return cls


def create(settings: Settings) -> Gateway:
    """The adapter the configuration names, built from the configuration."""
    return adapter_class(settings.ace_gateway).from_settings(settings)

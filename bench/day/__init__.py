"""A day of traffic through the production topology, with its invariants checked."""

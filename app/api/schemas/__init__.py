"""Request and response bodies of the HTTP API, a module per router area."""

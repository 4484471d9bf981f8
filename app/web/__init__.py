"""What the HTTP API and the console share: receiving uploads, CSV responses, the analytics
table registry. Neither ``app.api`` nor ``app.ui`` is imported here."""

"""Customs gateway adapters: implementations of app.ace_gateway.gateway.Gateway."""

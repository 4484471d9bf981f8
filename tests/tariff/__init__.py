"""Tests of app.tariff."""

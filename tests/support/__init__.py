"""Helpers the tests of every domain share."""

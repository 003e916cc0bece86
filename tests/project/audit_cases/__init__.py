"""Fixtures for the architecture audit tests and its benchmark."""

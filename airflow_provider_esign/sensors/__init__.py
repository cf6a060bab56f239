"""Sensors of the e-signature provider."""

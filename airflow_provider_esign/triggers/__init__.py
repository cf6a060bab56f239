"""Triggers of the e-signature provider."""

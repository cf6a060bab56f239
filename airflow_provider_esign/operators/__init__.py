"""Operators of the e-signature provider."""

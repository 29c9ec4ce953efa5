"""Galenic: an open-source Manufacturing Execution System for GMP manufacturing."""

__version__ = "0.1.0"

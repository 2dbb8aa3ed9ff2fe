"""Shared helpers, one module per topic (no grab-bag utils)."""

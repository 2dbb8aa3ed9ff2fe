"""Signals higher layers subscribe to (the workflow engine, analytics)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that recorded a touchpoint commits; kwargs: touchpoint.
touchpoint_recorded = Signal()

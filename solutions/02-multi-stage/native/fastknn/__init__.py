"""k nearest neighbours over a float32 table; the search itself is C (see _fastknn.c)."""

from fastknn._fastknn import nearest

__all__ = ["nearest"]

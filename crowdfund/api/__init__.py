"""JSON API v1 (see its own issue)."""

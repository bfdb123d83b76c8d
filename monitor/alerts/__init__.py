"""Alerts: notifications through Apprise, routed, deduplicated, durable."""

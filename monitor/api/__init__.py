"""The HTTP API: status, metrics, badges and the transfer switch."""

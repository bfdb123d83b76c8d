"""The demo: the simulator, the monitor and the status page together, no API keys needed."""

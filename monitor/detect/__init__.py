"""Brownout and outage detection: pure, replayable logic over probe results."""

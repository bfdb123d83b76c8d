"""The providers' own status pages: polled, stored, and set beside what brownout saw.

`poll_statuspages(client, store, config)` reads every page in `statuspages:` once;
`leadtime.match` pairs brownout's incidents with the provider's posts.
"""

from monitor.statuspages.poll import poll_statuspages

__all__ = ["poll_statuspages"]

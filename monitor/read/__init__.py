"""The read model: what every surface (page, API, CLI, reports, transfer switch) shows, computed
once. `now.status_now(store, config, now)` is the status now; each surface formats it."""

"""The providers' own status pages, as data: `model` parses Statuspage JSON into components and
incidents; `leadtime.match` pairs brownout's incidents with the provider's posts.

Pure: nothing here reads the database or the network. Polling (fetch, parse, store) is glue in
`monitor.pipeline.statuspages`.
"""

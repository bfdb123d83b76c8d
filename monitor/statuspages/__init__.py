"""The providers' own status pages, as data: `formats` reads each page format (Atlassian
Statuspage, incident.io, Google Cloud, Instatus) into components and incidents (`model`);
`leadtime.match` pairs brownout's incidents with the provider's posts.

Pure: nothing here reads the database or the network. Polling (fetch, parse, store) is glue in
`monitor.pipeline.statuspages`.
"""

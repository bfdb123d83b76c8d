"""The status page: `streamlit run dashboard/app.py` (and `brownout demo`).

Reads the database the commands use (`BROWNOUT_CONFIG`, `BROWNOUT_DB`), read-only, and never
writes or shows a secret. `dashboard.public: true` in the config (or `?public=1` in the URL,
which can only hide more) is public mode: statuses, uptime, charts and incidents, without
answers, error texts, costs or downloads. The live part re-runs itself every
`dashboard.refresh` without reloading the page.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboard import data, sections
from monitor.config import Config, load_config
from monitor.errors import BrownoutError
from monitor.read.now import target_names
from monitor.result import utcnow
from monitor.store import Store, open_store, rollups

st.set_page_config(page_title="brownout status", page_icon="⚡", layout="wide")


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return open_store(url, readonly=True)


def _setup() -> tuple[Config, Store]:
    try:
        config = load_config(required=False)
        return config, _store(config.storage.url)
    except BrownoutError as exc:
        st.error(f"The status page cannot start: {exc}")
        st.caption("Set BROWNOUT_CONFIG (a config file) or BROWNOUT_DB (a database URL).")
        st.stop()
        raise  # st.stop() ends the run; this line only tells type checkers so


config, store = _setup()
public = config.dashboard.public or st.query_params.get("public") in ("1", "true", "yes")
names = target_names(store, config, utcnow())

with st.sidebar:
    st.markdown("## ⚡ brownout")
    range_key = st.segmented_control(
        "Time range", list(data.RANGES), default="24h", key="range", selection_mode="single"
    )
    providers = st.multiselect(
        "Providers", sorted({n.partition("/")[0] for n in names}), key="providers"
    )
    models = st.multiselect(
        "Models",
        sorted(
            {
                n.partition("/")[2]
                for n in names
                if not providers or n.partition("/")[0] in providers
            }
        ),
        key="models",
    )
    known_regions = rollups.regions_since(store, utcnow() - timedelta(days=90))
    regions = (
        st.multiselect("Regions", known_regions, key="regions") if len(known_regions) > 1 else []
    )
    if public:
        st.caption("Public view: answers, errors, costs and downloads are hidden.")
    st.caption(f"Refreshes every {config.dashboard.refresh:g} s.")


@st.fragment(run_every=config.dashboard.refresh)
def live() -> None:
    page = data.load(
        store,
        config,
        utcnow(),
        range_key=range_key or "24h",
        providers=providers or None,
        models=models or None,
        public=public,
        regions=regions or None,
    )
    sections.banner(page)
    for note in page.notes:
        st.caption(note)
    sections.targets(page)
    sections.slos(page)
    sections.figures(page)
    sections.incidents(page)
    sections.transfer_switch(page)
    sections.recent(page)


live()
if not public:
    now = utcnow()
    since = now - timedelta(seconds=data.RANGES[range_key or "24h"])
    sections.downloads(store, config, since, now, data.select(names, providers, models))

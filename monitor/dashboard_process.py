"""The status page as a child process: `streamlit run dashboard/app.py`, headless, on a loopback
port, reading the database the caller names. `brownout demo` starts it beside the monitor.

    page = start_dashboard(config_file, db_url)   # None when dashboard/app.py is not here
    print(page.url)
    ...
    page.stop()

The page lives in the source tree (`dashboard/`), beside this package; an install without the
source tree has no page to start, which `start_dashboard` reports by returning None.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
READY_WITHIN_S = 60.0


@dataclass
class Dashboard:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """End the page's process (and wait for it)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def start_dashboard(
    config_file: str,
    db_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log: Path | None = None,
) -> Dashboard | None:
    """Start the page and wait until it answers; None when there is no page to start.

    Raises RuntimeError when Streamlit exits or does not answer within READY_WITHIN_S.
    """
    if not APP.exists():
        return None
    port = port or free_port(host)
    env = {**os.environ, "BROWNOUT_CONFIG": config_file, "BROWNOUT_DB": db_url}
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP),
             "--server.headless", "true", "--server.address", host, "--server.port", str(port),
             "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]  # the child holds its own copy
    page = Dashboard(f"http://{host}:{port}", process)
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the status page exited at start (code {process.returncode})")
        try:
            if httpx.get(f"{page.url}/_stcore/health", timeout=2).status_code == 200:
                return page
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    page.stop()
    raise RuntimeError(f"the status page did not answer within {READY_WITHIN_S:.0f}s")

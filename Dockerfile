# brownout in a container: the monitor (`brownout run`), and the status page from the same image.
#   docker build -t brownout .
#   docker run --rm -e BROWNOUT_API_TOKEN=... -v ./probes.yaml:/config/probes.yaml:ro \
#     -p 8321:8321 brownout
# compose.yaml runs it with PostgreSQL and the page; README.md "In a container".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md probes.yaml ./
COPY monitor ./monitor
COPY dashboard ./dashboard

# Installed in place (-e): the page (dashboard/app.py) lives beside the package, where
# `brownout demo` and the page service find it. A user without a login shell owns only /data.
RUN pip install -e . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin brownout \
    && mkdir -p /data /config \
    && cp probes.yaml /config/probes.yaml \
    && chown brownout /data

USER brownout
ENV BROWNOUT_CONFIG=/config/probes.yaml \
    BROWNOUT_DB=sqlite:////data/brownout.db
VOLUME ["/data"]
EXPOSE 8321 8501

# /healthz answers 503 while the database fails or the scheduler stopped; it needs no token.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8321/healthz', timeout=4)"]

# Listening beyond loopback needs BROWNOUT_API_TOKEN (brownout refuses to start without it).
CMD ["brownout", "run", "--http", "0.0.0.0:8321"]

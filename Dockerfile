# syntax=docker/dockerfile:1
# news-monitor worker image: `docker build -t news-monitor .`
# See docs/operations.md for running it with docker compose.

# --- build: wheels for the package and every dependency -------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Everything pyproject.toml packages: config/ is the package `monitor.defaults`.
# tests/integration/installed/ builds the wheel from exactly these COPY lines.
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY connectors ./connectors
COPY config ./config
RUN pip wheel --wheel-dir /wheels .

# --- runtime: the installed package, no sources, no build tools ------------
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged uid so volume ownership is predictable across rebuilds.
RUN groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid monitor --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin monitor

COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels news-monitor \
    && rm -rf /wheels

WORKDIR /app
# Defaults baked in; compose mounts ./config over /app/config read-only.
COPY config /app/config
COPY seeds /app/seeds
RUN mkdir -p /var/lib/news-monitor \
    && chown monitor:monitor /var/lib/news-monitor

# Container defaults (override with -e): state on the volume, the observe
# endpoint reachable from outside the container. No secrets here: Kafka
# credentials come from the environment at run time (docs/operations.md).
ENV NEWS_MONITOR_STATE__PATH=/var/lib/news-monitor/monitor.db \
    NEWS_MONITOR_OBSERVE__HOST=0.0.0.0 \
    NEWS_MONITOR_OBSERVE__PORT=9180

VOLUME ["/var/lib/news-monitor"]
EXPOSE 9180

USER monitor

# slim has no curl: probe /healthz with the stdlib, on the configured port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('NEWS_MONITOR_OBSERVE__PORT', '9180'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]

CMD ["news-monitor", "run", "--config", "/app/config/monitor.yaml"]

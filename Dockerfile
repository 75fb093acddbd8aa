# syntax=docker/dockerfile:1
# The production image: the bot and the dependency set locked in uv.lock, nothing else.
#
#   docker build -t triage-bot:0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
#   docker run --read-only -p 3000:3000 --env-file .env triage-bot:0.1.0
#
# It runs as an unprivileged user and writes nothing outside /tmp (matplotlib's cache included),
# so it works with a read-only root filesystem: mount an emptyDir or a tmpfs on /tmp.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# The dependencies alone first: this layer is rebuilt only when the lockfile changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project
# Then the bot, installed into the venv as a package (no link back to /src).
COPY README.md ./
COPY bot ./bot
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable

FROM ${PYTHON_IMAGE}
ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="triage-bot" \
      org.opencontainers.image.description="Slack incident triage for Node.js services: alert webhooks in, one thread per incident, a checklist walked against Prometheus and APM" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"
RUN useradd --system --user-group --uid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin bot
COPY --from=builder /opt/venv /opt/venv
COPY config/services.yaml /app/config/services.yaml
COPY playbooks /app/playbooks
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    BOT_CONFIG_DIR=/app/config \
    BOT_PLAYBOOK_DIR=/app/playbooks \
    BOT_HTTP_HOST=0.0.0.0 \
    BOT_HTTP_PORT=3000
WORKDIR /app
USER 10001:10001
# The one place the bot writes; declared so `docker run --read-only` gets a writable /tmp.
VOLUME ["/tmp"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BOT_HTTP_PORT', '3000'), timeout=2)"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["serve"]

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    BOT_HTTP_HOST=0.0.0.0 BOT_HTTP_PORT=3000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && useradd --create-home --uid 10001 bot
COPY config ./config
COPY playbooks ./playbooks

USER bot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"BOT_HTTP_PORT\",\"3000\")}/healthz', timeout=2)"
CMD ["python", "-m", "bot", "serve"]

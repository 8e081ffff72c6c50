# One image for all of Cloud Bank's Python processes; the compose file picks the command per service.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, so code edits do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p contracts producers consumers services streams bank \
 && for p in contracts producers consumers services streams bank; do touch $p/__init__.py; done \
 && pip install . && pip uninstall -y cloud-bank

COPY contracts ./contracts
COPY producers ./producers
COPY consumers ./consumers
COPY services ./services
COPY streams ./streams
COPY bank ./bank
RUN pip install --no-deps . && useradd --system --uid 10001 bank && mkdir -p /lake && chown bank /lake
USER bank

ENTRYPOINT ["bank"]
CMD ["--help"]

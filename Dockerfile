# One Dockerfile for Cloud Bank's code: target `app` (every Python process; compose picks the command)
# and target `web` (the staff console built with Node, served by the official nginx image).

FROM node:20-bookworm-slim AS web-build
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM nginx:1.27 AS web
COPY --from=web-build /web/dist /usr/share/nginx/html
COPY infra/compose/nginx.conf /etc/nginx/conf.d/default.conf
# The routes shared with the native gateway; included from default.conf (relative to /etc/nginx).
COPY infra/web-gateway/gateway.conf infra/web-gateway/security-headers.conf /etc/nginx/

FROM python:3.11-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Dependencies first, so a code edit does not reinstall them.
COPY pyproject.toml README.md ./
RUN for p in contracts producers consumers services streams bank; do mkdir -p $p && touch $p/__init__.py; done \
 && pip install . && pip uninstall -y cloud-bank
COPY contracts ./contracts
COPY producers ./producers
COPY consumers ./consumers
COPY services ./services
COPY streams ./streams
COPY bank ./bank
RUN pip install --no-deps . \
 && useradd --system --uid 10001 bank && mkdir -p /lake && chown bank /lake
USER bank
ENTRYPOINT ["bank"]
CMD ["--help"]

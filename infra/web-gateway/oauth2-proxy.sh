#!/usr/bin/env bash
# Runs oauth2-proxy in the foreground for supervisord: the gateway's login, on 127.0.0.1:4180 behind nginx.
# Settings: infra/web-gateway/oauth2-proxy.cfg (shared with docker-compose) plus the environment below.
#   AUTH_ISSUER              the realm's issuer (default http://127.0.0.1:8180/realms/cloudbank)
#   GATEWAY_CLIENT_SECRET    secret of the Keycloak client cloudbank-gateway (default: the realm's dev secret)
#   GATEWAY_COOKIE_SECRET    32 bytes that encrypt the session cookie (default: a dev value)
#   GATEWAY_COOKIE_SECURE    true|false: the cookie's Secure flag (default: true in production, else false,
#                            since the native gateway is plain HTTP on 127.0.0.1)
#   CLOUDBANK_ENV=production refuses the dev defaults above.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

[ -x "$OAUTH2_PROXY_BIN" ] || die "oauth2-proxy is not installed: run bash web/install.sh"

DEV_CLIENT_SECRET="gateway-dev-secret"
DEV_COOKIE_SECRET="cloudbank-dev-cookie-secret-0001"
issuer="${AUTH_ISSUER:-http://127.0.0.1:8180/realms/cloudbank}"
client_secret="${GATEWAY_CLIENT_SECRET:-$DEV_CLIENT_SECRET}"
cookie_secret="${GATEWAY_COOKIE_SECRET:-$DEV_COOKIE_SECRET}"
production=0
[ "${CLOUDBANK_ENV:-development}" != production ] || production=1
if [ "$production" -eq 1 ]; then
  # A known secret lets anyone forge sessions (cookie) or act as the gateway (client): never outside development.
  [ "$cookie_secret" != "$DEV_COOKIE_SECRET" ] || die "CLOUDBANK_ENV=production: set GATEWAY_COOKIE_SECRET (the dev default is refused)"
  [ "$client_secret" != "$DEV_CLIENT_SECRET" ] || die "CLOUDBANK_ENV=production: set GATEWAY_CLIENT_SECRET (the dev default is refused)"
fi
case "${#cookie_secret}" in 16 | 24 | 32) ;; *) die "GATEWAY_COOKIE_SECRET must be 16, 24 or 32 bytes (AES), not ${#cookie_secret}" ;; esac
secure="${GATEWAY_COOKIE_SECURE:-$([ "$production" -eq 1 ] && echo true || echo false)}"
case "$secure" in true | false) ;; *) die "GATEWAY_COOKIE_SECURE must be true or false, not '$secure'" ;; esac

oidc="$issuer/protocol/openid-connect"
# Secrets through the environment, not argv (argv is visible to every user in ps).
export OAUTH2_PROXY_CLIENT_SECRET="$client_secret" OAUTH2_PROXY_COOKIE_SECRET="$cookie_secret"
exec "$OAUTH2_PROXY_BIN" --config "$CB_INFRA/web-gateway/oauth2-proxy.cfg" \
  --http-address 127.0.0.1:4180 \
  --trusted-proxy-ip 127.0.0.1/32 \
  --oidc-issuer-url "$issuer" \
  --login-url "$oidc/auth" \
  --redeem-url "$oidc/token" \
  --oidc-jwks-url "$oidc/certs" \
  --profile-url "$oidc/userinfo" \
  --backend-logout-url "$oidc/logout?id_token_hint={id_token}" \
  --cookie-secure="$secure"

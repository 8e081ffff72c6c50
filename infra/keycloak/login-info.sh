#!/usr/bin/env bash
# Prints how to log in to the running stack (`make up` ends with it): Keycloak, the demo users, a token with curl.
set -euo pipefail
if [ "${CLOUDBANK_ENV:-development}" = production ]; then
  echo "Identity: Keycloak at http://127.0.0.1:8180 (realm cloudbank). Production: no demo users; admin and client"
  echo "secrets are the ones given in KC_BOOTSTRAP_ADMIN_PASSWORD, BANK_CLIENT_SECRET, GATEWAY_CLIENT_SECRET."
  exit 0
fi
cat <<'TXT'
Identity (Keycloak, realm cloudbank; README "Identity"):
  console (staff login)      http://127.0.0.1:8080
  Keycloak account / login   http://127.0.0.1:8180/realms/cloudbank/account
  Keycloak admin console     http://127.0.0.1:8180/admin/   admin / admin-dev
  demo users (password = <user>-dev):
    cajero  operaciones  analista  auditor  admin   (realm role of the same name)
    cliente1 (cliente_id 1)  cliente2 (cliente_id 2)  (role cliente: own data only)
  a token for scripts (bank CLI: client cloudbank-cli, secret BANK_CLIENT_SECRET, default cli-dev-secret):
    TOKEN=$(curl -s -d grant_type=password -d client_id=cloudbank-cli -d client_secret=cli-dev-secret \
      -d username=cajero -d password=cajero-dev http://127.0.0.1:8180/realms/cloudbank/protocol/openid-connect/token \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8001/clientes
TXT

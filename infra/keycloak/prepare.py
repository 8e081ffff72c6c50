#!/usr/bin/env python3
"""Checks Keycloak's secrets for the environment and writes the realm file it imports (stdlib only, run by the launcher).

Usage: prepare.py SRC_REALM_JSON DST_REALM_JSON
Exit 0 after writing DST; exit 1 with the reasons on stderr when CLOUDBANK_ENV=production still has a default secret.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The development values of IDENTITY's contract (README "Identity"): fine on a laptop, a start-up error in production.
# Keycloak's realm import resolves the client secrets' ${VAR:default} placeholders from the same variables.
DEV_SECRETS = {
    "KC_BOOTSTRAP_ADMIN_PASSWORD": "admin-dev",
    "BANK_CLIENT_SECRET": "cli-dev-secret",
    "GATEWAY_CLIENT_SECRET": "gateway-dev-secret",
}


def is_production(env: Mapping[str, str]) -> bool:
    return env.get("CLOUDBANK_ENV", "development").strip().lower() == "production"


def secret_problems(env: Mapping[str, str]) -> list[str]:
    """Why Keycloak must not start in this environment (empty outside production, or when every secret is set)."""
    if not is_production(env):
        return []
    problems = []
    for name, dev_value in DEV_SECRETS.items():
        value = env.get(name, "")
        if not value:
            problems.append(f"{name} is not set (its development default {dev_value!r} is refused in production)")
        elif value == dev_value or value.endswith("-dev") or "-dev-" in value:
            problems.append(f"{name} is a development value; set a real secret in production")
    return problems


def realm_for(realm: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The realm to import: as checked in, without the demo users (known passwords) in production."""
    if not is_production(env):
        return realm
    # Service-account users carry no credentials and must stay (the CLI's service account has its roles that way).
    users = [u for u in realm.get("users", []) if u.get("serviceAccountClientId")]
    return {**realm, "users": users}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = secret_problems(os.environ)
    if problems:
        for problem in problems:
            print(f"keycloak: refusing to start with CLOUDBANK_ENV=production: {problem}", file=sys.stderr)
        return 1
    src, dst = Path(argv[0]), Path(argv[1])
    realm = realm_for(json.loads(src.read_text(encoding="utf-8")), os.environ)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp")
    tmp.write_text(json.dumps(realm, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

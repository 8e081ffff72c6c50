"""A staff login through the gateway as a browser does it: /oauth2/start → Keycloak's login form → the callback,
which leaves the gateway's session cookie in the client's jar (the browser never gets a token)."""

import html
import re
from urllib.parse import urljoin

import httpx

from tests.integration.conftest import GATEWAY

FORM_ACTION = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', re.S)
SESSION_COOKIE = "_cloudbank_session"


def browser() -> httpx.Client:
    # Redirects are followed by hand below, to look at each hop.
    return httpx.Client(base_url=GATEWAY, timeout=30, follow_redirects=False)


def follow(client: httpx.Client, response: httpx.Response, hops: int = 5) -> httpx.Response:
    for _ in range(hops):
        if response.status_code not in (301, 302, 303, 307):
            return response
        response = client.get(urljoin(str(response.url), response.headers["location"]))
    raise AssertionError(f"more than {hops} redirects from {response.url}")


def login(client: httpx.Client, username: str, password: str | None = None, rd: str = "/") -> httpx.Response:
    """Logs `username` in (password `<username>-dev`); returns the callback's answer (a redirect to `rd`)."""
    start = client.get("/oauth2/start", params={"rd": rd})
    assert start.status_code == 302, start.text
    page = follow(client, start)
    assert page.status_code == 200, f"Keycloak's login page: {page.status_code} {page.text[:300]}"
    # Keycloak marks its login cookies Secure; browsers send those to http://127.0.0.1 (a trustworthy origin),
    # Python's cookie jar only over https. Treat them as a browser would.
    for cookie in client.cookies.jar:
        cookie.secure = False
    action = FORM_ACTION.search(page.text)
    assert action, f"no login form on {page.url}"
    form = {"username": username, "password": password or f"{username}-dev", "credentialId": ""}
    answer = client.post(html.unescape(action.group(1)), data=form)
    assert answer.status_code == 302, f"login of {username} refused: {answer.status_code} {answer.text[:300]}"
    callback = client.get(answer.headers["location"])
    assert callback.status_code == 302, f"gateway callback: {callback.status_code} {callback.text[:300]}"
    return callback

"""Resend, through its Python SDK, configured from the `resend_default` connection.

The API key is the connection's password; an optional host (with scheme) replaces the API base URL, which
is how the tests point it at the Resend double on 127.0.0.1. Never log addresses or names.
"""

from __future__ import annotations

import threading
from typing import Any

RESEND_CONN_ID = "resend_default"
_sdk_lock = threading.Lock()  # the SDK keeps its key and base URL in module globals


def _configured_sdk() -> Any:
    import resend
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(RESEND_CONN_ID)
    if not conn.password:
        raise ValueError(f"Connection {RESEND_CONN_ID} has no password: put the Resend API key there")
    resend.api_key = conn.password
    resend.api_url = conn.host.rstrip("/") if conn.host and "://" in conn.host else "https://api.resend.com"
    return resend


def send_email(*, sender: str, to: list[str], subject: str, text: str, html: str | None = None,
               headers: dict[str, str] | None = None, idempotency_key: str | None = None) -> str:
    """Sends one email; returns Resend's message id."""
    params: dict[str, Any] = {"from": sender, "to": to, "subject": subject, "text": text}
    if html:
        params["html"] = html
    if headers:
        params["headers"] = headers
    options = {"idempotency_key": idempotency_key} if idempotency_key else None
    with _sdk_lock:
        resend = _configured_sdk()
        response = resend.Emails.send(params, options)
    return response["id"]

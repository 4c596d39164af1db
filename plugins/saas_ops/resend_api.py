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


class RateLimited(Exception):
    """Resend answered 429: wait `retry_after` seconds and send the same request again."""

    def __init__(self, retry_after: float):
        super().__init__(f"Resend rate limit: retry after {retry_after:g} s")
        self.retry_after = retry_after


def send_batch(emails: list[dict[str, Any]], idempotency_key: str) -> tuple[dict[int, str], dict[int, str]]:
    """Sends up to 100 emails in one request (permissive validation: an invalid email does not stop the
    others). Returns (Resend's id per index sent, the error per index refused). Raises RateLimited on 429
    and resend's ResendError on any other failure of the request as a whole."""
    from resend.exceptions import RateLimitError

    with _sdk_lock:
        resend = _configured_sdk()
        try:
            response = resend.Batch.send(emails, {"idempotency_key": idempotency_key,
                                                  "batch_validation": "permissive"})
        except RateLimitError as exc:
            headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
            raise RateLimited(float(headers.get("retry-after") or 1)) from None
    errors = {int(e["index"]): str(e.get("message") or "refused") for e in response.get("errors") or []}
    accepted = [i for i in range(len(emails)) if i not in errors]
    ids = [item["id"] for item in response.get("data") or []]
    if len(ids) != len(accepted):
        raise RuntimeError(f"Resend answered {len(ids)} ids and {len(errors)} errors for {len(emails)} emails")
    return dict(zip(accepted, ids, strict=True)), errors


def has_api_key() -> bool:
    """Whether resend_default exists with a key (else the pack renders emails to the local outbox)."""
    from saas_ops.db import optional_connection

    conn = optional_connection(RESEND_CONN_ID)
    return bool(conn is not None and conn.password)

"""Small HTTP servers on 127.0.0.1 that stand in for Slack, PagerDuty and Resend, and record what they get.

Used by the tests (through conftest fixtures) and by the benchmarks. Each binds 127.0.0.1 on a port the
OS picks and runs in a daemon thread.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> whose handler calls self.handle(request)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length))
                with outer.lock:
                    outer.requests.append(request)
                status, headers, body = outer.handle(request)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, request: Request) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RecordingWebhook(_Server):
    """Slack incoming webhook or PagerDuty Events API: answers 200 'ok' / 202 and records every POST."""

    def __init__(self, status: int = 200):
        super().__init__()
        self.status = status

    def handle(self, request: Request) -> tuple[int, dict[str, str], Any]:
        if request.path.endswith("/v2/enqueue"):
            return 202, {"Content-Type": "application/json"}, {"status": "success", "dedup_key": "x"}
        return self.status, {"Content-Type": "text/plain"}, b"ok" if self.status == 200 else b"error"

    def texts(self) -> list[str]:
        return [r.json().get("text", "") for r in self.requests]


@dataclass
class ResendDouble(_Server):
    """Behaves like the Resend API where the pack depends on it.

    - `POST /emails` and `POST /emails/batch` (at most 100 emails), Bearer key required;
    - `Idempotency-Key`: the same key and body answer the first response again and deliver nothing new;
      the same key with another body answers 409;
    - more than `rate_per_second` requests in a second answer 429 with `retry-after`, and so do the next
      `too_many_requests` requests whatever their pace;
    - an invalid email (no from/to/subject, neither html nor text, more than 50 recipients, an address whose
      domain has no dot) answers 422; a batch with `x-batch-validation: permissive` delivers the valid emails
      and lists the others in `errors` (index, message), as Resend does;
    - `forget_keys()` does what Resend does to a key after 24 hours;
    - `hold_after(n)`: the batches after the first n are delivered but not answered until `release()`; `holding`
      is set when one waits (a test kills the sender then, with a batch in flight).
    `emails` holds every email delivered; `duplicates()` counts emails delivered more than once (by their
    `email_sends_key` tag, else by recipient and subject); `rate_limited` counts the 429 answers.
    """

    api_key: str = "re_test_key"
    rate_per_second: float | None = None
    too_many_requests: int = 0
    rate_limited: int = 0
    holding: threading.Event = field(default_factory=threading.Event)
    _answer_batches: int | None = None  # None: answer every batch
    _released: threading.Event = field(default_factory=threading.Event)
    emails: list[dict] = field(default_factory=list)
    _idempotency: dict[str, tuple[str, int, Any]] = field(default_factory=dict)
    _recent: deque = field(default_factory=deque)

    def __post_init__(self) -> None:
        super().__init__()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.emails.clear()
            self._idempotency.clear()
            self._recent.clear()
            self.rate_limited = 0
        self.rate_per_second, self.too_many_requests = None, 0
        self.release()

    def hold_after(self, batches: int) -> None:
        self._answer_batches = batches
        self._released.clear()

    def release(self) -> None:
        self._answer_batches = None
        self.holding.clear()
        self._released.set()

    def forget_keys(self) -> None:
        with self.lock:
            self._idempotency.clear()

    def duplicates(self) -> int:
        with self.lock:
            seen = [self._identity(email) for email in self.emails]
        return len(seen) - len(set(seen))

    @staticmethod
    def _identity(email: dict) -> str:
        for tag in email.get("tags") or ():
            if tag.get("name") == "email_sends_key":
                return tag["value"]
        return json.dumps([email.get("to"), email.get("subject")])

    def _rate_limited(self) -> bool:
        with self.lock:
            if self.too_many_requests > 0:
                self.too_many_requests -= 1
                self.rate_limited += 1
                return True
        if not self.rate_per_second:
            return False
        now = time.monotonic()
        with self.lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_per_second:
                self.rate_limited += 1
                return True
            self._recent.append(now)
        return False

    @staticmethod
    def _invalid(email: Any) -> str | None:
        if not isinstance(email, dict):
            return "each email must be an object"
        for key in ("from", "to", "subject"):
            if not email.get(key):
                return f"missing required field: {key}"
        to = email["to"] if isinstance(email["to"], list) else [email["to"]]
        if len(to) > 50:
            return "to: at most 50 recipients"
        for address in to:
            domain = str(address).rpartition("<")[2].rstrip(">").rpartition("@")[2]
            if "." not in domain:
                return f"Invalid `to` field: {address!r} is not a valid email address"
        if not (email.get("html") or email.get("text")):
            return "one of html or text is required"
        return None

    def handle(self, request: Request) -> tuple[int, dict[str, str], Any]:
        js = {"Content-Type": "application/json"}
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, js, {"name": "missing_api_key", "message": "API key is invalid", "statusCode": 401}
        if self._rate_limited():
            return 429, {**js, "retry-after": "1"}, {"name": "rate_limit_exceeded", "statusCode": 429,
                                                     "message": "Too many requests"}
        try:
            body = request.json()
        except ValueError:
            return 400, js, {"name": "invalid_json", "statusCode": 400, "message": "body is not JSON"}
        key = request.headers.get("idempotency-key")
        digest = hashlib.sha256(request.body).hexdigest()
        with self.lock:
            if key and key in self._idempotency:
                seen_digest, status, response = self._idempotency[key]
                if seen_digest != digest:
                    return 409, js, {"name": "invalid_idempotent_request", "statusCode": 409,
                                     "message": "Same idempotency key used with a different request payload"}
                return status, js, response
        if request.path == "/emails":
            problem = self._invalid(body)
            if problem:
                return 422, js, {"name": "validation_error", "statusCode": 422, "message": problem}
            batch = [body]
        elif request.path == "/emails/batch":
            if not isinstance(body, list) or not 1 <= len(body) <= 100:
                return 422, js, {"name": "validation_error", "statusCode": 422,
                                 "message": "a batch holds 1 to 100 emails"}
            problems = {index: self._invalid(email) for index, email in enumerate(body)}
            errors = [{"index": index, "message": problem} for index, problem in problems.items() if problem]
            if errors and request.headers.get("x-batch-validation") != "permissive":
                first = errors[0]
                return 422, js, {"name": "validation_error", "statusCode": 422,
                                 "message": f"emails[{first['index']}]: {first['message']}"}
            batch = [email for index, email in enumerate(body) if not problems[index]]
        else:
            return 404, js, {"name": "not_found", "statusCode": 404, "message": request.path}
        ids = [str(uuid.uuid4()) for _ in batch]
        response: Any = {"id": ids[0]} if request.path == "/emails" else {"data": [{"id": i} for i in ids]}
        if request.path == "/emails/batch" and request.headers.get("x-batch-validation") == "permissive":
            response["errors"] = errors
        with self.lock:
            for email_id, email in zip(ids, batch, strict=True):
                self.emails.append({"id": email_id, "idempotency_key": key, **email})
            if key:
                self._idempotency[key] = (digest, 200, response)
            held = request.path == "/emails/batch" and self._answer_batches is not None and self._answer_batches <= 0
            if request.path == "/emails/batch" and self._answer_batches is not None:
                self._answer_batches -= 1
        if held:
            self.holding.set()
            self._released.wait(120)
        return 200, js, response

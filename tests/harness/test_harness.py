"""The session's servers behave as the tests and benchmarks rely on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import psycopg


def _post(url: str, body, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_postgres_is_a_real_server_on_loopback(pg_server):
    dsn, _ = pg_server
    with psycopg.connect(dsn) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        addr = conn.execute("SELECT inet_server_addr()::text").fetchone()[0]
    assert int(version) >= 150000
    assert addr in ("127.0.0.1/32", None)  # None only for a SAAS_OPS_TEST_DSN over a Unix socket


def test_s3_server_stores_objects_through_the_backup_storage_connection(airflow_env):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id="backup_storage")
    assert "127.0.0.1" in hook.conn_config.endpoint_url
    hook.create_bucket("harness-bucket")
    hook.load_bytes(b"backup bytes", key="a/b.dump", bucket_name="harness-bucket", replace=True)
    assert hook.read_key("a/b.dump", bucket_name="harness-bucket") == "backup bytes"


def test_resend_double_deduplicates_by_idempotency_key(receivers):
    resend = receivers["resend"]
    auth = {"Authorization": f"Bearer {resend.api_key}", "Idempotency-Key": "k1"}
    email = {"from": "a@x.test", "to": ["b@y.test"], "subject": "hi", "text": "hello"}
    first = _post(f"{resend.url}/emails", email, auth)
    again = _post(f"{resend.url}/emails", email, auth)
    other = _post(f"{resend.url}/emails", {**email, "subject": "changed"}, auth)
    assert first[0] == 200 and again[0] == 200 and again[2] == first[2]
    assert other[0] == 409
    assert len(resend.emails) == 1


def test_resend_double_validates_batches_and_keys(receivers):
    resend = receivers["resend"]
    auth = {"Authorization": f"Bearer {resend.api_key}"}
    email = {"from": "a@x.test", "to": "b@y.test", "subject": "hi", "html": "<p>hi</p>"}
    assert _post(f"{resend.url}/emails/batch", [email] * 101, auth)[0] == 422
    assert _post(f"{resend.url}/emails", {**email, "html": None}, auth)[0] == 422
    assert _post(f"{resend.url}/emails", email, {"Authorization": "Bearer wrong"})[0] == 401
    status, _, body = _post(f"{resend.url}/emails/batch", [email] * 100, auth)
    assert status == 200 and len(body["data"]) == 100 and len(resend.emails) == 100


def test_resend_double_rate_limits_with_retry_after(receivers):
    resend = receivers["resend"]
    resend.rate_per_second = 2
    try:
        auth = {"Authorization": f"Bearer {resend.api_key}"}
        email = {"from": "a@x.test", "to": "b@y.test", "subject": "hi", "text": "x"}
        statuses = [_post(f"{resend.url}/emails", email, auth) for _ in range(3)]
    finally:
        resend.rate_per_second = None
    assert [s[0] for s in statuses] == [200, 200, 429]
    assert {k.lower(): v for k, v in statuses[2][1].items()}["retry-after"] == "1"
    assert len(resend.emails) == 2


def test_slack_receiver_records_posts_through_the_provider_hook(airflow_env, receivers):
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    SlackWebhookHook(slack_webhook_conn_id="slack_alerts").send(text="harness check")
    assert receivers["slack"].texts() == ["harness check"]
    assert receivers["slack"].requests[0].path == "/services/T000/B000/XXX"

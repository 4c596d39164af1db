"""Who may get a campaign email: names and addresses checked (untrusted.py) against the suppression list, in
one normal form, when an email is queued and again when it is sent; and the signed unsubscribe links that put
an address on that list (served by web.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

SIGNING_CONN_ID = "unsubscribe_signing"


def check_recipients(wh: psycopg.Connection, schema: str) -> None:
    """Sets camp_users.address (the normal form) and .unusable, and camp_customers.unusable for the candidates'
    accounts, by the rules of untrusted.py: an address or name that may not go into an email, or an address on
    the suppression list, is the reason that recipient's email is suppressed."""
    from saas_ops import untrusted
    from saas_ops.db import fetch_sql_file, run_sql_file

    users = wh.execute("SELECT user_id, email, name FROM camp_users").fetchall()
    addresses = {uid: untrusted.normal_address(email) for uid, email, _ in users}
    suppressed = suppression_reasons(wh, schema, [address for address, _ in addresses.values() if address])
    user_rows = [(uid, addresses[uid][0], recipient_problem(addresses[uid], name, suppressed))
                 for uid, _, name in users]
    user_ids, normal, unusable = [list(column) for column in zip(*user_rows, strict=True)] or [[]] * 3
    run_sql_file(wh, "campaigns/recipients_checked.sql", {"user_ids": user_ids, "addresses": normal,
                                                          "unusable": unusable})
    accounts = fetch_sql_file(wh, "campaigns/candidate_accounts.sql")
    bad = [(cid, untrusted.text_problem(name, "customers.name")
            or untrusted.text_problem(owner, "customers.account_owner_name")) for cid, name, owner in accounts]
    bad = [row for row in bad if row[1]]
    customer_ids, why = [list(column) for column in zip(*bad, strict=True)] or [[]] * 2
    run_sql_file(wh, "campaigns/accounts_checked.sql", {"customer_ids": customer_ids, "unusable": why})


def recipient_problem(address: tuple[str | None, str | None], name: str | None, suppressed: dict[str, str]
                      ) -> str | None:
    """Why a user may not be emailed, from untrusted.normal_address's answer, the users.name and the suppression
    list (suppression_reasons), or None."""
    from saas_ops import untrusted

    normal, unusable = address
    if normal in suppressed:
        return f"on the suppression list ({suppressed[normal]})"
    return unusable or untrusted.text_problem(name, "users.name")


def suppression_reasons(wh: psycopg.Connection, schema: str, addresses: list[str]) -> dict[str, str]:
    """Normal address -> reason, for those of `addresses` (normal forms) on email_suppressions. Rows a person
    added in another form (a capital, a space) are read too and compared in the normal form."""
    from saas_ops import untrusted
    from saas_ops.db import fetch_sql_file

    rows = fetch_sql_file(wh, "campaigns/suppressed_addresses.sql", {"addresses": addresses}, schema=schema)
    wanted, out = set(addresses), {}
    for email, reason in rows:
        normal, _ = untrusted.normal_address(email)
        if normal in wanted:
            out.setdefault(normal, reason)
    return out


def signing_key() -> bytes:
    """The key that signs unsubscribe links: the password of the `unsubscribe_signing` connection, else (local
    mode) a random key kept in <LOCAL_DIR>/unsubscribe_signing.key, made on first use."""
    import os
    import secrets

    from saas_ops import config, storage
    from saas_ops.db import optional_connection

    conn = optional_connection(SIGNING_CONN_ID)
    if conn is not None and conn.password:
        return conn.password.encode()
    path = config.local_dir() / "unsubscribe_signing.key"
    if not path.exists():
        storage.private_folder(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(user_id: str, key: bytes) -> str:
    return _b64(hmac.new(key, b"unsubscribe:" + user_id.encode(), hashlib.sha256).digest()[:16])


def unsubscribe_token(user_id: str, key: bytes) -> str:
    """`<user_id, base64url>.<HMAC-SHA256, 128 bits>`: names the user, not the address, and cannot be forged."""
    return f"{_b64(user_id.encode())}.{_mac(user_id, key)}"


def user_of_token(token: str, key: bytes) -> str | None:
    """The user a token was signed for, or None when it is malformed or its signature does not match."""
    payload, _, mac = token.strip().partition(".")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", payload) or not re.fullmatch(r"[A-Za-z0-9_-]+", mac):
        return None  # compare_digest raises on non-ASCII text: anything outside base64url is malformed
    try:
        user_id = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except ValueError:
        return None
    return user_id if user_id and hmac.compare_digest(mac, _mac(user_id, key)) else None


def unsubscribe(user_id: str, *, schema: str, source_schema: str) -> bool:
    """Puts the user's address on the suppression list (reason `unsubscribed`); False when saas_db does not
    know the user. Idempotent."""
    from saas_ops import db, untrusted

    with db.source() as src:  # every address of the user: more than one row may hold its user_id
        emails = [email for (email,) in db.fetch_sql_file(src, "campaigns/extract_user_addresses.sql",
                                                           {"user_id": user_id}, schema=source_schema)]
    addresses = sorted({normal for normal, _ in map(untrusted.normal_address, emails) if normal})
    if not addresses:
        return False
    with db.warehouse() as wh:
        for address in addresses:
            db.run_sql_file(wh, "campaigns/unsubscribed.sql", {"email": address}, schema=schema)
    return True

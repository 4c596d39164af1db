"""The local archive's GPG key (Barman's `encryption = gpg`): the `backup_encryption` connection's, imported into a
keyring of the database server's OS account beside the archive, or one made there on first use."""

from __future__ import annotations

import functools
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

from saas_ops.backups import pg_server
from saas_ops.backups.pg_tools import BackupError

ENCRYPTION_CONN_ID = "backup_encryption"


@dataclass
class Encryption:
    """From the `backup_encryption` connection: the passphrase (its password) and the ASCII-armored secret key it
    protects (extra `private_key`); without a key the pack makes one, once."""
    passphrase: str
    private_key: str | None


def encryption() -> Encryption | None:
    from saas_ops.db import optional_connection

    conn = optional_connection(ENCRYPTION_CONN_ID)
    if conn is None or not conn.password:
        return None
    return Encryption(conn.password, conn.extra_dejson.get("private_key") or None)


def _gpg(gnupg: Path, account: pwd.struct_passwd | None, *args: str, what: str, stdin: str | None = None) -> str:
    out = pg_server.run_as(account, ["gpg", "--batch", "--homedir", str(gnupg), *args], input=stdin)
    if out.returncode != 0:
        raise BackupError(f"{what} failed (exit {out.returncode}): {(out.stderr or out.stdout).strip()[-1500:]}")
    return out.stdout


def fingerprint(gnupg: Path, key: Encryption, account: pwd.struct_passwd | None) -> str:
    """The fingerprint of the secret key in `gnupg` (a folder `account` owns): the connection's, imported; else one
    made with its passphrase, and how to keep a copy of it is printed."""
    if shutil.which("gpg") is None:
        raise BackupError(f"the {ENCRYPTION_CONN_ID} connection asks for GPG encryption, but gpg is not installed "
                          "(apt-get install gnupg)")
    (gnupg / "gpg.conf").write_text("trust-model always\n")  # the keyring holds the pack's key only
    if account is not None:
        pg_server.hand_over(account, gnupg)
    if key.private_key:
        _gpg(gnupg, account, "--import", what=f"gpg --import of {ENCRYPTION_CONN_ID}'s private_key",
             stdin=key.private_key)
    made = "\nsec:" not in "\n" + _gpg(gnupg, account, "--with-colons", "--list-secret-keys", what="gpg --list")
    if made:
        _gpg(gnupg, account, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--quick-gen-key",
             "saas_ops backups <saas-ops-backups@localhost>", "default", "default", "never",
             what="gpg --quick-gen-key", stdin=key.passphrase + "\n")
    listed = _gpg(gnupg, account, "--with-colons", "--list-secret-keys", what="gpg --list-secret-keys")
    found = next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))
    if made:
        print(f"made GPG key {found} for the local archive: keep a copy where the backups are not (gpg --homedir "
              f"{gnupg} --export-secret-keys --armor {found}, into the {ENCRYPTION_CONN_ID} connection's extra "
              "private_key), or a lost disk loses the key too")
    return found


OPENPGP_MAGIC = Path(__file__).with_name("openpgp.magic")


@functools.cache
def magic_list(openpgp_magic: Path) -> str:
    """MAGIC for Barman's file(1): the pack's OpenPGP entries, then file's own list ("magic file from ...")."""
    import subprocess

    shown = subprocess.run(["file", "--version"], capture_output=True, text=True).stdout if shutil.which("file") else ""
    system = next((line.split("magic file from ", 1)[1].strip() for line in shown.splitlines()
                   if line.startswith("magic file from ")), "/usr/share/misc/magic")
    return f"{openpgp_magic}:{system}"

"""The local archive's GPG key from the `backup_encryption` connection: a supplied armored secret key is imported
(not a new one made), and what is encrypted to it opens with the connection's passphrase; a key that is not one
fails with gpg's words, not a made-up key."""

from __future__ import annotations

import subprocess

import pytest

from saas_ops.backups import gpg_key, pg_server
from saas_ops.backups.pg_tools import BackupError


def _keyring(tmp_path):
    """An empty keyring folder the database server's account can reach, as the archive's is."""
    account = pg_server.server_account()
    keyring = tmp_path / "archive_gnupg"
    keyring.mkdir(mode=0o700)
    pg_server.open_path_for(account, tmp_path)
    return account, keyring


def _gpg(home, *args, stdin=None):
    return subprocess.run(["gpg", "--batch", "--homedir", str(home), *args], input=stdin, capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture
def supplied_key(tmp_path):
    """An operator's key, made elsewhere and exported armored, as it goes into the connection's extra."""
    home = tmp_path / "operator"
    home.mkdir(mode=0o700)
    passphrase = "Zoë's <b>backups</b> — passphrase"  # read by gpg as one line, odd characters and all
    _gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--quick-gen-key",
         "ops <ops@example.com>", "default", "default", "never", stdin=passphrase + "\n")
    fpr = next(line.split(":")[9] for line in _gpg(home, "--with-colons", "--list-secret-keys").splitlines()
               if line.startswith("fpr:"))
    armored = _gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--export-secret-keys", "--armor",
                   fpr, stdin=passphrase + "\n")
    return {"fpr": fpr, "armored": armored, "passphrase": passphrase}


def test_a_supplied_private_key_is_imported_and_decrypts_with_the_passphrase(supplied_key, tmp_path, capsys):
    account, keyring = _keyring(tmp_path)
    key = gpg_key.Encryption(supplied_key["passphrase"], supplied_key["armored"])

    assert gpg_key.fingerprint(keyring, key, account) == supplied_key["fpr"]
    assert "made GPG key" not in capsys.readouterr().out
    assert gpg_key.fingerprint(keyring, key, account) == supplied_key["fpr"]  # a second run imports it again, no more
    listed = pg_server.run_as(account, ["gpg", "--batch", "--homedir", str(keyring), "--with-colons",
                                        "--list-secret-keys"]).stdout
    lines = listed.splitlines()
    secret = [i for i, line in enumerate(lines) if line.startswith("sec:")]
    assert len(secret) == 1 and lines[secret[0] + 1].split(":")[9] == supplied_key["fpr"]

    sealed = pg_server.run_as(account, ["gpg", "--batch", "--homedir", str(keyring), "--encrypt", "--armor",
                                        "--recipient", supplied_key["fpr"]], input="a WAL segment's bytes").stdout
    opened = pg_server.run_as(account, ["gpg", "--batch", "--homedir", str(keyring), "--pinentry-mode", "loopback",
                                        "--passphrase-fd", "0", "--decrypt"],
                              input=supplied_key["passphrase"] + "\n" + sealed)
    assert opened.stdout == "a WAL segment's bytes"


def test_a_private_key_that_is_not_one_fails_naming_the_connection(tmp_path):
    account, keyring = _keyring(tmp_path)
    key = gpg_key.Encryption("pass", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot a key\n")
    with pytest.raises(BackupError, match="gpg --import of backup_encryption's private_key failed"):
        gpg_key.fingerprint(keyring, key, account)

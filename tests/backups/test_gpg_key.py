"""The local archive's GPG key from the `backup_encryption` connection: a supplied armored secret key is imported
(not a new one made), and what is encrypted to it opens with the connection's passphrase; a key that is not one
fails with gpg's words, not a made-up key."""

from __future__ import annotations

import pytest

from saas_ops.backups import gpg_key, pg_server
from saas_ops.backups.pg_tools import BackupError
from tests.harness.gpg_keys import gpg_bytes, operator_key


def _keyring(tmp_path):
    """An empty keyring folder the database server's account can reach, as the archive's is."""
    account = pg_server.server_account()
    keyring = tmp_path / "archive_gnupg"
    keyring.mkdir(mode=0o700)
    pg_server.open_path_for(account, tmp_path)
    return account, keyring


@pytest.fixture
def supplied_key(tmp_path):
    # read by gpg as one line, odd characters and all
    return operator_key(tmp_path / "operator", "Zoë's <b>backups</b> — passphrase")


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


def test_without_a_private_key_one_is_made_once_and_its_export_shown(tmp_path, capsys):
    account, keyring = _keyring(tmp_path)
    key = gpg_key.Encryption("a passphrase only", None)

    made = gpg_key.fingerprint(keyring, key, account)
    shown = capsys.readouterr().out
    assert f"made GPG key {made}" in shown and f"--export-secret-keys --armor {made}" in shown
    assert gpg_key.fingerprint(keyring, key, account) == made and "made GPG key" not in capsys.readouterr().out
    sealed = pg_server.run_as(account, ["gpg", "--batch", "--homedir", str(keyring), "--encrypt", "--armor",
                                        "--recipient", made], input="a base backup's bytes").stdout
    opened = pg_server.run_as(account, ["gpg", "--batch", "--homedir", str(keyring), "--pinentry-mode", "loopback",
                                        "--passphrase-fd", "0", "--decrypt"], input="a passphrase only\n" + sealed)
    assert opened.stdout == "a base backup's bytes"


def test_a_private_key_that_is_not_one_fails_naming_the_connection(tmp_path):
    account, keyring = _keyring(tmp_path)
    key = gpg_key.Encryption("pass", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot a key\n")
    with pytest.raises(BackupError, match="gpg --import of backup_encryption's private_key failed"):
        gpg_key.fingerprint(keyring, key, account)


def test_barman_tells_every_encrypted_file_by_the_packs_magic(tmp_path, monkeypatch):
    """Barman's get-wal decrypts a WAL segment only when `file` calls it PGP-encrypted: with the archive's MAGIC it
    does for a cv25519 key (gpg 2.4's default) and for an RSA file whose session-key packet is a byte shorter,
    both of which file(1)'s own entries call "data"; a plain WAL segment's header stays plain."""
    from barman.encryption import GPGEncryption

    monkeypatch.setenv("MAGIC", gpg_key.magic_list(gpg_key.OPENPGP_MAGIC))
    ecc = operator_key(tmp_path / "ecc", "pass", "future-default")
    rsa = operator_key(tmp_path / "rsa", "pass", "rsa2048", "cert,sign,encr")
    cv25519 = tmp_path / "cv25519.gpg"
    cv25519.write_bytes(gpg_bytes(tmp_path / "ecc", ecc["fpr"], b"a WAL segment"))
    assert GPGEncryption.recognize_encryption(str(cv25519))
    short = tmp_path / "short_rsa.gpg"
    for _ in range(3000):  # the RSA ciphertext's top byte is zero about once in 200
        sealed = gpg_bytes(tmp_path / "rsa", rsa["fpr"], b"a WAL segment")
        if sealed[:3] == b"\x85\x01\x0b":  # 267 bytes, not 268
            break
    else:
        pytest.fail("no short session-key packet in 3000 encryptions")
    short.write_bytes(sealed)
    assert GPGEncryption.recognize_encryption(str(short))
    plain = tmp_path / "000000010000000000000001"
    plain.write_bytes(b"\x18\xd1\x02\x00" + bytes(8188))  # an XLogPageHeader's magic (PostgreSQL 18)
    assert not GPGEncryption.recognize_encryption(str(plain))

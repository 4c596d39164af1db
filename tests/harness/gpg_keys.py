"""OpenPGP keys as an operator makes them elsewhere, for the `backup_encryption` connection."""

from __future__ import annotations

import subprocess


def gpg(home, *args, stdin=None):
    return subprocess.run(["gpg", "--batch", "--homedir", str(home), *args], input=stdin, capture_output=True,
                          text=True, check=True).stdout


def operator_key(home, passphrase, algo="default", usage="default"):
    """An operator's key, made elsewhere and exported armored, as it goes into backup_encryption's extra;
    algo "future-default" is gpg 2.4's default, ed25519 with a cv25519 encryption subkey."""
    home.mkdir(mode=0o700)
    gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--quick-gen-key", "ops <ops@example.com>",
        algo, usage, "never", stdin=passphrase + "\n")
    fpr = next(line.split(":")[9] for line in gpg(home, "--with-colons", "--list-secret-keys").splitlines()
               if line.startswith("fpr:"))
    armored = gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--export-secret-keys", "--armor",
                  fpr, stdin=passphrase + "\n")
    return {"fpr": fpr, "armored": armored, "passphrase": passphrase}


def gpg_bytes(home, recipient, data: bytes) -> bytes:
    """`data` encrypted to `recipient`'s key, as Barman encrypts a WAL segment."""
    return subprocess.run(["gpg", "--batch", "--homedir", str(home), "--trust-model", "always", "--encrypt",
                           "--recipient", recipient], input=data, capture_output=True, check=True).stdout

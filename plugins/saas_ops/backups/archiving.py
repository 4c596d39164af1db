"""Continuous WAL archiving and base backups of saas_db by Barman, for restores to any moment of the window.

Barman (README, Backups: why Barman and not pgBackRest) keeps the archive in `backup_storage`:

- **S3** (the connection exists): Barman's cloud client, `barman-cloud-*`. It is stateless: the catalogue lives
  in the bucket (`s3://<STORAGE_BUCKET>/<STORAGE_PREFIX>/pitr/saas`), so any worker can list and restore.
  Everything it writes is encrypted by S3 (SSE-S3, or SSE-KMS with the connection's `sse_kms_key_id` extra).
- **the local folder** (no connection): a Barman server whose home is `<LOCAL_DIR>/barman`, on the database's
  host. WAL lands in its incoming folder by the archive command; `barman cron` (every backup_archive_watch run)
  files it; base backups are `pg_basebackup` run by Barman.

`python -m saas_ops.backups.archiving setup` configures the source server's side (archive_mode, archive_command,
archive_timeout, the marks role); `... show` prints what it would set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saas_ops.backups import gpg_key, pg_server
from saas_ops.backups.pg_tools import BackupError
from saas_ops.backups.source_server import Source, source

SERVER = "saas"  # Barman's name of saas_db's server
MARKS_ROLE = "saas_ops_marker"  # may write saas_ops_pitr.marks and nothing else


class ArchiveError(BackupError):
    """Barman or the archive did not do what was asked; the message says which command and why."""


@dataclass
class BaseBackup:
    """A base backup as Barman lists it."""
    backup_id: str
    status: str
    begin_time: dt.datetime | None
    end_time: dt.datetime | None
    begin_wal: str | None
    end_wal: str | None
    begin_lsn: str | None = None
    end_lsn: str | None = None
    bytes: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _when(value: Any) -> dt.datetime | None:
    """A time as Barman prints it (ISO, 'Mon Dec  7 11:10:32 2026' in local time, or epoch seconds)."""
    if value in (None, "", "None"):
        return None
    if isinstance(value, (int, float)) or str(value).isdigit():
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        parsed = dt.datetime.strptime(" ".join(str(value).split()), "%a %b %d %H:%M:%S %Y")
    return parsed.astimezone(dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _named(backups: list[BaseBackup], name: str, where: str) -> BaseBackup:
    """The newest backup called `name`: a retry's, not the one its killed attempt left behind."""
    named = [b for b in backups if b.info.get("backup_name") == name]
    if not named:
        raise ArchiveError(f"the backup ended but no backup named {name} is in {where}")
    return max(named, key=lambda b: (b.status == "DONE", b.begin_time or dt.datetime.min.replace(tzinfo=dt.UTC)))


def barman_bin(name: str) -> str:
    """A Barman command of this interpreter's environment (the venv's), else of PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if not found:
        raise ArchiveError(f"{name} is not installed: Barman comes with the pack's requirements (make / the image)")
    return found


def _run(args: list[str], env: dict[str, str], what: str, *, account: pwd.struct_passwd | None = None,
         timeout: float | None = None) -> str:
    out = pg_server.run_as(account, args, env=env, timeout=timeout)
    if out.returncode != 0:
        detail = (out.stderr.strip() or out.stdout.strip())[-1500:] or "no message"
        raise ArchiveError(f"{what} failed (exit {out.returncode}): {detail}")
    return out.stdout


# --------------------------------------------------------------------------------------- S3: barman-cloud


@dataclass
class CloudArchive:
    """Barman's cloud client on S3 (or MinIO through endpoint_url)."""
    src: Source
    url: str
    endpoint_url: str | None
    region: str
    credentials: dict[str, str]  # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and a session token)
    sse: list[str]
    credentials_file: Path  # a 0600 file of the server's OS account: the archive command's credentials
    kind: str = "s3"

    @property
    def where(self) -> str:
        return f"{self.url}/{SERVER}"

    def _common(self) -> list[str]:
        return ["--cloud-provider", "aws-s3"] + (["--endpoint-url", self.endpoint_url] if self.endpoint_url else [])

    def _env(self) -> dict[str, str]:
        return {**self.src.env, **self.credentials, "AWS_DEFAULT_REGION": self.region}

    def write_credentials(self, path: Path, account: pwd.struct_passwd | None) -> Path:
        """The credentials for a process of `account` (the archive or restore command), in a file only it reads."""
        from saas_ops.storage import open_private

        lines = ["[default]", f"aws_access_key_id = {self.credentials['AWS_ACCESS_KEY_ID']}",
                 f"aws_secret_access_key = {self.credentials['AWS_SECRET_ACCESS_KEY']}"]
        if self.credentials.get("AWS_SESSION_TOKEN"):
            lines.append(f"aws_session_token = {self.credentials['AWS_SESSION_TOKEN']}")
        with open_private(path, "w") as out:
            out.write("\n".join(lines) + "\n")
        if account is not None:
            os.chown(path, account.pw_uid, account.pw_gid)
            pg_server.open_path_for(account, path.parent)
        return path

    def _command_env(self, credentials_file: Path) -> str:
        return f"AWS_SHARED_CREDENTIALS_FILE={credentials_file} AWS_DEFAULT_REGION={self.region}"

    def archive_command(self) -> str:
        return (f"{self._command_env(self.credentials_file)} {barman_bin('barman-cloud-wal-archive')} "
                f"{' '.join(self._common() + self.sse)} --gzip {self.url} {SERVER} %p")

    def restore_command(self, credentials_file: Path) -> str:
        return (f"{self._command_env(credentials_file)} {barman_bin('barman-cloud-wal-restore')} "
                f"{' '.join(self._common())} {self.url} {SERVER} %f %p")

    def prepare(self) -> None:
        """Nothing to file: WAL goes straight to the bucket."""

    def take_base_backup(self, name: str, parent: str | None = None) -> BaseBackup:
        if parent:
            raise ArchiveError("barman-cloud-backup takes full backups only")
        if self.src.data_directory is None:
            raise ArchiveError("barman-cloud-backup reads the data directory: run this task on saas_db's host "
                               "(an Airflow queue served by a worker there)")
        _run([barman_bin("barman-cloud-backup"), *self._common(), *self.sse, "--gzip", "--immediate-checkpoint",
              "-h", self.src.host, "-p", str(self.src.port), "-U", self.src.user, "-d", self.src.dbname,
              "--name", name, self.url, SERVER], self._env(), "barman-cloud-backup")
        return _named(self.base_backups(), name, self.where)

    def incremental_parent(self, full_every: dt.timedelta, now: dt.datetime) -> str | None:
        """None: barman-cloud-backup takes full backups only."""
        return None

    def base_backups(self) -> list[BaseBackup]:
        out = _run([barman_bin("barman-cloud-backup-list"), *self._common(), "--format", "json", self.url, SERVER],
                   self._env(), "barman-cloud-backup-list")
        found = []
        for item in json.loads(out or "{}").get("backups_list", []):
            found.append(BaseBackup(item["backup_id"], item.get("status", ""), _when(item.get("begin_time")),
                                    _when(item.get("end_time")), item.get("begin_wal"), item.get("end_wal"),
                                    item.get("begin_xlog"), item.get("end_xlog"), item.get("size"), item))
        return found

    def restore(self, backup_id: str, dest: Path, account: pwd.struct_passwd | None) -> list[str]:
        """The base backup's files into `dest`; returns the recovery settings that fetch WAL from the bucket."""
        _run([barman_bin("barman-cloud-restore"), *self._common(), self.url, SERVER, backup_id, str(dest)],
             self._env(), "barman-cloud-restore")
        creds = self.write_credentials(dest.parent / "aws-credentials", account)
        return [f"restore_command = '{self.restore_command(creds)}'"]

    def delete(self, backup_id: str) -> None:
        _run([barman_bin("barman-cloud-backup-delete"), *self._common(), "-b", backup_id, self.url, SERVER],
             self._env(), f"barman-cloud-backup-delete {backup_id}")

    def check(self) -> list[str]:
        """Problems the archive itself shows: none readable without a WAL listing beyond pg_stat_archiver."""
        self.base_backups()  # reachable, readable
        return []


# --------------------------------------------------------------------------------------- local: a Barman server


@dataclass
class LocalArchive:
    """A Barman server on this machine, its home a folder of the server's OS account; with `encryption`, Barman
    encrypts every base backup and WAL segment with GPG (`encryption = gpg`)."""
    src: Source
    home: Path
    encryption: gpg_key.Encryption | None = None
    kind: str = "local"

    @property
    def gnupg(self) -> Path:
        return self.home / "gnupg"

    @property
    def magic(self) -> Path:
        return self.home / "openpgp.magic"

    @property
    def env(self) -> dict[str, str]:
        return {**self.src.env, "GNUPGHOME": str(self.gnupg), "MAGIC": gpg_key.magic_list(self.magic)}

    def _key_id(self) -> str:
        """The fingerprint of the archive's key, in a keyring beside it that the server's account owns."""
        assert self.encryption is not None
        self.gnupg.mkdir(mode=0o700, exist_ok=True)
        if self.src.account is not None:  # gpg runs as the server's account, as Barman does
            pg_server.open_path_for(self.src.account, self.home.parent)
            pg_server.hand_over(self.src.account, self.home)
        return gpg_key.fingerprint(self.gnupg, self.encryption, self.src.account)

    @property
    def where(self) -> str:
        return str(self.home)

    @property
    def incoming(self) -> Path:
        return self.home / SERVER / "incoming"

    @property
    def config_file(self) -> Path:
        return self.home / "barman.conf"

    def prepare(self) -> None:
        """Writes Barman's configuration and creates its folders, owned by the server's OS account."""
        from saas_ops.storage import private_folder

        private_folder(self.home)
        account = self.src.account
        text = "\n".join([
            "# Written by saas_ops.backups.archiving on every run: change the pack's settings, not this file.",
            "[barman]", f"barman_home = {self.home}", f"barman_user = {self.src.os_user}",
            f"log_file = {self.home / 'barman.log'}", "log_level = INFO", "compression = gzip", "",
            f"[{SERVER}]", "description = saas_db", f"conninfo = {self.src.conninfo}",
            f"streaming_conninfo = {self.src.conninfo}", "backup_method = postgres", "archiver = on",
            "streaming_archiver = off", f"path_prefix = {self.src.bin_dir}", "backup_compression = gzip",
            "backup_compression_format = tar", "minimum_redundancy = 1",
            # a fast checkpoint, as barman-cloud-backup's --immediate-checkpoint: the backup starts at once
            "immediate_checkpoint = true", ""])
        if self.encryption is not None:
            passphrase_file = self.home / "gpg-passphrase"
            passphrase_file.write_text(self.encryption.passphrase)
            passphrase_file.chmod(0o600)
            text += "\n".join(["encryption = gpg", f"encryption_key_id = {self._key_id()}",
                               f"encryption_passphrase_command = cat {passphrase_file}", ""])
        self.config_file.write_text(text)
        self.config_file.chmod(0o600)
        shutil.copyfile(gpg_key.OPENPGP_MAGIC, self.magic)  # beside the keyring: the server's account reads it
        self.incoming.mkdir(parents=True, exist_ok=True)  # the archive command's target, before any backup
        if account is not None:
            pg_server.open_path_for(account, self.home.parent)
            pg_server.open_path_for(account, Path(sys.executable).resolve())
            pg_server.hand_over(account, self.home)
        self._barman("cron", what="barman cron")
        self.cron()

    def _barman(self, *args: str, what: str, timeout: float | None = None) -> str:
        # Barman runs as root only to drop to barman_user at once (the server's account owns its home).
        return _run([barman_bin("barman"), "-c", str(self.config_file), *args], self.env, what, timeout=timeout)

    def archive_command(self) -> str:
        part = f"{self.incoming}/.%f.part"
        return f"test ! -f {self.incoming}/%f && cp %p {part} && mv {part} {self.incoming}/%f"

    def restore_command(self) -> str:
        env = f"GNUPGHOME={self.gnupg} MAGIC={self.env['MAGIC']}"
        return f"{env} {barman_bin('barman')} -c {self.config_file} get-wal -P {SERVER} %f > %p"

    def take_base_backup(self, name: str, parent: str | None = None) -> BaseBackup:
        """A full base backup, or with `parent` a block-level incremental one on it (PostgreSQL 17+)."""
        if any("wal_archive" in problem for problem in self.check()):  # Barman backs up once a first WAL is filed
            self._barman("switch-wal", "--force", "--archive", "--archive-timeout", "60", SERVER,
                         what="barman switch-wal")
        self._barman("backup", "--name", name, *(["--incremental", parent] if parent else []), "--wait",
                     "--wait-timeout", "600", SERVER, what="barman backup")
        return _named(self.base_backups(), name, self.where)

    def incremental_parent(self, full_every: dt.timedelta, now: dt.datetime) -> str | None:
        """The backup the next one can be incremental on: the newest good one, when WAL summaries were on for it
        and the newest full one is younger than `full_every`; otherwise None (a full backup is due)."""
        done = sorted((b for b in self.base_backups() if b.status == "DONE" and b.end_time), key=lambda b: b.end_time)
        fulls = [b for b in done if b.info.get("backup_type") != "incremental"]
        if not fulls or now - fulls[-1].end_time >= full_every or done[-1].info.get("summarize_wal") != "on":
            return None
        return done[-1].backup_id

    def base_backups(self) -> list[BaseBackup]:
        listed = json.loads(self._barman("-f", "json", "list-backups", SERVER, what="barman list-backups") or "{}")
        found = []
        for item in listed.get(SERVER, []):
            shown = json.loads(self._barman("-f", "json", "show-backup", SERVER, item["backup_id"],
                                            what="barman show-backup"))[SERVER]
            base = shown.get("base_backup_information", {})
            wal = shown.get("wal_information", {})
            catalog, server = shown.get("catalog_information", {}), shown.get("server_information", {})
            found.append(BaseBackup(item["backup_id"], item.get("status", ""), _when(base.get("begin_time_timestamp")),
                                    _when(item.get("end_time_timestamp")), base.get("begin_wal"),
                                    base.get("end_wal"), base.get("begin_lsn"), base.get("end_lsn"),
                                    item.get("size_bytes"), {**item, "backup_name": shown.get("backup_name"),
                                                             "wal": wal, "parent_backup_id": catalog.get(
                                                                 "parent_backup_id"),
                                                             "summarize_wal": server.get("summarize_wal")}))
        return found

    def restore(self, backup_id: str, dest: Path, account: pwd.struct_passwd | None) -> list[str]:
        """The base backup into `dest` (Barman decompresses it, and combines an incremental one with its parents);
        WAL is fetched by `barman get-wal`."""
        self._barman("recover", "--get-wal", "--restore-command", self.restore_command(), SERVER, backup_id,
                     str(dest), what="barman recover")
        return []

    def delete(self, backup_id: str) -> None:
        self._barman("delete", SERVER, backup_id, what=f"barman delete {backup_id}")

    def check(self) -> list[str]:
        """What `barman check` finds failing (archiver errors, a gap before the newest WAL, missing folders)."""
        out = pg_server.run_as(None, [barman_bin("barman"), "-c", str(self.config_file), "-f", "json", "check",
                                      SERVER], env=self.env)
        try:
            checks = json.loads(out.stdout)[SERVER]
        except (ValueError, KeyError):
            return [f"barman check failed: {(out.stderr or out.stdout).strip()[-500:]}"]
        return [f"barman check: {name}: {c.get('hint') or 'FAILED'}" for name, c in checks.items()
                if c.get("status") != "OK" and name not in NOT_YET]

    def cron(self) -> None:
        """Files the WAL waiting in incoming into the archive (compressed) now: `barman cron` would do it in the
        background, after the task has ended."""
        self._barman("archive-wal", SERVER, what="barman archive-wal", timeout=600)


# A fresh archive has no backup yet: not a problem of the archive.
NOT_YET = {"minimum_redundancy_requirements", "backup_maximum_age"}


def open_archive() -> CloudArchive | LocalArchive:
    """The archive of `backup_storage`: S3 through the connection, else the local folder."""
    from saas_ops import config, db, storage

    src = source()
    conn = db.optional_connection(storage.CONN_ID)
    home = config.local_dir() / "barman"
    if conn is None:
        storage.open_storage()  # refuses the local folder under a distributed executor
        return LocalArchive(src, home, gpg_key.encryption())
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    hook = AwsBaseHook(aws_conn_id=storage.CONN_ID, client_type="s3")
    creds = hook.get_credentials()
    credentials = {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
    if creds.token:
        credentials["AWS_SESSION_TOKEN"] = creds.token
    extra = conn.extra_dejson
    kms = extra.get("sse_kms_key_id")
    sse = ["-e", "aws:kms", "--sse-kms-key-id", kms] if kms else ["-e", "AES256"]
    prefix = config.setting("STORAGE_PREFIX").strip("/")
    url = f"s3://{config.setting('STORAGE_BUCKET')}/{prefix + '/' if prefix else ''}pitr"
    return CloudArchive(src, url, extra.get("endpoint_url"), extra.get("region_name") or "us-east-1", credentials,
                        sse, home / "aws-credentials")


# --------------------------------------------------------------------------------------- the server's side


def server_settings(archive: CloudArchive | LocalArchive, archive_timeout_s: int, major: int) -> dict[str, str]:
    """What the source server needs for continuous archiving (ALTER SYSTEM; archive_mode needs a restart), and from
    PostgreSQL 17 the WAL summaries that incremental base backups read. wal_level is logical so that each base
    backup's manifest is read at a known WAL position (base_backups.take_manifest): no slot is kept."""
    return {"wal_level": "logical", "archive_mode": "on", "archive_timeout": f"{archive_timeout_s}s",
            "track_commit_timestamp": "on", "archive_command": archive.archive_command(),
            **({"summarize_wal": "on"} if major >= 17 else {})}


def setup(*, apply: bool = True) -> list[str]:
    """Configures the source server (as a superuser) and returns what it did, or would do. Idempotent."""
    from psycopg import sql

    from saas_ops import config, db

    archive = open_archive()
    archive.prepare()
    if isinstance(archive, CloudArchive):
        archive.write_credentials(archive.credentials_file, archive.src.account)
    done = []
    with db.connect(db.SOURCE_CONN_ID, autocommit=True) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
        settings = server_settings(archive, config.setting("ARCHIVE_TIMEOUT_SECONDS"), major)
        restart = []
        for name, value in settings.items():
            current = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
            if apply:
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
            done.append(f"ALTER SYSTEM SET {name} = {value!r}" + ("" if apply else " (not applied)"))
            if name in ("wal_level", "archive_mode", "track_commit_timestamp") and current != value:
                restart.append(name)
        if apply:
            conn.execute("SELECT pg_reload_conf()")
            db.run_sql_file(conn, "backups/pitr_marks_setup.sql", {"role": MARKS_ROLE},
                            role=MARKS_ROLE, login_role=archive.src.user)
            done.append(f"schema saas_ops_pitr with its marks table, written only by role {MARKS_ROLE}")
    if isinstance(archive, LocalArchive):
        done.append("the local archive is encrypted with GPG (backup_encryption)" if archive.encryption else
                    f"the local archive is NOT encrypted: add the {gpg_key.ENCRYPTION_CONN_ID} connection (a "
                    "passphrase, and an armored private_key in its extra) to encrypt it with GPG")
    if restart:
        done.append(f"RESTART the server: {', '.join(restart)} change only with a restart")
    done.append(f"pg_hba.conf (local folder mode, pg_basebackup): host replication {archive.src.user} "
                "<airflow worker address>/32 scram-sha-256")
    return done


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m saas_ops.backups.archiving", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["setup", "show"])
    args = parser.parse_args(argv)
    for line in setup(apply=args.command == "setup"):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``zkeb-db demo``: a realistic client session against a real database, told as a story.

Two users, Alice and Bob, do what a zero-knowledge backup client does. Every
secret stays on the "device" (this process); the database gets only
ciphertext, hashes, public keys and a verifier. At the end the demo searches
every column of every table of the project schemas for every plaintext,
passphrase and key it used, and runs the catalog and data checks.

Each expectation is an explicit check. A failed check is printed, the story
goes on where it can, and :func:`run_demo` reports every failure, so
``zkeb-db demo`` exits non-zero when any expectation fails.

The client side (see "Client-side cryptography" below):

- ``username_hash``: the server only ever sees a hash of the user name.
- ``derive_keys``: one master key from the passphrase with scrypt (the demo
  uses a deliberately low cost, said on screen). HKDF-SHA256 then derives
  independent keys from it:
  - the *auth key*, sent at login; the server keeps only
    ``sha256(salt || auth_key)``;
  - the *encryption key* and the *name key*, which are never sent.
- ``seal`` / ``open_sealed``: AES-256-GCM over an envelope holding the file
  name (length-prefixed) and content, bound to the backup id through the associated data. The
  file name travels only inside the ciphertext; the server gets a keyed hash
  of it.
- ``sign_backup`` / ``verify_backup``: Ed25519 over everything stored, so a
  restored backup is checked against the pinned public key of the device that
  made it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

PROJECT_SCHEMAS: tuple[str, ...] = ("zkeb", "zkeb_private", "zkeb_api", "zkeb_maint")

# ---------------------------------------------------------------------------
# Client-side cryptography
# ---------------------------------------------------------------------------

# scrypt with N = 2**10 takes about a millisecond. That is fine for a demo and
# far too cheap for real passphrases.
DEMO_KDF_PARAMS: dict[str, Any] = {"alg": "scrypt", "n": 2**10, "r": 8, "p": 1, "dklen": 32}
PRODUCTION_KDF_HINT = "a real client uses scrypt N >= 2**17, or Argon2id with 64 MiB and 3 passes"

_USERNAME_CONTEXT = b"zkeb-demo/username-hash/v1\x00"
_DEVICE_CONTEXT = b"zkeb-demo/device-id-hash/v1\x00"


@dataclass(frozen=True)
class UserKeys:
    """Keys a client derives from the passphrase; only ``auth_key`` is ever sent."""

    master_key: bytes
    auth_key: bytes
    encryption_key: bytes
    name_key: bytes


@dataclass(frozen=True)
class Sealed:
    """What the server stores for one backup (all opaque to it)."""

    backup_name_hash: bytes
    nonce: bytes
    ciphertext: bytes
    auth_tag: bytes


def username_hash(username: str) -> bytes:
    """The 32-byte identifier the server knows a user by."""
    return hashlib.sha256(_USERNAME_CONTEXT + username.strip().lower().encode("utf-8")).digest()


def device_id_hash(device_identifier: str) -> bytes:
    """The 32-byte identifier the server knows a device by."""
    return hashlib.sha256(_DEVICE_CONTEXT + device_identifier.encode("utf-8")).digest()


def derive_keys(passphrase: str, salt: bytes, kdf_params: Mapping[str, Any]) -> UserKeys:
    """A master key with scrypt, then the auth, encryption and name keys with HKDF."""
    if kdf_params.get("alg") != "scrypt":
        raise ValueError(f"this demo client speaks scrypt only, not {kdf_params.get('alg')!r}")
    master = Scrypt(
        salt=salt,
        length=int(kdf_params.get("dklen", 32)),
        n=int(kdf_params["n"]),
        r=int(kdf_params["r"]),
        p=int(kdf_params["p"]),
    ).derive(passphrase.encode("utf-8"))

    def expand(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    return UserKeys(
        master_key=master,
        auth_key=expand(b"zkeb/auth-key/v1"),
        encryption_key=expand(b"zkeb/encryption-key/v1"),
        name_key=expand(b"zkeb/name-key/v1"),
    )


def name_hash(keys: UserKeys, name: str) -> bytes:
    """Keyed hash of a file name: the server cannot test guesses against it."""
    return hmac.new(keys.name_key, name.encode("utf-8"), hashlib.sha256).digest()


def _aad(backup_id: uuid.UUID, backup_name_hash: bytes) -> bytes:
    return b"zkeb/backup/v1\x00" + backup_id.bytes + backup_name_hash


def seal(keys: UserKeys, backup_id: uuid.UUID, name: str, content: bytes) -> Sealed:
    """Encrypt ``name`` and ``content`` with AES-256-GCM under the encryption key."""
    nh = name_hash(keys, name)
    raw_name = name.encode("utf-8")
    envelope = len(raw_name).to_bytes(2, "big") + raw_name + content
    nonce = os.urandom(12)
    out = AESGCM(keys.encryption_key).encrypt(nonce, envelope, _aad(backup_id, nh))
    return Sealed(backup_name_hash=nh, nonce=nonce, ciphertext=out[:-16], auth_tag=out[-16:])


def open_sealed(keys: UserKeys, backup_id: uuid.UUID, sealed: Sealed) -> tuple[str, bytes]:
    """Decrypt and authenticate; raises ``cryptography.exceptions.InvalidTag`` on tampering."""
    envelope = AESGCM(keys.encryption_key).decrypt(
        sealed.nonce, sealed.ciphertext + sealed.auth_tag, _aad(backup_id, sealed.backup_name_hash)
    )
    length = int.from_bytes(envelope[:2], "big")
    return envelope[2 : 2 + length].decode("utf-8"), envelope[2 + length :]


def _signed_message(backup_id: uuid.UUID, sealed: Sealed) -> bytes:
    return b"".join(
        [
            b"zkeb/backup-signature/v1\x00",
            backup_id.bytes,
            sealed.backup_name_hash,
            sealed.nonce,
            sealed.auth_tag,
            hashlib.sha256(sealed.ciphertext).digest(),
        ]
    )


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def sign_backup(key: Ed25519PrivateKey, backup_id: uuid.UUID, sealed: Sealed) -> bytes:
    return key.sign(_signed_message(backup_id, sealed))


def verify_backup(
    public_key: bytes, signature: bytes, backup_id: uuid.UUID, sealed: Sealed
) -> bool:
    """True when ``signature`` is the device's Ed25519 signature over the stored backup."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, _signed_message(backup_id, sealed)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------
# The secret scanner
# ---------------------------------------------------------------------------

MIN_NEEDLE_BYTES = 12


@dataclass(frozen=True)
class Finding:
    """A secret found in the database: where, which one, in which encoding."""

    table: str
    column: str
    secret: str
    encoding: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} contains {self.secret} ({self.encoding})"


@dataclass(frozen=True)
class ScanResult:
    findings: tuple[Finding, ...]
    tables: int
    columns: int
    secrets: int
    needles: int


def needle_variants(value: bytes) -> dict[str, bytes]:
    """The encodings a leaked secret could be stored in: raw bytes (or UTF-8 text),
    hex, base64 (standard and URL-safe), and JSON-escaped text."""
    variants = {
        "raw": value,
        "hex": value.hex().encode("ascii"),
        "HEX": value.hex().upper().encode("ascii"),
        "base64": base64.b64encode(value).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(value).rstrip(b"="),
    }
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        variants["json"] = json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8")
        variants["json-ascii"] = json.dumps(text)[1:-1].encode("ascii")
    out: dict[str, bytes] = {}
    for name, needle in variants.items():
        if len(needle) >= MIN_NEEDLE_BYTES and needle not in out.values():
            out[name] = needle
    return out


def _load_sql(name: str) -> str:
    return resources.files("zkeb_db").joinpath("sql", name).read_text(encoding="utf-8")


def scan_for_secrets(
    conn: psycopg.Connection[Any],
    secrets_: Mapping[str, bytes],
    schemas: Sequence[str] = PROJECT_SCHEMAS,
) -> ScanResult:
    """Search every column of every table in ``schemas`` for every secret.

    Each secret is searched in each of :func:`needle_variants`; bytea columns
    as bytes, every other column as the UTF-8 of its text form (jsonb
    included). ``conn`` must bypass row level security (a superuser), or the
    scan would see nothing and prove nothing: a ``PermissionError`` says so.
    """
    row = conn.execute(
        "SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user"
    ).fetchone()
    if not (row and row[0]):
        raise PermissionError("the secret scan needs a role that bypasses RLS (a superuser)")
    labels: list[tuple[str, str]] = []
    needles: list[bytes] = []
    for secret_name, value in secrets_.items():
        for encoding, needle in needle_variants(value).items():
            labels.append((secret_name, encoding))
            needles.append(needle)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_load_sql("demo_scan_columns.sql"), {"schemas": list(schemas)})
        columns = cur.fetchall()
    template = _load_sql("demo_scan_column.sql")
    findings: list[Finding] = []
    tables: set[str] = set()
    for col in columns:
        table = f"{col['schema']}.{col['table']}"
        tables.add(table)
        ident = sql.Identifier("t", col["column"])
        expr: sql.Composable = (
            ident
            if col["is_bytea"]
            else sql.SQL("pg_catalog.convert_to({}::text, 'UTF8')").format(ident)
        )
        query = sql.SQL(template).format(
            table=sql.Identifier(col["schema"], col["table"]), value=expr
        )
        for (ord_,) in conn.execute(query, {"needles": needles}).fetchall():
            secret_name, encoding = labels[int(ord_) - 1]
            findings.append(Finding(table, col["column"], secret_name, encoding))
    return ScanResult(
        findings=tuple(findings),
        tables=len(tables),
        columns=len(columns),
        secrets=len(secrets_),
        needles=len(needles),
    )


# ---------------------------------------------------------------------------
# The story
# ---------------------------------------------------------------------------

# The files Alice and Bob back up (name, content). Deterministic so that a
# reader recognises them, and long enough to be unmistakable in a scan.
ALICE_FILES: tuple[tuple[str, bytes], ...] = (
    (
        "2025-tax-return.pdf",
        b"TAX RETURN 2025 - Alice Example, 12 Harbour Lane. Gross income 84,200.00; "
        b"deductions 6,310.50; refund due 1,204.17. Signed electronically on 2026-03-02.",
    ),
    (
        "passport-scan.jpg",
        b"\xff\xd8\xff\xe0JFIF passport scan of Alice Example, document no. X0451187, "
        b"valid until 2031-07-14 \x00\x01\x02\x03 (pretend JPEG bytes)",
    ),
    (
        "medical/vaccination-record.txt",
        b"Vaccination record for Alice Example: tetanus booster 2024-11-03, "
        b"influenza 2025-10-21 (lot FLU-3391), next booster due 2034.",
    ),
    (
        "notes/wifi-and-door-codes.txt",
        b"Home wifi: 'gull-window-7731'; garage door code 4-1-9-9; "
        b"grandmother's safe: left 32, right 7, left 18.",
    ),
    (
        "photos/2025-07-beach.heic",
        b"HEIC\x00\x00\x00\x18ftypheic beach photo, Alice and Sam at Porthcurno, 2025-07-19 "
        b"16:42, GPS 50.0416 N 5.6535 W",
    ),
    (
        "contracts/flat-lease-2026.docx",
        b"LEASE AGREEMENT between Harbour Homes Ltd and Alice Example for Flat 3, "
        b"12 Harbour Lane, from 2026-02-01, rent 1,150.00 per month, deposit 1,725.00.",
    ),
)
ALICE_PHONE_FILE = (
    "phone/voice-memo-2026-01-09.m4a",
    b"M4A voice memo transcript: remember to renew the car insurance before the 20th, "
    b"policy number CI-88410-A.",
)
ALICE_TRASH_FILES: tuple[tuple[str, bytes], ...] = (
    ("old/2019-bank-statement.pdf", b"Bank statement March 2019, account ending 4471, "
     b"closing balance 2,310.88, Alice Example."),
    ("old/draft-letter-to-landlord.txt", b"Dear Harbour Homes, the boiler in Flat 3 has "
     b"failed again; please send an engineer this week. Alice."),
    ("old/scratch-notes.txt", b"Scratch notes from the January planning call, nothing "
     b"important, can be deleted - Alice Example."),
)
ALICE_EXPIRING_FILE = (
    "share/one-time-link-payload.bin",
    b"One-time shared document for the accountant, expires right after the demo: "
    b"ledger export Q4 2025 of Alice Example.",
)
BOB_FILES: tuple[tuple[str, bytes], ...] = (
    (
        "bob/diary-2026.md",
        b"# Diary of Bob Sample\n2026-01-03: started the new job at the observatory.\n"
        b"2026-01-04: told nobody yet.\n",
    ),
    (
        "bob/recovery-codes.txt",
        b"Bob Sample's recovery codes: 8841-2200-1937, 5512-0043-7781, 6620-9981-0005.",
    ),
)

PAGE_SIZE = 3


class DemoAborted(Exception):
    """A step could not go on (the reason has been recorded as a failed check)."""


@dataclass
class Story:
    """Prints the story (rich) and records every check."""

    console: Any
    passed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    step_no: int = 0
    current: str = ""

    def step(self, title: str) -> None:
        self.step_no += 1
        self.current = f"{self.step_no}. {title}"
        self.console.print()
        self.console.rule(f"[bold]{self.current}[/bold]", align="left")

    def say(self, text: str) -> None:
        self.console.print(f"  {text}", highlight=False)

    def sql(self, text: str) -> None:
        self.console.print(f"  [dim]SQL> {text}[/dim]", highlight=False, soft_wrap=True)

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            self.console.print(f"  [green]\u2714[/green] {what}", highlight=False)
        else:
            self.failures.append((self.current, f"{what}{': ' + detail if detail else ''}"))
            self.console.print(
                f"  [bold red]\u2718 {what}[/bold red]{' - ' + detail if detail else ''}",
                highlight=False,
            )
        return ok

    def require(self, ok: bool, what: str, detail: str = "") -> None:
        """A check the rest of the story depends on; printed only when it fails."""
        if ok:
            self.passed += 1
        else:
            self.check(ok, what, detail)
            raise DemoAborted(what)


@dataclass
class DemoReport:
    """What :func:`run_demo` found: every failed check, as (step, what)."""

    passed: int
    failures: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return not self.failures

    def failed_steps(self) -> set[str]:
        return {step for step, _ in self.failures}


def _sqlstate(exc: BaseException) -> str | None:
    return exc.sqlstate if isinstance(exc, psycopg.Error) else None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


@dataclass
class Device:
    name: str
    identifier: str
    key: Ed25519PrivateKey
    device_id: uuid.UUID | None = None
    token: bytes | None = None

    @property
    def public_key(self) -> bytes:
        return public_key_bytes(self.key)


@dataclass
class User:
    username: str
    passphrase: str
    keys: UserKeys | None = None
    user_id: uuid.UUID | None = None
    token: bytes | None = None
    devices: dict[str, Device] = field(default_factory=dict)
    # backup id -> (name, content, size of the ciphertext)
    backups: dict[uuid.UUID, tuple[str, bytes, int]] = field(default_factory=dict)

    @property
    def uhash(self) -> bytes:
        return username_hash(self.username)


class Api:
    """One connection as the application's login role; every call is one statement
    with the session token as its first argument, exactly as any backend would call it."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def call(self, function: str, **args: Any) -> list[dict[str, Any]]:
        names = list(args)
        query = sql.SQL("SELECT * FROM {}({})").format(
            sql.Identifier(*function.split(".")),
            sql.SQL(", ").join(
                sql.SQL("{} => {}").format(sql.Identifier(n), sql.Placeholder(n)) for n in names
            ),
        )
        params = {k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in args.items()}
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def one(self, function: str, **args: Any) -> dict[str, Any]:
        rows = self.call(function, **args)
        if len(rows) != 1:
            raise RuntimeError(f"{function} returned {len(rows)} rows, expected 1")
        return rows[0]

    def error_of(self, function: str, **args: Any) -> str | None:
        """The SQLSTATE the call fails with, or None when it succeeds."""
        try:
            self.call(function, **args)
        except psycopg.Error as exc:
            return _sqlstate(exc)
        return None


def _short(b: bytes, n: int = 8) -> str:
    return b[:n].hex() + "\u2026"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} B"


@contextmanager
def _demo_roles(admin: psycopg.Connection[Any], dsn: str) -> Iterator[tuple[str, str, str]]:
    """Create the demo's login roles (members of zkeb_app and zkeb_maintainer) with
    random passwords; yield (app dsn, maintainer dsn, suffix); drop them afterwards."""
    suffix = secrets.token_hex(4)
    roles = {
        "app": (f"zkeb_demo_app_{suffix}", "zkeb_app"),
        "maint": (f"zkeb_demo_maint_{suffix}", "zkeb_maintainer"),
    }
    passwords = {alias: secrets.token_urlsafe(24) for alias in roles}
    created: list[str] = []
    try:
        for alias, (login, group) in roles.items():
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(login), sql.Literal(passwords[alias]), sql.Identifier(group)
                )
            )
            created.append(login)
        yield (
            make_conninfo(dsn, user=roles["app"][0], password=passwords["app"]),
            make_conninfo(dsn, user=roles["maint"][0], password=passwords["maint"]),
            suffix,
        )
    finally:
        for login in created:
            with suppress(psycopg.Error):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


def run_demo(
    dsn: str,
    console: Any,
    *,
    catalog_check: Callable[[str], tuple[bool, list[str]]] | None = None,
    data_check: Callable[[str], tuple[bool, list[str]]] | None = None,
) -> DemoReport:
    """Play the whole story against the (deployed) database at ``dsn``, a superuser.

    ``catalog_check`` and ``data_check`` default to :mod:`zkeb_db.check` and
    :mod:`zkeb_db.datacheck`; each returns (ok, lines to show).
    """
    story = Story(console)
    with psycopg.connect(dsn, autocommit=True, application_name="zkeb-db demo (admin)") as admin:
        row = admin.execute(
            "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"
        ).fetchone()
        if not (row and row[0]):
            story.step("Setting up")
            story.check(False, "the demo connects as a superuser",
                        "it creates login roles and scans every table; use a superuser --db")
            return DemoReport(story.passed, story.failures)
        with _demo_roles(admin, dsn) as (app_dsn, maint_dsn, suffix):
            app_conn = psycopg.connect(
                app_dsn, autocommit=True, application_name="zkeb-db demo (app)",
                prepare_threshold=None,
            )
            with app_conn, psycopg.connect(
                maint_dsn, autocommit=True, application_name="zkeb-db demo (maintenance)"
            ) as maint_conn:
                demo = _Demo(story, dsn, admin, Api(app_conn), maint_conn, suffix)
                demo.play(catalog_check or _catalog_check, data_check or _data_check)
    return DemoReport(story.passed, story.failures)


class _Demo:
    def __init__(
        self,
        story: Story,
        dsn: str,
        admin: psycopg.Connection[Any],
        api: Api,
        maint: psycopg.Connection[Any],
        suffix: str,
    ) -> None:
        self.s = story
        self.dsn = dsn
        self.admin = admin
        self.api = api
        self.maint = maint
        self.suffix = suffix
        self.alice = User(f"alice.{suffix}@example.org", "correct horse battery staple, Alice!")
        self.bob = User(f"bob.{suffix}@example.org", "Bob's long and boring passphrase #2026")
        self.expiring: uuid.UUID | None = None
        self.trashed: uuid.UUID | None = None
        self.secrets: dict[str, bytes] = {}
        self.tokens: list[bytes] = []
        self.create_args: dict[uuid.UUID, dict[str, Any]] = {}

    # -- the plot -----------------------------------------------------------

    def play(
        self,
        catalog_check: Callable[[str], tuple[bool, list[str]]],
        data_check: Callable[[str], tuple[bool, list[str]]],
    ) -> None:
        s = self.s
        s.console.print(
            "[bold]zkeb-db demo[/bold]: two users back up files through the SQL API. "
            "Everything secret stays on their devices; the database gets ciphertext, "
            "hashes, public keys and a verifier."
        )
        flow: list[Callable[[], None]] = [
            self.accounts,
            self.logins,
            self.devices,
            self.backups,
            self.paging,
            self.restore,
            self.cross_tenant,
            self.revoke,
            self.trash,
            self.maintenance,
        ]
        for step in flow:
            try:
                step()
            except DemoAborted:
                s.say("[red]this step cannot go on; skipping the rest of the client story[/red]")
                break
            except (psycopg.Error, InvalidTag, RuntimeError, ValueError) as exc:
                s.check(False, "the step ran without an unexpected error", _describe(exc))
                s.say("[red]skipping the rest of the client story[/red]")
                break
        # The checks at the end run whatever happened above.
        for final in (
            self.scan,
            lambda: self.run_check("Catalog check (zkeb-db check)", catalog_check),
            lambda: self.run_check("Data checks (zkeb-db check --data)", data_check),
        ):
            try:
                final()
            except (psycopg.Error, RuntimeError, ValueError, PermissionError, ImportError) as exc:
                s.check(False, "the check ran without an unexpected error", _describe(exc))

    # -- 1 ------------------------------------------------------------------

    def accounts(self) -> None:
        s, api = self.s, self.api
        s.step("Alice and Bob create accounts")
        s.say(
            f"Key derivation: scrypt N=2^{DEMO_KDF_PARAMS['n'].bit_length() - 1}, "
            f"r={DEMO_KDF_PARAMS['r']}, p={DEMO_KDF_PARAMS['p']} [yellow](deliberately low cost "
            f"so the demo runs in seconds; {PRODUCTION_KDF_HINT})[/yellow], then HKDF-SHA256 "
            "splits the master key into an auth key (sent at login) and encryption and "
            "name keys (never sent)."
        )
        unknown = username_hash(f"nobody.{self.suffix}@example.org")
        s.sql("SELECT * FROM zkeb_api.prelogin(username_hash => $1)")
        fake1 = api.one("zkeb_api.prelogin", username_hash=unknown)
        fake2 = api.one("zkeb_api.prelogin", username_hash=unknown)
        s.check(
            len(bytes(fake1["auth_salt"])) == 32 and fake1["auth_salt"] == fake2["auth_salt"],
            "prelogin of a name nobody registered answers with a stable 32-byte fake salt",
        )
        s.sql("SELECT * FROM zkeb_api.register_user(username_hash, auth_salt, auth_key, "
              "kdf_params)")
        for user in (self.alice, self.bob):
            salt = os.urandom(32)
            started = time.perf_counter()
            user.keys = derive_keys(user.passphrase, salt, DEMO_KDF_PARAMS)
            took = (time.perf_counter() - started) * 1000
            user.user_id = api.one(
                "zkeb_api.register_user",
                username_hash=user.uhash,
                auth_salt=salt,
                auth_key=user.keys.auth_key,
                kdf_params=DEMO_KDF_PARAMS,
            )["user_id"]
            s.say(
                f"{user.username}: keys derived in {took:.1f} ms; the server knows the user as "
                f"username hash {_short(user.uhash)} with id {user.user_id}"
            )
            again = api.one("zkeb_api.prelogin", username_hash=user.uhash)
            s.check(
                bytes(again["auth_salt"]) == salt and again["kdf_params"] == DEMO_KDF_PARAMS,
                f"prelogin gives {user.username.split('.')[0]}'s client back its salt and KDF "
                "parameters",
            )
            self._remember_user(user)
        state = api.error_of(
            "zkeb_api.register_user",
            username_hash=self.alice.uhash,
            auth_salt=os.urandom(32),
            auth_key=os.urandom(32),
            kdf_params=DEMO_KDF_PARAMS,
        )
        s.check(state == "ZK409", "registering a taken username hash again is refused (ZK409)",
                f"got {state}")

    # -- 2 ------------------------------------------------------------------

    def _login(self, user: User, device: Device | None = None) -> bytes:
        assert user.keys is not None
        salt_row = self.api.one("zkeb_api.prelogin", username_hash=user.uhash)
        keys = derive_keys(user.passphrase, bytes(salt_row["auth_salt"]), salt_row["kdf_params"])
        args: dict[str, Any] = {"username_hash": user.uhash, "auth_key": keys.auth_key}
        if device is not None:
            args["device_id"] = device.device_id
        row = self.api.one("zkeb_api.login", **args)
        self.s.require(row["status"] == "ok", f"{user.username} logs in"
                       + (f" on the {device.name}" if device else ""), f"status {row['status']}")
        token = bytes(row["session_token"])
        self.tokens.append(token)
        return token

    def logins(self) -> None:
        s, api = self.s, self.api
        s.step("Logging in")
        s.sql("SELECT * FROM zkeb_api.login(username_hash => $1, auth_key => $2)")
        assert self.alice.keys is not None
        wrong = derive_keys("not Alice's passphrase", os.urandom(32), DEMO_KDF_PARAMS)
        denied = api.one("zkeb_api.login", username_hash=self.alice.uhash, auth_key=wrong.auth_key)
        unknown = api.one(
            "zkeb_api.login",
            username_hash=username_hash(f"mallory.{self.suffix}@example.org"),
            auth_key=wrong.auth_key,
        )
        s.check(denied["status"] == "denied", "a wrong passphrase is denied",
                f"status {denied['status']}")
        s.check(
            denied == unknown,
            "an unknown user gets exactly the same answer as a wrong passphrase",
            f"{denied} vs {unknown}",
        )
        for user in (self.alice, self.bob):
            user.token = self._login(user)
            s.say(
                f"{user.username.split('.')[0]} has a session token of {len(user.token)} bytes "
                "(the user id, then 32 random bytes); the database keeps only its sha256"
            )
        who = api.one("zkeb_api.whoami", session_token=self.alice.token)
        s.check(who["user_id"] == self.alice.user_id, "whoami with Alice's token says Alice")

    # -- 3 ------------------------------------------------------------------

    def devices(self) -> None:
        s, api = self.s, self.api
        s.step("Registering devices (Ed25519 keys made on the device)")
        plan = [(self.alice, ("laptop", "phone")), (self.bob, ("laptop",))]
        s.sql("SELECT * FROM zkeb_api.register_device(session_token, device_id_hash, "
              "public_key, key_algorithm => 'ed25519')")
        for user, names in plan:
            for name in names:
                device = Device(
                    name=name,
                    identifier=f"{user.username}/{name}/serial-{secrets.token_hex(6)}",
                    key=Ed25519PrivateKey.generate(),
                )
                device.device_id = api.one(
                    "zkeb_api.register_device",
                    session_token=user.token,
                    device_id_hash=device_id_hash(device.identifier),
                    public_key=device.public_key,
                    key_algorithm="ed25519",
                )["device_id"]
                device.token = self._login(user, device)
                user.devices[name] = device
                label = user.username.split(".")[0]
                self.secrets[f"{label}'s {name} private key"] = private_key_bytes(device.key)
                self.secrets[f"{label}'s {name} device identifier"] = device.identifier.encode()
                s.say(f"{label}'s {name}: device {device.device_id}, public key "
                      f"{_short(device.public_key)}")
        listed = api.call("zkeb_api.list_devices", session_token=self.alice.token)
        s.check(
            {r["device_id"] for r in listed} == {d.device_id for d in self.alice.devices.values()},
            "list_devices shows Alice exactly her two devices",
        )

    # -- 4 ------------------------------------------------------------------

    def _backup(
        self,
        user: User,
        device: Device,
        name: str,
        content: bytes,
        expires_at: dt.datetime | None = None,
    ) -> uuid.UUID:
        assert user.keys is not None and device.token is not None
        backup_id = uuid.uuid4()
        sealed = seal(user.keys, backup_id, name, content)
        signature = sign_backup(device.key, backup_id, sealed)
        args: dict[str, Any] = {
            "session_token": device.token,
            "backup_id": backup_id,
            "device_id": device.device_id,
            "backup_name_hash": sealed.backup_name_hash,
            "ciphertext": sealed.ciphertext,
            "nonce": sealed.nonce,
            "auth_tag": sealed.auth_tag,
            "signature": signature,
        }
        if expires_at is not None:
            args["expires_at"] = expires_at
        row = self.api.one("zkeb_api.create_backup", **args)
        self.s.require(not row["replayed"], f"{name} is stored")
        user.backups[backup_id] = (name, content, len(sealed.ciphertext))
        label = user.username.split(".")[0]
        self.secrets[f"{label}'s file name {name}"] = name.encode()
        self.secrets[f"{label}'s file {name}"] = content
        for where, part in (("start", content[:24]), ("middle", content[len(content) // 2:][:24]),
                            ("end", content[-24:])):
            self.secrets[f"{label}'s file {name} ({where})"] = part
        self.create_args[backup_id] = args
        return backup_id

    def usage(self, user: User) -> dict[str, Any]:
        return self.api.one("zkeb_api.storage_usage", session_token=user.token)

    def backups(self) -> None:
        s, api = self.s, self.api
        s.step("Backing up files (AES-256-GCM, signed by the device)")
        laptop = self.alice.devices["laptop"]
        s.sql("SELECT * FROM zkeb_api.create_backup(session_token, backup_id, device_id, "
              "backup_name_hash, ciphertext, nonce, auth_tag, signature)")
        s.say("device/file, plaintext size -> ciphertext size (name and content, encrypted "
              "together; the server gets a keyed hash of the name)")
        for name, content in ALICE_FILES:
            backup_id = self._backup(self.alice, laptop, name, content)
            size = self.alice.backups[backup_id][2]
            s.say(f"alice/laptop  {name:<34} {_size(len(content)):>6} -> {_size(size):>6}")
        name, content = ALICE_PHONE_FILE
        backup_id = self._backup(self.alice, self.alice.devices["phone"], name, content)
        s.say(f"alice/phone   {name:<34} {_size(len(content)):>6} -> "
              f"{_size(self.alice.backups[backup_id][2]):>6}")
        for name, content in BOB_FILES:
            backup_id = self._backup(self.bob, self.bob.devices["laptop"], name, content)
            s.say(f"bob/laptop    {name:<34} {_size(len(content)):>6} -> "
                  f"{_size(self.bob.backups[backup_id][2]):>6}")
        # A retry after a lost reply: same id, same content.
        used_before = self.usage(self.alice)["storage_used_bytes"]
        first = next(iter(self.alice.backups))
        replay = api.one("zkeb_api.create_backup", **self.create_args[first])
        used_after = self.usage(self.alice)["storage_used_bytes"]
        s.check(
            replay["replayed"] is True and used_after == used_before,
            "retrying a create with the same id is a replay and charges nothing",
            f"replayed={replay['replayed']}, used {used_before} -> {used_after}",
        )
        for user in (self.alice, self.bob):
            usage = self.usage(user)
            expected = sum(size for _, _, size in user.backups.values())
            s.check(
                usage["storage_used_bytes"] == expected
                and usage["backup_count"] == len(user.backups),
                f"{user.username.split('.')[0]} uses {usage['storage_used_bytes']} bytes of "
                f"a {_size(usage['storage_quota_bytes'])} quota in {usage['backup_count']} "
                "backups: exactly the ciphertext sizes",
                f"expected {expected} bytes in {len(user.backups)} backups",
            )

    # -- 5 ------------------------------------------------------------------

    def paging(self) -> None:
        s, api = self.s, self.api
        s.step(f"Listing Alice's backups, {PAGE_SIZE} per page (keyset paging)")
        s.sql("SELECT * FROM zkeb_api.list_backups(session_token, page_size => 3, "
              "before_created_at => $last_created_at, before_id => $last_id)")
        seen: list[dict[str, Any]] = []
        cursor: dict[str, Any] = {}
        pages = 0
        while True:
            rows = api.call("zkeb_api.list_backups", session_token=self.alice.token,
                            page_size=PAGE_SIZE, **cursor)
            if not rows:
                break
            pages += 1
            names = [self.alice.backups.get(r["backup_id"], ("?",))[0] for r in rows]
            s.say(f"page {pages}: " + ", ".join(names))
            seen += rows
            last = rows[-1]
            cursor = {"before_created_at": last["created_at"], "before_id": last["backup_id"]}
            if len(rows) < PAGE_SIZE or pages > 20:
                break
        ids = [r["backup_id"] for r in seen]
        s.check(
            sorted(ids) == sorted(self.alice.backups) and len(ids) == len(set(ids)),
            f"the {pages} pages list each of Alice's {len(self.alice.backups)} backups "
            "exactly once",
        )
        order = [(r["created_at"], r["backup_id"]) for r in seen]
        s.check(order == sorted(order, reverse=True), "newest first (created_at, backup_id)")
        s.check(
            all("ciphertext" not in r for r in seen),
            "the listing carries no ciphertext",
        )

    # -- 6 ------------------------------------------------------------------

    def restore(self) -> None:
        s, api = self.s, self.api
        s.step("Restoring a file on another device")
        target = next(b for b, v in self.alice.backups.items()
                      if v[0] == "medical/vaccination-record.txt")
        phone = self.alice.devices["phone"]
        s.sql("SELECT * FROM zkeb_api.get_backup(session_token, backup_id)")
        row = api.one("zkeb_api.get_backup", session_token=phone.token, backup_id=target)
        assert self.alice.keys is not None
        sealed = Sealed(
            # The client knows the name it is restoring; the server only has its keyed hash.
            backup_name_hash=name_hash(self.alice.keys, "medical/vaccination-record.txt"),
            nonce=bytes(row["nonce"]),
            ciphertext=bytes(row["ciphertext"]),
            auth_tag=bytes(row["auth_tag"]),
        )
        laptop = self.alice.devices["laptop"]
        s.check(
            bytes(row["public_key"]) == laptop.public_key and row["device_id"] == laptop.device_id,
            "the backup names Alice's laptop as signer, with the public key the phone has pinned",
        )
        s.check(
            verify_backup(laptop.public_key, bytes(row["signature"]), target, sealed),
            "the Ed25519 signature verifies against the laptop's pinned key",
        )
        name, content = open_sealed(self.alice.keys, target, sealed)
        s.check(
            (name, content) == self.alice.backups[target][:2],
            "AES-256-GCM decrypts and authenticates it to the original bytes",
        )
        s.say(f"restored {name}: \"{content[:60].decode(errors='replace')}\u2026\"")
        flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
        tampered = Sealed(sealed.backup_name_hash, sealed.nonce, flipped, sealed.auth_tag)
        try:
            open_sealed(self.alice.keys, target, tampered)
            detected = False
        except InvalidTag:
            detected = True
        s.check(detected, "one flipped ciphertext bit would be detected (GCM tag)")

    # -- 7 ------------------------------------------------------------------

    def cross_tenant(self) -> None:
        s, api = self.s, self.api
        s.step("Bob tries to reach Alice's backups")
        target = next(iter(self.alice.backups))
        s.sql("SELECT * FROM zkeb_api.get_backup(<Bob's token>, <id of Alice's backup>)")
        try:
            rows = api.call("zkeb_api.get_backup", session_token=self.bob.token, backup_id=target)
            state: str | None = None
        except psycopg.Error as exc:
            rows, state = [], _sqlstate(exc)
        s.check(
            state == "ZK404" and not rows,
            "Bob cannot read Alice's backup: ZK404, exactly like an id that does not exist",
            f"got {state or f'{len(rows)} row(s) with her ciphertext'}",
        )
        missing = api.error_of("zkeb_api.get_backup", session_token=self.bob.token,
                               backup_id=uuid.uuid4())
        s.check(missing == state, "a random id gives the very same error", f"got {missing}")
        for fn in ("zkeb_api.delete_backup", "zkeb_api.purge_backup"):
            err = api.error_of(fn, session_token=self.bob.token, backup_id=target)
            s.check(err == "ZK404", f"Bob cannot {fn.split('.')[1].split('_')[0]} it either "
                    f"({fn.split('.')[1]}: ZK404)", f"got {err}")
        bob_list = api.call("zkeb_api.list_backups", session_token=self.bob.token)
        s.check({r["backup_id"] for r in bob_list} == set(self.bob.backups),
                "Bob's listing shows his own backups only")
        # A backend that "sets the tenant" by hand gains nothing: the token decides.
        assert self.alice.token is not None
        api.conn.execute("SELECT pg_catalog.set_config('zkeb.session_token', %s, false)",
                         [self.alice.token.hex()])
        err = api.error_of("zkeb_api.get_backup", session_token=self.bob.token, backup_id=target)
        api.conn.execute("RESET zkeb.session_token")
        s.check(err == "ZK404",
                "setting zkeb.session_token to Alice's token by hand changes nothing for Bob",
                f"got {err}")
        forged = self.alice.user_id.bytes + os.urandom(32) if self.alice.user_id else b""
        err = api.error_of("zkeb_api.list_backups", session_token=forged)
        s.check(err == "ZK401",
                "a forged token that starts with Alice's user id is refused (ZK401)", f"got {err}")
        err = api.error_of("zkeb_api.list_backups", session_token=b"")
        s.check(err == "ZK401", "an empty token is refused (ZK401)", f"got {err}")
        try:
            api.conn.execute("SELECT count(*) FROM zkeb.encrypted_backups")
            direct = None
        except psycopg.Error as exc:
            direct = _sqlstate(exc)
        s.check(direct == "42501",
                "the application's login role cannot read the tables at all (permission denied)",
                f"got {direct or 'rows'}")
        s.check(
            api.error_of("zkeb_maint.purge_trash") == "42501",
            "nor call a maintenance function",
        )

    # -- 8 ------------------------------------------------------------------

    def revoke(self) -> None:
        s, api = self.s, self.api
        s.step("Alice loses her phone and revokes it")
        phone, laptop = self.alice.devices["phone"], self.alice.devices["laptop"]
        s.sql("SELECT * FROM zkeb_api.revoke_device(session_token, device_id)")
        api.call("zkeb_api.revoke_device", session_token=laptop.token, device_id=phone.device_id)
        err = api.error_of("zkeb_api.whoami", session_token=phone.token)
        s.check(err == "ZK401", "the phone's session is refused at once (ZK401)", f"got {err}")
        assert self.alice.keys is not None
        backup_id = uuid.uuid4()
        sealed = seal(self.alice.keys, backup_id, "phone/after-theft.txt", b"thief was here")
        err = api.error_of(
            "zkeb_api.create_backup",
            session_token=laptop.token,
            backup_id=backup_id,
            device_id=phone.device_id,
            backup_name_hash=sealed.backup_name_hash,
            ciphertext=sealed.ciphertext,
            nonce=sealed.nonce,
            auth_tag=sealed.auth_tag,
            signature=sign_backup(phone.key, backup_id, sealed),
        )
        s.check(err == "ZK403", "nothing signed by the revoked phone is accepted (ZK403)",
                f"got {err}")
        row = api.one("zkeb_api.login", username_hash=self.alice.uhash,
                      auth_key=self.alice.keys.auth_key, device_id=phone.device_id)
        s.check(row["status"] == "denied", "logging in on the revoked phone is denied",
                f"status {row['status']}")
        who = api.one("zkeb_api.whoami", session_token=laptop.token)
        s.check(who["user_id"] == self.alice.user_id, "the laptop carries on")

    # -- 9 ------------------------------------------------------------------

    def trash(self) -> None:
        s, api = self.s, self.api
        s.step("Trash, restore and purge (the trash counts against the quota)")
        laptop = self.alice.devices["laptop"]
        ids = [self._backup(self.alice, laptop, n, c) for n, c in ALICE_TRASH_FILES]
        to_restore, to_purge, to_leave = ids
        token = laptop.token

        def show(label: str) -> dict[str, Any]:
            u = self.usage(self.alice)
            s.say(f"{label:<34} used {u['storage_used_bytes']:>6} B, "
                  f"{u['backup_count']} live, {u['trashed_count']} in the trash")
            return u

        start = show("after three more backups")
        for b in ids:
            api.call("zkeb_api.delete_backup", session_token=token, backup_id=b)
        trashed = show("all three moved to the trash")
        s.check(
            trashed["storage_used_bytes"] == start["storage_used_bytes"]
            and trashed["trashed_count"] == start["trashed_count"] + 3,
            "trashing frees no quota; the three are in the trash",
        )
        err = api.error_of("zkeb_api.get_backup", session_token=token, backup_id=to_restore)
        s.check(err == "ZK404", "a trashed backup cannot be fetched (ZK404)", f"got {err}")
        in_trash = api.call("zkeb_api.list_backups", session_token=token, in_trash=True)
        s.check(set(ids) <= {r["backup_id"] for r in in_trash},
                "list_backups(in_trash => true) shows them")
        api.call("zkeb_api.restore_backup", session_token=token, backup_id=to_restore)
        restored = show("one restored")
        got = api.one("zkeb_api.get_backup", session_token=token, backup_id=to_restore)
        s.check(restored["storage_used_bytes"] == start["storage_used_bytes"]
                and bytes(got["ciphertext"]) != b"",
                "the restored backup is back and usage has not moved")
        api.call("zkeb_api.purge_backup", session_token=token, backup_id=to_purge)
        purged = show("one purged for good")
        size = self.alice.backups[to_purge][2]
        s.check(
            purged["storage_used_bytes"] == restored["storage_used_bytes"] - size,
            f"purging gave back exactly its {size} bytes",
        )
        del self.alice.backups[to_purge]
        self.trashed = to_leave
        s.say("the third stays in the trash for the maintenance job")
        # One backup that expires a second from now, for the maintenance job.
        now = api.conn.execute("SELECT pg_catalog.now()").fetchone()
        assert now is not None
        name, content = ALICE_EXPIRING_FILE
        self.expiring = self._backup(self.alice, laptop, name, content,
                                     expires_at=now[0] + dt.timedelta(seconds=1))
        s.say(f"{name} is stored with expires_at one second from now")

    # -- 10 -----------------------------------------------------------------

    def maintenance(self) -> None:
        s, api, maint = self.s, self.api, self.maint
        s.step("Maintenance, as a member of zkeb_maintainer")
        assert self.expiring is not None and self.trashed is not None
        token = self.alice.devices["laptop"].token
        # Wait until the expiry has passed (it was set one second ahead).
        deadline = time.monotonic() + 5
        while True:
            listed = api.call("zkeb_api.list_backups", session_token=token, page_size=1000)
            if self.expiring not in {r["backup_id"] for r in listed} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        s.check(self.expiring not in {r["backup_id"] for r in listed},
                "once expired, the backup is gone for the API even before cleanup runs")
        before = self.usage(self.alice)
        runs = [
            ("zkeb_maint.cleanup_expired_backups", {}),
            ("zkeb_maint.purge_trash", {"older_than": dt.timedelta(0)}),
            ("zkeb_maint.purge_expired_sessions", {}),
            ("zkeb_maint.purge_audit_logs", {}),
        ]
        results: dict[str, dict[str, Any]] = {}
        maint_api = Api(maint)
        for fn, args in runs:
            shown = ", ".join(f"{k} => interval '0'" for k in args)
            s.sql(f"SELECT * FROM {fn}({shown})")
            row = maint_api.one(fn, **args)
            results[fn] = row
            s.say(f"{fn}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
        expiring_size = self.alice.backups[self.expiring][2]
        trashed_size = self.alice.backups[self.trashed][2]
        cleanup = results["zkeb_maint.cleanup_expired_backups"]
        purge = results["zkeb_maint.purge_trash"]
        s.check(cleanup["deleted_count"] >= 1 and cleanup["bytes_freed"] >= expiring_size,
                "cleanup removed the expired backup", f"{cleanup}")
        s.check(purge["deleted_count"] >= 1 and purge["bytes_freed"] >= trashed_size,
                "purge_trash removed the trashed backup", f"{purge}")
        after = self.usage(self.alice)
        s.check(
            after["storage_used_bytes"]
            == before["storage_used_bytes"] - expiring_size - trashed_size,
            f"Alice's usage dropped by exactly those bytes ({before['storage_used_bytes']} -> "
            f"{after['storage_used_bytes']})",
        )
        del self.alice.backups[self.expiring]
        del self.alice.backups[self.trashed]
        try:
            maint.execute("SELECT ciphertext FROM zkeb.encrypted_backups LIMIT 1")
            err = None
        except psycopg.Error as exc:
            err = _sqlstate(exc)
        s.check(err == "42501", "the maintainer cannot read ciphertext (permission denied)",
                f"got {err or 'rows'}")
        chain = maint_api.call("zkeb_maint.verify_audit_chain")
        s.check(bool(chain) and all(r["ok"] for r in chain),
                f"the audit chains verify ({sum(int(r['checked_count']) for r in chain)} events)",
                f"{chain}")
        checkpoint = maint.execute(
            "SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)) "
            "FROM zkeb_maint.export_audit_checkpoint() AS c"
        ).fetchone()
        assert checkpoint is not None
        against = maint_api.call("zkeb_maint.verify_audit_chain", checkpoint=checkpoint[0])
        s.check(bool(against) and all(r["ok"] for r in against),
                f"and verify against an exported checkpoint of {len(checkpoint[0] or [])} chains")
        events = api.call("zkeb_api.list_audit_events", session_token=token, page_size=100)
        trail: list[list[Any]] = []
        for r in sorted(events, key=lambda r: r["event_id"]):
            if trail and trail[-1][0] == r["action"]:
                trail[-1][1] += 1
            else:
                trail.append([r["action"], 1])
        s.say("Alice's own audit trail (list_audit_events): " + ", ".join(
            f"{action}" + (f" \u00d7{n}" if n > 1 else "") for action, n in trail))

    # -- the checks ---------------------------------------------------------

    def _remember_user(self, user: User) -> None:
        assert user.keys is not None
        label = user.username.split(".")[0]
        self.secrets[f"{label}'s username"] = user.username.encode()
        self.secrets[f"{label}'s passphrase"] = user.passphrase.encode()
        self.secrets[f"{label}'s master key"] = user.keys.master_key
        self.secrets[f"{label}'s auth key"] = user.keys.auth_key
        self.secrets[f"{label}'s encryption key"] = user.keys.encryption_key
        self.secrets[f"{label}'s name key"] = user.keys.name_key

    def scan(self) -> None:
        s = self.s
        s.step("Searching the whole database for anything secret")
        secrets_ = dict(self.secrets)
        for i, token in enumerate(self.tokens, 1):
            secrets_[f"session token #{i}"] = token
        result = scan_for_secrets(self.admin, secrets_)
        s.say(
            f"{result.secrets} secrets (plaintexts and fragments of them, file names, user "
            f"names, passphrases, master/auth/encryption keys, device private keys, session "
            f"tokens) in {result.needles} encodings (raw, hex, base64, JSON) across "
            f"{result.columns} columns of {result.tables} tables"
        )
        for finding in result.findings[:20]:
            s.say(f"[red]found: {finding}[/red]")
        s.check(not result.findings, "none of them is anywhere in the database",
                f"{len(result.findings)} finding(s)")
        s.check(result.secrets > 0 and result.columns > 0, "the scan covered secrets and columns")

    def run_check(self, title: str, fn: Callable[[str], tuple[bool, list[str]]]) -> None:
        s = self.s
        s.step(title)
        ok, lines = fn(self.dsn)
        for line in lines:
            s.say(line)
        s.check(ok, "passed")


def _project() -> Path | None:
    from zkeb_db.cli import CommandError
    from zkeb_db.dbopts import project_dir

    try:
        return project_dir(None)
    except CommandError:
        return None


def _catalog_check(dsn: str) -> tuple[bool, list[str]]:
    """``zkeb-db check``: the zero-knowledge and tenancy rules over the catalog."""
    from zkeb_db import check

    with psycopg.connect(dsn, autocommit=True) as conn:
        report = check.run_checks(conn, project=_project())
    failed = report.failed_rules()
    lines = [f"{len(report.rules)} rules over the catalog, {len(report.rules) - len(failed)} pass"]
    for v in report.violations:
        lines.append(f"[red]FAIL {v.rule}[/red]: {v.object}: {v.detail}")
    return report.ok, lines


def _data_check(dsn: str) -> tuple[bool, list[str]]:
    """``zkeb-db check --data``: ``check_invariants()`` and ``verify_audit_chain()``."""
    import importlib

    datacheck = importlib.import_module("zkeb_db.datacheck")
    with psycopg.connect(dsn, autocommit=True) as conn:
        violations = list(datacheck.run_data_checks(conn))
    lines = ["check_invariants() and verify_audit_chain(): "
             + ("no violation" if not violations else f"{len(violations)} violation(s)")]
    lines += [f"[red]{v}[/red]" for v in violations]
    return not violations, lines

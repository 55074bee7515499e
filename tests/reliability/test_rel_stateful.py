"""Group 1: a stateful model test of the whole API.

A hypothesis ``RuleBasedStateMachine`` drives register, login (right and wrong
key, with and without a device, lockout), logout, register/revoke device,
create (fresh, retried, with another tenant's id), trash, restore, purge, get,
expire + cleanup, purge_trash, session expiry, set_quota and sync_push against
one database. A plain Python model predicts every answer (values and error
codes). After every step:

- the database equals the model (users, devices, valid sessions, backups,
  sync heads, read as superuser);
- ``zkeb_maint.check_invariants()`` returns nothing;
- every user, through the API, sees exactly their own backups (live and trash)
  in keyset order, paging three at a time, with no duplicate and no gap.

Hypothesis does not re-run function fixtures per example: the test uses one
database and empties it (superuser TRUNCATE, triggers off) at the start of
every example.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from relkit import (
    FIGURES,
    KDF,
    KEY_LEN,
    SIG_LEN,
    Outcome,
    h,
    invariant_violations,
    outcome,
    planted,
    reset_data,
    set_settings,
    stretch,
)

from zkeb_db.client import Client, Session

QUOTA = 1000            # default quota of new users in this test (bytes)
LOCKOUT_THRESHOLD = 3   # failed logins that lock an account
PAGE = 3                # list_backups page size in the invariant (forces paging)
FAKE_CLOCK_KEY = "00000000-0000-4000-8000-00000000beef"


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


@dataclass
class MSession:
    token: bytes
    device_id: uuid.UUID | None
    live: bool = True


@dataclass
class MDevice:
    device_id: uuid.UUID
    id_hash: bytes
    alg: str
    public_key: bytes
    revoked: bool = False
    lamport: int | None = None


@dataclass
class MBackup:
    args: dict[str, Any]
    size: int
    created_at: datetime
    trashed: bool = False
    expired: bool = False

    @property
    def backup_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.args["backup_id"]))


@dataclass
class MHead:
    device_id: uuid.UUID
    clock: dict[str, int]
    lamport: int
    payload: bytes | None
    seq: int
    is_sibling: bool


@dataclass
class MUser:
    slot: int
    username_hash: bytes
    auth_key: bytes
    user_id: uuid.UUID
    observer: bytes
    quota: int = QUOTA
    used: int = 0
    failed: int = 0
    locked: bool = False
    sync_seq: int = 0
    sessions: list[MSession] = field(default_factory=list)
    devices: dict[uuid.UUID, MDevice] = field(default_factory=dict)
    backups: dict[uuid.UUID, MBackup] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    sync: dict[bytes, list[MHead]] = field(default_factory=dict)


def clock_le(a: dict[str, int], b: dict[str, int]) -> bool:
    """a <= b pointwise (a missing entry is 0)."""
    return all(v <= b.get(k, 0) for k, v in a.items())


def merge_clocks(*clocks: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in clocks:
        for k, v in c.items():
            out[k] = max(out.get(k, v), v)
    return out


def check_sync_push(got: Outcome, user: MUser, dev: MDevice, ehash: bytes,
                    clock: dict[str, int], lamport: int, payload: bytes | None,
                    figures: str) -> None:
    """The model of sync_push for an active device of a valid session: assert ``got`` is
    what the contract predicts, and apply the push to the model."""
    heads = user.sync.get(ehash, [])
    last = dev.lamport
    pushed_ge = [clock_le(hd.clock, clock) for hd in heads]
    head_ge = [clock_le(clock, hd.clock) for hd in heads]
    merged = merge_clocks(clock, *(hd.clock for hd in heads))
    equal = [hd for hd, a, b in zip(heads, pushed_ge, head_ge, strict=True) if a and b]
    if equal:
        if all(hd.device_id == dev.device_id and hd.lamport == lamport
               and hd.payload == payload for hd in equal):
            expect(got, None, "sync_push retry")
            assert (got.value.status, got.value.seq, got.value.merged_clock) == (
                "applied", max(hd.seq for hd in equal), merged), got.value
            FIGURES.add(figures, "retry")
        else:
            expect(got, "ZK409", "sync_push of another version with an equal clock")
            FIGURES.add(figures, "equal_clock_other_version_zk409")
        return
    if any(b and not a for a, b in zip(pushed_ge, head_ge, strict=True)):
        expect(got, None, "sync_push stale")
        assert (got.value.status, got.value.seq, got.value.merged_clock) == (
            "stale", max(hd.seq for hd in heads), merged), got.value
        FIGURES.add(figures, "stale")
        return
    if last is not None and lamport <= last:
        expect(got, "ZK409", "sync_push with a lamport that did not increase")
        FIGURES.add(figures, "lamport_not_increasing_zk409")
        return
    remaining = [hd for hd, a in zip(heads, pushed_ge, strict=True) if not a]
    flip = sorted((hd for hd in remaining if not hd.is_sibling), key=lambda hd: hd.seq)
    base_seq = user.sync_seq
    user.sync_seq += len(flip) + 1
    for rank, hd in enumerate(flip, start=1):
        hd.is_sibling, hd.seq = True, base_seq + rank
    new = MHead(dev.device_id, clock, lamport, payload, user.sync_seq, bool(remaining))
    user.sync[ehash] = [*remaining, new]
    dev.lamport = lamport
    status = "conflict" if remaining else "applied"
    expect(got, None, "sync_push")
    assert (got.value.status, got.value.seq, got.value.merged_clock) == (
        status, user.sync_seq, merged), got.value
    FIGURES.add(figures, status)


def sync_state(su: psycopg.Connection[Any]) -> list[Any]:
    rows = su.execute(
        "SELECT user_id, entity_hash, device_id, vector_clock, lamport, seq, is_sibling, "
        "payload FROM zkeb.sync_metadata").fetchall()
    return sorted((r[0], r[1], r[2], sorted(r[3].items()), *r[4:]) for r in rows)


def model_sync_state(users: list[MUser]) -> list[Any]:
    return sorted((u.user_id, e, hd.device_id, sorted(hd.clock.items()), hd.lamport, hd.seq,
                   hd.is_sibling, hd.payload)
                  for u in users for e, heads in u.sync.items() for hd in heads)


def expect(got: Outcome, want: str | None, what: str) -> None:
    """``want`` is None for success, else the SQLSTATE."""
    if want is None:
        assert got.ok, f"{what}: expected success, got {got}"
    else:
        assert not got.ok and got.sqlstate == want, f"{what}: expected {want}, got {got}"


# --------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------


def make_machine(app: psycopg.Connection[Any], su: psycopg.Connection[Any],
                 maint: psycopg.Connection[Any], *,
                 seed_backups: int = 0) -> type[RuleBasedStateMachine]:
    """The machine class; ``seed_backups`` small backups per user are created at the start
    of every example (the negative controls use it to reach a buggy state at once)."""
    client = Client(app)
    idx = st.integers(min_value=0, max_value=63)
    target = st.sampled_from(["own", "own", "own", "foreign", "random"])

    class ApiModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            reset_data(su)
            self.users: dict[int, MUser] = {}
            FIGURES.add("stateful", "examples")

        # -- helpers ---------------------------------------------------------

        def _count(self, rule_name: str) -> None:
            FIGURES.add("stateful", "steps")
            FIGURES.add("stateful_rules", rule_name)

        def _user(self, i: int) -> MUser:
            keys = sorted(self.users)
            return self.users[keys[i % len(keys)]]

        def _other(self, user: MUser, i: int) -> MUser | None:
            others = [u for k, u in sorted(self.users.items()) if u is not user]
            return others[i % len(others)] if others else None

        def _session(self, i: int) -> tuple[MUser, MSession]:
            """Mostly a live session; one pick in four from all (dead ones included)."""
            pairs = [(u, s) for _, u in sorted(self.users.items()) for s in u.sessions]
            live = [(u, s) for u, s in pairs if s.live]
            if live and i % 4:
                return live[(i // 4) % len(live)]
            return pairs[i % len(pairs)]

        def _has_sessions(self) -> bool:
            return any(u.sessions for u in self.users.values())

        def _device_target(self, user: MUser, kind: str, i: int) -> uuid.UUID:
            if kind == "own" and user.devices:
                return list(user.devices)[i % len(user.devices)]
            other = self._other(user, i)
            if kind == "foreign" and other is not None and other.devices:
                return list(other.devices)[i % len(other.devices)]
            return uuid.uuid4()

        def _backup_target(self, user: MUser, kind: str, i: int) -> uuid.UUID:
            if kind == "own" and user.backups:
                return list(user.backups)[i % len(user.backups)]
            other = self._other(user, i)
            if kind == "foreign" and other is not None and other.backups:
                # Foreign unless this user happens to hold the same client-chosen id.
                bid = list(other.backups)[i % len(other.backups)]
                if bid not in user.backups:
                    return bid
            return uuid.uuid4()

        def _session_ok(self, sess: MSession) -> bool:
            return sess.live

        def _api(self, token: bytes) -> Session:
            return Session(client, token)

        # -- accounts --------------------------------------------------------

        def _register(self, slot: int) -> Outcome:
            username_hash = h(f"stateful-user-{slot}")
            auth_key = h(f"stateful-key-{slot}")
            got = outcome(client.register_user, username_hash, h(f"salt-{slot}"), auth_key, KDF)
            if slot in self.users:
                expect(got, "ZK409", "register_user with a taken username hash")
                return got
            expect(got, None, "register_user")
            user_id = got.value
            observer = client.login(username_hash, auth_key)
            assert observer.user_id == user_id
            user = MUser(slot, username_hash, auth_key, user_id, observer.session_token)
            # A working session the rules use (the observer is only for the invariants).
            user.sessions.append(MSession(client.login(username_hash, auth_key).session_token,
                                          None))
            self.users[slot] = user
            return got

        @initialize()
        def two_users_with_a_device(self) -> None:
            self._count("register")
            for slot in (0, 1):
                self._register(slot)
                self.register_device(slot, 0, "ed25519", 0)
                user = self.users[slot]
                for n in range(seed_backups):
                    bid = uuid.uuid4()
                    self._create(user, user.sessions[0], {
                        "backup_id": bid, "device_id": next(iter(user.devices)),
                        "backup_name_hash": h(f"seed-{n}"), "ciphertext": stretch(f"c{bid}", 10),
                        "nonce": stretch(f"n{bid}", 12), "auth_tag": stretch(f"t{bid}", 16),
                        "signature": stretch(f"s{bid}", 64), "expires_at": None},
                        "seed create_backup")

        @rule(slot=st.integers(min_value=0, max_value=3))
        def register(self, slot: int) -> None:
            self._count("register")
            self._register(slot)

        @precondition(lambda self: self.users)
        @rule(i=idx, right_key=st.booleans(), device=st.sampled_from(
            ["none", "none", "own", "foreign", "random"]))
        def login(self, i: int, right_key: bool, device: str) -> None:
            self._count("login")
            user = self._user(i)
            device_id = None if device == "none" else self._device_target(user, device, i)
            key = user.auth_key if right_key else h(f"wrong-{i}")
            got = outcome(client.login_status, user.username_hash, key, device_id=device_id)
            expect(got, None, "login")
            status = got.value.status
            if user.locked:
                want = "locked"
            elif not right_key:
                if user.failed + 1 >= LOCKOUT_THRESHOLD:
                    user.failed, user.locked, want = 0, True, "locked"
                else:
                    user.failed, want = user.failed + 1, "denied"
            else:
                user.failed = 0
                dev = user.devices.get(device_id) if device_id is not None else None
                unusable = device_id is not None and (dev is None or dev.revoked)
                want = "denied" if unusable else "ok"
            assert status == want, f"login: expected {want}, got {got.value}"
            if want == "ok":
                assert got.value.user_id == user.user_id
                assert len(got.value.session_token) == 48
                user.sessions.append(MSession(got.value.session_token, device_id))
            else:
                assert got.value.session_token is None and got.value.user_id is None
                assert (got.value.retry_after is not None) == (want == "locked")

        @rule(i=idx)
        def login_unknown_user(self, i: int) -> None:
            self._count("login_unknown_user")
            got = outcome(client.login_status, h(f"nobody-{i}"), h("k"))
            expect(got, None, "login of an unknown user")
            assert got.value.status == "denied" and got.value.session_token is None
            salt1 = client.prelogin(h(f"nobody-{i}")).auth_salt
            salt2 = client.prelogin(h(f"nobody-{i}")).auth_salt
            assert salt1 == salt2 and len(salt1) == 32

        @precondition(lambda self: self.users)
        @rule(i=idx)
        def unlock(self, i: int) -> None:
            """Time passes for one account: its lockout (if any) ends."""
            self._count("unlock")
            user = self._user(i)
            su.execute("UPDATE zkeb.users SET locked_until = now() - interval '1 second' "
                       "WHERE user_id = %s AND locked_until IS NOT NULL", [user.user_id])
            user.locked = False

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, how=st.sampled_from(["logout", "expire"]))
        def end_session(self, i: int, how: str) -> None:
            """logout, or time passes for one session and it expires."""
            self._count(f"end_session_{how}")
            user, sess = self._session(i)
            if how == "logout":
                got = outcome(self._api(sess.token).logout)
                expect(got, None if sess.live else "ZK401", "logout")
                sess.live = False
                return
            su.execute("UPDATE zkeb.sessions SET created_at = now() - interval '2 hours', "
                       "expires_at = now() - interval '1 hour' "
                       "WHERE user_id = %s AND token_hash = sha256(%s)",
                       [user.user_id, sess.token])
            sess.live = False

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx)
        def usage(self, i: int) -> None:
            self._count("usage")
            user, sess = self._session(i)
            who = outcome(self._api(sess.token).whoami)
            use = outcome(self._api(sess.token).storage_usage)
            if not sess.live:
                expect(who, "ZK401", "whoami with a dead session")
                expect(use, "ZK401", "storage_usage with a dead session")
                return
            expect(who, None, "whoami")
            expect(use, None, "storage_usage")
            assert (who.value.user_id, who.value.storage_quota_bytes,
                    who.value.storage_used_bytes, who.value.account_status) == (
                user.user_id, user.quota, user.used, "active")
            visible = [b for b in user.backups.values() if not b.expired]
            assert (use.value.storage_quota_bytes, use.value.storage_used_bytes,
                    use.value.backup_count, use.value.trashed_count) == (
                user.quota, user.used, sum(not b.trashed for b in visible),
                sum(b.trashed for b in visible))

        # -- devices ---------------------------------------------------------

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, slot=st.integers(min_value=0, max_value=2),
              alg=st.sampled_from(["ed25519", "ed25519", "rsa-4096"]),
              variant=st.integers(min_value=0, max_value=1))
        def register_device(self, i: int, slot: int, alg: str, variant: int) -> None:
            self._count("register_device")
            pairs = [(u, x) for _, u in sorted(self.users.items()) for x in u.sessions]
            user, sess = pairs[i % len(pairs)]
            # The same device_id_hash in every tenant: natural keys collide on purpose.
            id_hash = h(f"device-{slot}")
            public_key = stretch(f"pk-{slot}-{alg}-{variant}", KEY_LEN[alg])
            got = outcome(self._api(sess.token).register_device, id_hash, public_key, alg)
            if not sess.live:
                expect(got, "ZK401", "register_device with a dead session")
                return
            same = [d for d in user.devices.values() if d.id_hash == id_hash]
            if same:
                d = same[0]
                if d.alg == alg and d.public_key == public_key and not d.revoked:
                    expect(got, None, "register_device retry")
                    assert got.value == d.device_id
                else:
                    expect(got, "ZK409", "register_device with a taken hash")
                return
            expect(got, None, "register_device")
            user.devices[got.value] = MDevice(got.value, id_hash, alg, public_key)

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, kind=target)
        def revoke_device(self, i: int, kind: str) -> None:
            self._count("revoke_device")
            user, sess = self._session(i)
            device_id = self._device_target(user, kind, i)
            got = outcome(self._api(sess.token).revoke_device, device_id)
            if not sess.live:
                expect(got, "ZK401", "revoke_device with a dead session")
                return
            dev = user.devices.get(device_id)
            if dev is None:
                expect(got, "ZK404", "revoke_device of a foreign or missing device")
                return
            expect(got, None, "revoke_device")
            if not dev.revoked:
                dev.revoked = True
                for s in user.sessions:
                    if s.device_id == device_id:
                        s.live = False

        # -- backups ---------------------------------------------------------

        def _create(self, user: MUser, sess: MSession, args: dict[str, Any],
                    what: str) -> None:
            got = outcome(self._api(sess.token).create_backup, **args)
            if not sess.live:
                expect(got, "ZK401", f"{what} with a dead session")
                return
            user.attempts.append(args)
            bid = uuid.UUID(str(args["backup_id"]))
            size = len(args["ciphertext"])
            existing = user.backups.get(bid)
            if existing is not None:
                if existing.expired:
                    # Expiry is simulated by moving the stored expires_at into the past,
                    # so the stored row no longer matches the arguments: "other content".
                    expect(got, "ZK409", f"{what}: same id as an expired backup")
                elif existing.args == args:
                    expect(got, None, f"{what}: replay")
                    assert got.value.replayed is True, f"{what}: replay not marked replayed"
                    assert got.value.created_at == existing.created_at
                    assert got.value.storage_used_bytes == user.used
                    FIGURES.add("stateful", "replays_checked")
                else:
                    expect(got, "ZK409", f"{what}: same id, other content")
                return
            dev = user.devices.get(uuid.UUID(str(args["device_id"])))
            if dev is None:
                expect(got, "ZK404", f"{what} from a foreign or missing device")
                return
            if dev.revoked:
                expect(got, "ZK403", f"{what} from a revoked device")
                return
            if len(args["signature"]) != SIG_LEN[dev.alg]:
                expect(got, "ZK422", f"{what} with a signature of the wrong length")
                return
            if user.used + size > user.quota:
                expect(got, "ZK413", f"{what} over quota")
                return
            expect(got, None, what)
            assert got.value.replayed is False
            user.used += size
            assert got.value.storage_used_bytes == user.used, f"{what}: used bytes"
            user.backups[bid] = MBackup(args, size, got.value.created_at)

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, kind=target, size=st.sampled_from([1, 17, 64, 200, 450]),
              expires=st.booleans(), id_from=st.sampled_from(["fresh", "fresh", "other"]),
              name=st.integers(min_value=0, max_value=2))
        def create_fresh(self, i: int, kind: str, size: int, expires: bool, id_from: str,
                         name: int) -> None:
            self._count("create_fresh")
            user, sess = self._session(i)
            device_id = self._device_target(user, kind, i)
            dev = user.devices.get(device_id)
            alg = dev.alg if dev is not None else "ed25519"
            backup_id = uuid.uuid4()
            other = self._other(user, i)
            if id_from == "other" and other is not None and other.backups:
                # Another tenant's client-chosen id: must be a separate backup here.
                candidate = list(other.backups)[i % len(other.backups)]
                if candidate not in user.backups:
                    backup_id = candidate
                    FIGURES.add("stateful", "cross_tenant_same_backup_id")
            args = {
                "backup_id": backup_id,
                "device_id": device_id,
                "backup_name_hash": h(f"name-{name}"),
                "ciphertext": stretch(f"ct-{backup_id}-{size}", size),
                "nonce": stretch(f"n-{backup_id}", 12),
                "auth_tag": stretch(f"t-{backup_id}", 16),
                "signature": stretch(f"s-{backup_id}", SIG_LEN[alg]),
                "expires_at": (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
                if expires else None,
            }
            self._create(user, sess, args, "create_backup")

        @precondition(lambda self: any(u.attempts and u.sessions for u in self.users.values()))
        @rule(i=idx, j=idx, change=st.sampled_from([None, None, None, "ciphertext", "nonce"]),
              stored=st.booleans())
        def create_retry(self, i: int, j: int, change: str | None, stored: bool) -> None:
            """A retry of an earlier attempt: of a stored backup (a lost reply), or of any
            attempt, failed ones included; sometimes with other content."""
            self._count("create_retry")
            user, sess = self._session(i)
            pool = [b.args for b in user.backups.values()] if stored else []
            pool = pool or user.attempts
            if not pool:
                return
            args = dict(pool[j % len(pool)])
            if change == "ciphertext":
                args["ciphertext"] = bytes(reversed(args["ciphertext"])) + b"!"
            elif change == "nonce":
                args["nonce"] = bytes(12)
            self._create(user, sess, args, "create_backup retry")

        def _visible(self, b: MBackup | None) -> bool:
            return b is not None and not b.expired

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, kind=target)
        def trash(self, i: int, kind: str) -> None:
            self._count("trash")
            user, sess = self._session(i)
            bid = self._backup_target(user, kind, i)
            got = outcome(self._api(sess.token).delete_backup, bid)
            if not sess.live:
                expect(got, "ZK401", "delete_backup with a dead session")
                return
            b = user.backups.get(bid)
            if b is None or not self._visible(b):
                expect(got, "ZK404", "delete_backup of a missing/foreign/expired backup")
                return
            expect(got, None, "delete_backup")
            b.trashed = True

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, kind=target)
        def restore(self, i: int, kind: str) -> None:
            self._count("restore")
            user, sess = self._session(i)
            bid = self._backup_target(user, kind, i)
            got = outcome(self._api(sess.token).restore_backup, bid)
            if not sess.live:
                expect(got, "ZK401", "restore_backup with a dead session")
                return
            b = user.backups.get(bid)
            if b is None or not self._visible(b):
                expect(got, "ZK404", "restore_backup of a missing/foreign/expired backup")
                return
            expect(got, None, "restore_backup")
            b.trashed = False

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, kind=target)
        def purge(self, i: int, kind: str) -> None:
            self._count("purge")
            user, sess = self._session(i)
            bid = self._backup_target(user, kind, i)
            got = outcome(self._api(sess.token).purge_backup, bid)
            if not sess.live:
                expect(got, "ZK401", "purge_backup with a dead session")
                return
            b = user.backups.get(bid)
            if b is None or not self._visible(b):
                expect(got, "ZK404", "purge_backup of a missing/foreign/expired backup")
                return
            expect(got, None, "purge_backup")
            user.used -= b.size
            del user.backups[bid]

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, kind=target)
        def get(self, i: int, kind: str) -> None:
            self._count("get")
            user, sess = self._session(i)
            bid = self._backup_target(user, kind, i)
            got = outcome(self._api(sess.token).get_backup, bid)
            if not sess.live:
                expect(got, "ZK401", "get_backup with a dead session")
                return
            b = user.backups.get(bid)
            if b is None or not self._visible(b) or b.trashed:
                expect(got, "ZK404", "get_backup of a missing/foreign/expired/trashed backup")
                return
            expect(got, None, "get_backup")
            row = got.value
            dev = user.devices[uuid.UUID(str(b.args["device_id"]))]
            assert (row.ciphertext, row.nonce, row.auth_tag, row.signature) == (
                b.args["ciphertext"], b.args["nonce"], b.args["auth_tag"], b.args["signature"])
            assert (row.device_id, row.public_key, row.key_algorithm, row.created_at) == (
                dev.device_id, dev.public_key, dev.alg, b.created_at)

        @precondition(lambda self: any(u.backups for u in self.users.values()))
        @rule(i=idx, j=idx)
        def expire(self, i: int, j: int) -> None:
            """Time passes for one backup: its expires_at is now in the past."""
            self._count("expire")
            holders = [u for _, u in sorted(self.users.items()) if u.backups]
            user = holders[i % len(holders)]
            bid = list(user.backups)[j % len(user.backups)]
            su.execute("UPDATE zkeb.encrypted_backups SET expires_at = now() - interval '1 second' "
                       "WHERE user_id = %s AND backup_id = %s", [user.user_id, bid])
            user.backups[bid].expired = True

        @rule()
        def cleanup(self) -> None:
            self._count("cleanup")
            row = maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups()").fetchone()
            n = freed = 0
            for user in self.users.values():
                for bid, b in list(user.backups.items()):
                    if b.expired:
                        n, freed = n + 1, freed + b.size
                        user.used -= b.size
                        del user.backups[bid]
            assert row == (n, freed), f"cleanup_expired_backups: expected {(n, freed)}, got {row}"

        @rule()
        def purge_trash(self) -> None:
            self._count("purge_trash")
            row = maint.execute(
                "SELECT * FROM zkeb_maint.purge_trash(older_than => interval '0')").fetchone()
            n = freed = 0
            for user in self.users.values():
                for bid, b in list(user.backups.items()):
                    if b.trashed:
                        n, freed = n + 1, freed + b.size
                        user.used -= b.size
                        del user.backups[bid]
            assert row == (n, freed), f"purge_trash: expected {(n, freed)}, got {row}"

        @precondition(lambda self: self.users)
        @rule(i=idx, delta=st.sampled_from([-64, -1, 0, 1, 300, 2000]))
        def set_quota(self, i: int, delta: int) -> None:
            self._count("set_quota")
            user = self._user(i)
            quota = max(user.used + delta, 0)
            got = outcome(lambda: maint.execute("SELECT zkeb_maint.set_quota(%s, %s)",
                                                [user.user_id, quota]))
            if quota < user.used:
                expect(got, "ZK409", "set_quota below usage")
                return
            expect(got, None, "set_quota")
            user.quota = quota

        # -- sync ------------------------------------------------------------

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, kind=st.sampled_from(["own", "own", "own", "own", "foreign", "random"]),
              entity=st.integers(min_value=0, max_value=1),
              base=st.sampled_from(["empty", "merged", "head", "head"]),
              bump=st.integers(min_value=0, max_value=2),
              fake=st.integers(min_value=0, max_value=1),
              dlam=st.sampled_from([-1, 0, 1, 1, 2]),
              payload=st.sampled_from([None, b"p1", b"p2"]))
        def sync_push(self, i: int, kind: str, entity: int, base: str, bump: int, fake: int,
                      dlam: int, payload: bytes | None) -> None:
            self._count("sync_push")
            self._sync_push(i, kind, entity, base, bump, fake, dlam, payload)

        @precondition(lambda self: self._has_sessions())
        @rule(i=idx, entity=st.integers(min_value=0, max_value=1),
              base=st.sampled_from(["merged", "head"]), bump=st.integers(min_value=1, max_value=2),
              payload=st.sampled_from([None, b"p1"]))
        def sync_push_forward(self, i: int, entity: int, base: str, bump: int,
                              payload: bytes | None) -> None:
            """A device moves an entity forward from what it has seen."""
            self._count("sync_push_forward")
            self._sync_push(i, "own", entity, base, bump, 0, 1, payload)

        @precondition(lambda self: any(u.sync for u in self.users.values()))
        @rule(i=idx, entity=st.integers(min_value=0, max_value=1),
              bump=st.integers(min_value=0, max_value=1), dlam=st.sampled_from([0, 1]),
              payload=st.sampled_from([None, b"p1"]))
        def sync_push_from_a_head(self, i: int, entity: int, bump: int, dlam: int,
                                  payload: bytes | None) -> None:
            """Retries and concurrent versions: start from one stored head's clock."""
            self._count("sync_push_from_a_head")
            self._sync_push(i, "own", entity, "head", bump, 0, dlam, payload)

        def _sync_push(self, i: int, kind: str, entity: int, base: str, bump: int, fake: int,
                       dlam: int, payload: bytes | None) -> None:
            user, sess = self._session(i)
            device_id = self._device_target(user, kind, i)
            ehash = h(f"entity-{entity}")   # the same entity hashes in every tenant
            heads = user.sync.get(ehash, [])
            if base == "merged":
                clock = merge_clocks(*(hd.clock for hd in heads))
            elif base == "head" and heads:
                clock = dict(heads[i % len(heads)].clock)
            else:
                clock = {}
            key = str(device_id)
            if bump:
                clock[key] = clock.get(key, 0) + bump
            if fake:
                clock[FAKE_CLOCK_KEY] = clock.get(FAKE_CLOCK_KEY, 0) + fake
            dev = user.devices.get(device_id)
            last = dev.lamport if dev is not None else None
            lamport = max((last or 0) + dlam, 0)
            got = outcome(self._api(sess.token).sync_push, ehash, device_id, clock, lamport,
                          payload)
            if not got.ok:
                FIGURES.add("stateful_sync", f"error_{got.sqlstate}")
            if not sess.live:
                expect(got, "ZK401", "sync_push with a dead session")
                return
            if dev is None:
                expect(got, "ZK404", "sync_push from a foreign or missing device")
                return
            if dev.revoked:
                expect(got, "ZK403", "sync_push from a revoked device")
                return
            check_sync_push(got, user, dev, ehash, clock, lamport, payload, "stateful_sync")

        # -- invariants -------------------------------------------------------

        @invariant()
        def database_equals_model(self) -> None:
            FIGURES.add("stateful", "invariant_checks")
            users = {u.user_id: u for u in self.users.values()}
            rows = su.execute(
                "SELECT user_id, storage_quota_bytes, storage_used_bytes, failed_login_count, "
                "COALESCE(locked_until > now(), false), sync_seq FROM zkeb.users").fetchall()
            assert {r[0]: tuple(r[1:]) for r in rows} == {
                u.user_id: (u.quota, u.used, u.failed, u.locked, u.sync_seq)
                for u in users.values()}, "users differ from the model"
            rows = su.execute(
                "SELECT user_id, device_id, device_id_hash, key_algorithm, public_key, "
                "revoked_at IS NOT NULL, sync_lamport FROM zkeb.devices").fetchall()
            assert set(map(tuple, rows)) == {
                (u.user_id, d.device_id, d.id_hash, d.alg, d.public_key, d.revoked, d.lamport)
                for u in users.values() for d in u.devices.values()}, "devices differ"
            rows = su.execute(
                "SELECT user_id, token_hash FROM zkeb.sessions "
                "WHERE revoked_at IS NULL AND expires_at > now()").fetchall()
            assert set(map(tuple, rows)) == {
                (u.user_id, hashlib.sha256(t).digest()) for u in users.values()
                for t in [u.observer, *(s.token for s in u.sessions if s.live)]}, \
                "valid sessions differ"
            rows = su.execute(
                "SELECT user_id, backup_id, device_id, backup_name_hash, size_bytes, "
                "sha256(ciphertext), nonce, auth_tag, signature, created_at, "
                "deleted_at IS NOT NULL, COALESCE(expires_at <= now(), false), "
                "CASE WHEN expires_at > now() THEN expires_at END "
                "FROM zkeb.encrypted_backups").fetchall()
            assert set(map(tuple, rows)) == {
                (u.user_id, bid, uuid.UUID(str(b.args["device_id"])), b.args["backup_name_hash"],
                 b.size, hashlib.sha256(b.args["ciphertext"]).digest(), b.args["nonce"],
                 b.args["auth_tag"], b.args["signature"], b.created_at, b.trashed, b.expired,
                 None if b.expired else b.args["expires_at"])
                for u in users.values() for bid, b in u.backups.items()}, "backups differ"
            assert sync_state(su) == model_sync_state(list(users.values())), \
                "sync heads differ from the model"

        @invariant()
        def no_invariant_violations(self) -> None:
            assert invariant_violations(maint) == []

        @invariant()
        def each_user_pages_through_exactly_their_backups(self) -> None:
            for user in self.users.values():
                session = Session(client, user.observer)
                for in_trash in (False, True):
                    seen: list[Any] = []
                    before: Any = None
                    while True:
                        page = session.list_backups(
                            page_size=PAGE, in_trash=in_trash,
                            before_created_at=before.created_at if before else None,
                            before_id=before.backup_id if before else None)
                        FIGURES.add("stateful", "keyset_pages")
                        seen.extend(page)
                        if len(page) < PAGE:
                            break
                        before = page[-1]
                    ids = [r.backup_id for r in seen]
                    assert len(ids) == len(set(ids)), f"keyset paging repeated a backup: {ids}"
                    want = sorted(
                        (b for b in user.backups.values()
                         if not b.expired and b.trashed == in_trash),
                        key=lambda b: (b.created_at, b.backup_id), reverse=True)
                    assert ids == [b.backup_id for b in want], (
                        f"user {user.slot} {'trash' if in_trash else 'live'} listing differs "
                        f"from the model (keyset order, no gaps)")
                    for r in seen:
                        b = user.backups[r.backup_id]
                        assert (r.size_bytes, r.backup_name_hash, r.device_id) == (
                            b.size, b.args["backup_name_hash"],
                            uuid.UUID(str(b.args["device_id"])))

    return ApiModel


def _prepare(db: Any) -> tuple[psycopg.Connection[Any], ...]:
    su = db.connect("super")
    set_settings(su, default_quota_bytes=QUOTA, lockout_threshold=LOCKOUT_THRESHOLD)
    return db.connect("app"), su, db.connect("maint")


def _budget(request: pytest.FixtureRequest) -> tuple[int, int]:
    """(examples, steps): bounded in CI, bigger with --slow."""
    if request.config.getoption("--slow"):
        return 300, 60
    return 30, 30


def test_api_matches_the_model(db: Any, request: pytest.FixtureRequest) -> None:
    app, su, maint = _prepare(db)
    examples, steps = _budget(request)
    run_state_machine_as_test(
        make_machine(app, su, maint),
        settings=settings(max_examples=examples, stateful_step_count=steps, deadline=None),
    )


# The lines the planted bugs rewrite (asserted present before planting).
KEYSET = "(b.created_at, b.backup_id) < (_before_ts, _before_id)"
REFUND = "SET storage_used_bytes = u.storage_used_bytes - _size"


@pytest.mark.parametrize(
    ("name", "signature", "replacements", "symptom"),
    [
        ("stateful: list_backups keyset uses <= (a page repeats its boundary row)",
         "zkeb_api.list_backups(bytea, integer, timestamptz, uuid, bytea, boolean)",
         {KEYSET: "(b.created_at, b.backup_id) <= (_before_ts, _before_id)"},
         "keyset paging repeated"),
        ("stateful: purge_backup gives no bytes back",
         "zkeb_api.purge_backup(bytea, uuid)",
         {REFUND: "SET storage_used_bytes = u.storage_used_bytes"},
         "users differ from the model"),
    ],
    ids=["keyset", "refund"],
)
def test_negative_control_the_model_catches_a_planted_bug(
    db: Any, name: str, signature: str, replacements: dict[str, str], symptom: str
) -> None:
    app, su, maint = _prepare(db)
    machine = make_machine(app, su, maint, seed_backups=4)
    caught: BaseException | None = None
    with planted(su, signature, replacements):
        try:
            run_state_machine_as_test(machine, settings=settings(
                max_examples=100, stateful_step_count=30, deadline=None, derandomize=True,
                phases=[Phase.generate], database=None))
        except AssertionError as exc:
            caught = exc
    detected = caught is not None and symptom in str(caught)
    FIGURES.control(name, detected,
                    f"hypothesis stopped with: {str(caught).splitlines()[0][:160]}"
                    if caught else "the state machine passed")
    assert detected, f"the model test did not catch the planted bug ({name}): {caught!r}"


# --------------------------------------------------------------------------
# Dense sync coverage: many pushes from three devices on two entities
# --------------------------------------------------------------------------

push_op = st.tuples(
    st.integers(0, 2),                                   # device
    st.integers(0, 1),                                   # entity
    st.sampled_from(["empty", "merged", "head", "head"]),  # clock base
    st.integers(0, 63),                                  # which head
    st.dictionaries(st.integers(0, 3), st.integers(1, 2), max_size=2),  # bumps (3 = fake key)
    st.sampled_from([-1, 0, 1, 1, 1, 2]),                # lamport delta
    st.sampled_from([None, b"p1", b"p2"]),
)


def test_sync_push_sequences_match_the_model(db: Any, request: pytest.FixtureRequest) -> None:
    app, su, maint = _prepare(db)
    client = Client(app)
    examples = 200 if request.config.getoption("--slow") else 25

    @settings(max_examples=examples, deadline=None)
    @given(ops=st.lists(push_op, min_size=10, max_size=50))
    def run(ops: list[Any]) -> None:
        reset_data(su)
        uh, key = h("sync-user"), h("sync-key")
        user_id = client.register_user(uh, h("salt"), key, KDF)
        token = client.login(uh, key).session_token
        session = Session(client, token)
        user = MUser(0, uh, key, user_id, token)
        devs = []
        for k in range(3):
            dev_id = session.register_device(h(f"sync-dev-{k}"), bytes(32), "ed25519")
            dev = MDevice(dev_id, h(f"sync-dev-{k}"), "ed25519", bytes(32))
            user.devices[dev_id] = dev
            devs.append(dev)
        keys = [str(d.device_id) for d in devs] + [FAKE_CLOCK_KEY]
        for d, e, base, which, bumps, dlam, payload in ops:
            dev = devs[d]
            ehash = h(f"sync-entity-{e}")
            heads = user.sync.get(ehash, [])
            if base == "merged":
                clock = merge_clocks(*(hd.clock for hd in heads))
            elif base == "head" and heads:
                clock = dict(heads[which % len(heads)].clock)
            else:
                clock = {}
            for k, inc in bumps.items():
                clock[keys[k]] = clock.get(keys[k], 0) + inc
            lamport = max((dev.lamport or 0) + dlam, 0)
            got = outcome(session.sync_push, ehash, dev.device_id, clock, lamport, payload)
            FIGURES.add("stateful_sync_sequences", "pushes")
            check_sync_push(got, user, dev, ehash, clock, lamport, payload,
                            "stateful_sync_sequences")
        assert sync_state(su) == model_sync_state([user])
        pulled, cursor = [], 0
        while True:
            page = session.sync_pull(after_seq=cursor, page_size=3)
            pulled += page
            if len(page) < 3:
                break
            cursor = page[-1].seq
        assert [(r.seq, r.entity_hash, r.device_id, r.lamport, r.payload, r.is_sibling)
                for r in pulled] == sorted(
            (hd.seq, e, hd.device_id, hd.lamport, hd.payload, hd.is_sibling)
            for e, heads in user.sync.items() for hd in heads)
        assert invariant_violations(maint) == []

    run()

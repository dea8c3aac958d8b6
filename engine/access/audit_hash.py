"""How an audit event is hashed and a keyed chain sealed: the canonical form of an event, its
SHA-256 (or HMAC-SHA256 under the audit key), and the seal that proves from which event on a chain
is keyed. Writing the chains: audit.py; verifying them: audit_verify.py."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from models import AuditEvent

# The previous hash of a chain's first event.
GENESIS = "0" * 64
# What an event's hash covers.
HASHED = ("chain", "seq", "case_id", "instance_id", "task_id", "actor_id", "actor_agency_id",
          "occurred_at", "event_type", "detail", "prev_hash")


def event_hash(event: AuditEvent, key: bytes | None = None) -> str:
    """SHA-256 over a canonical JSON form of everything the event says; with `key`, the
    HMAC-SHA256 of that form under the key (a keyed chain's events)."""
    return hash_values({name: getattr(event, name) for name in HASHED}, key)


# The canonical form's encoder, built once: it holds no state between calls, and `json.dumps`
# with these options would build a new one for every event.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode


def hash_values(values: Mapping[str, Any], key: bytes | None = None) -> str:
    """The hash of an event given as its column values (before its row exists)."""
    canonical = _CANONICAL(
        {**{name: values[name] for name in HASHED},
         "occurred_at": values["occurred_at"].isoformat(timespec="microseconds")},
    ).encode("utf-8")
    if key is not None:
        # The one-shot HMAC: the same digest as an `hmac.new` object's, without building one.
        return hmac.digest(key, canonical, "sha256").hex()
    return hashlib.sha256(canonical).hexdigest()


def seal_mac(key: bytes, chain: str, keyed_from: int) -> str:
    """What proves a chain was sealed with `key` from event `keyed_from` on."""
    return hmac.digest(key, f"liandong-audit-seal:{chain}:{keyed_from}".encode(), "sha256").hex()


def check_seal(chain: str, keyed_from: int | None, mac: str | None, key: bytes | None) -> str | None:
    """Why appending to (or verifying) this chain under `key` is wrong, or None."""
    if mac is None:
        return None
    if key is None:
        return "the chain is keyed, but no audit key is configured (AUDIT_KEY)"
    if keyed_from is None or not hmac.compare_digest(mac, seal_mac(key, chain, keyed_from)):
        return "the chain's seal does not match the configured audit key"
    return None

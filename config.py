"""Configuration classes, read from the environment.

The instance folder holds what is local to one installation: the SQLite file and the generated
secret key. Nothing secret is committed.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_INSTANCE = Path(__file__).resolve().parent / "instance"


def instance_path() -> Path:
    """The folder for local state; LIANDONG_INSTANCE overrides the default `instance/`."""
    return Path(os.environ.get("LIANDONG_INSTANCE", DEFAULT_INSTANCE)).resolve()


def _secret_key(folder: Path) -> str:
    """Use SECRET_KEY from the environment, else a key generated once into the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    """Defaults for development: an embedded SQLite database under the instance folder."""

    def __init__(self) -> None:
        folder = instance_path()
        self.INSTANCE_PATH = str(folder)
        self.SECRET_KEY = _secret_key(folder)
        self.DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{folder / 'liandong.sqlite'}")
        # Times are stored in UTC and shown in this zone.
        self.DISPLAY_TIMEZONE = os.environ.get("LIANDONG_TIMEZONE", "Asia/Shanghai")
        self.WORKFLOWS_DIR = os.environ.get(
            "LIANDONG_WORKFLOWS", str(Path(__file__).resolve().parent / "workflows")
        )
        self.INBOX_PAGE_SIZE = int(os.environ.get("LIANDONG_INBOX_PAGE_SIZE", "20"))
        self.DB_POOL_SIZE = int(os.environ.get("LIANDONG_DB_POOL_SIZE", "5"))
        self.DB_MAX_OVERFLOW = int(os.environ.get("LIANDONG_DB_MAX_OVERFLOW", "10"))
        # How long a server process trusts what it read about an API token: a revocation,
        # deactivation or role change made by another process takes effect within this (0: never
        # cached, one query per request). engine/access/tokens.py
        self.API_TOKEN_CACHE_SECONDS = float(os.environ.get("LIANDONG_API_TOKEN_CACHE_SECONDS", "5"))
        # A login ends after this long without a request, and this long after it began
        # whatever the activity (web/auth.py); logging out ends it at once, on every process.
        self.SESSION_IDLE_MINUTES = float(os.environ.get("LIANDONG_SESSION_IDLE_MINUTES", "30"))
        self.SESSION_MAX_HOURS = float(os.environ.get("LIANDONG_SESSION_MAX_HOURS", "12"))
        # New API tokens work for this many days, and at most this many (engine/access/tokens.py).
        self.API_TOKEN_DAYS = int(os.environ.get("LIANDONG_API_TOKEN_DAYS", "365"))
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = os.environ.get("LIANDONG_HTTPS", "") == "1"
        # The key the audit chains' HMACs are made with (engine/access/audit.py): kept out of the
        # database, the same for every process (web, worker, the liandong command). Unset: chains
        # are plain SHA-256, which anyone who can write to the database can recompute.
        self.AUDIT_KEY = os.environ.get("LIANDONG_AUDIT_KEY") or None
        if self.AUDIT_KEY is not None and len(self.AUDIT_KEY) < 32:
            raise RuntimeError("LIANDONG_AUDIT_KEY must have at least 32 characters")
        # `liandong worker` appends a checkpoint of every chain's head to this file once a day.
        self.AUDIT_CHECKPOINT_FILE = os.environ.get("LIANDONG_AUDIT_CHECKPOINT_FILE", "")
        # Strict-Transport-Security max-age in seconds (0: not sent); production defaults to a year.
        self.HSTS_SECONDS = int(os.environ.get("LIANDONG_HSTS_SECONDS", "0"))
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.WTF_CSRF_TIME_LIMIT = None
        # Evidence files live here, outside the web root, under generated names.
        self.EVIDENCE_DIR = os.environ.get("LIANDONG_EVIDENCE_DIR", str(folder / "evidence"))
        self.EVIDENCE_MAX_BYTES = int(float(os.environ.get("LIANDONG_EVIDENCE_MAX_MB", "50")) * 1024 * 1024)
        # Login throttling per client address; point the storage at Redis when running several
        # web processes (e.g. redis://host:6379), since memory:// is per process.
        self.RATELIMIT_STORAGE_URI = os.environ.get("LIANDONG_RATELIMIT_STORAGE_URI", "memory://")
        self.LOGIN_RATE_LIMIT = os.environ.get("LIANDONG_LOGIN_RATE_LIMIT", "10 per minute")
        # How many reverse proxies in front of the app set X-Forwarded-For (0: none, trust nothing).
        self.TRUSTED_PROXIES = int(os.environ.get("LIANDONG_TRUSTED_PROXIES", "0"))
        # Guessing one account from one address: from this many wrong passwords in a row on,
        # that address waits before trying that account again, BACKOFF_SECONDS at first and twice
        # as long after each further failure, at most LOCKOUT_MINUTES (engine/access/logins.py).
        self.LOGIN_MAX_FAILURES = int(os.environ.get("LIANDONG_LOGIN_MAX_FAILURES", "5"))
        self.LOGIN_BACKOFF_SECONDS = float(os.environ.get("LIANDONG_LOGIN_BACKOFF_SECONDS", "60"))
        self.LOGIN_LOCKOUT_MINUTES = float(os.environ.get("LIANDONG_LOGIN_LOCKOUT_MINUTES", "15"))
        # Notifications are also mailed when this is on (off by default): SMTP server, sender,
        # STARTTLS, optional login; BASE_URL (e.g. https://liandong.example) makes mails link back.
        self.MAIL_ENABLED = os.environ.get("LIANDONG_MAIL_ENABLED", "") == "1"
        self.MAIL_HOST = os.environ.get("LIANDONG_MAIL_HOST", "localhost")
        self.MAIL_PORT = int(os.environ.get("LIANDONG_MAIL_PORT", "25"))
        self.MAIL_SENDER = os.environ.get("LIANDONG_MAIL_SENDER", "liandong@localhost")
        self.MAIL_USE_TLS = os.environ.get("LIANDONG_MAIL_USE_TLS", "") == "1"
        self.MAIL_USERNAME = os.environ.get("LIANDONG_MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("LIANDONG_MAIL_PASSWORD", "")
        self.BASE_URL = os.environ.get("LIANDONG_BASE_URL", "")
        # The agency whose handlers and heads triage clues (open a case or close the clue): an
        # agency code, SAMR unless a district decides otherwise (engine/casework/clues.py).
        self.CLUE_TRIAGE_AGENCY = os.environ.get("LIANDONG_CLUE_TRIAGE_AGENCY", "samr")
        self.TESTING = False

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


class ProductionConfig(Config):
    """Production insists on an explicit database and secret."""

    def __init__(self) -> None:
        # Checked first: several web processes need one database and one key (a key generated
        # into the instance folder could differ between processes started at once).
        # The audit key likewise: every web and worker process must append with the same one.
        for name in ("DATABASE_URL", "SECRET_KEY", "LIANDONG_AUDIT_KEY"):
            if not os.environ.get(name):
                raise RuntimeError(f"{name} must be set in production")
        super().__init__()
        self.SESSION_COOKIE_SECURE = True
        self.HSTS_SECONDS = int(os.environ.get("LIANDONG_HSTS_SECONDS", str(365 * 24 * 3600)))

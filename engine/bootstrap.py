"""Creating a database: schema, the district's agencies, process models, and demo users."""
from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from engine.access.users import create_user
from engine.runtime.deploy import deploy_paths
from engine.runtime.transactions import transaction
from models import Agency, Base, User

# The Dongchangfu district (Liaocheng) pilot: the four agencies and the task-force office.
AGENCIES = (
    ("samr", "聊城市东昌府区市场监督管理局", "东市监"),
    ("police", "聊城市公安局东昌府分局", "东公"),
    ("procuratorate", "聊城市东昌府区人民检察院", "东检"),
    ("court", "聊城市东昌府区人民法院", "东法"),
    ("office", "东昌府区商业秘密保护工作专班办公室", "东专班"),
)
# Service stations (服务站点): intake points run with SAMR; (code, name, short name).
SERVICE_STATIONS = (
    ("station_demo", "东昌府区商业秘密保护服务站（示范）", "东服站"),
)

# One demo user per agency role: (username, display name, agency, roles).
DEMO_USERS = (
    ("samr_handler", "王承办（市场监管）", "samr", ["handler"]),
    ("samr_handler2", "李承办（市场监管）", "samr", ["handler"]),
    ("samr_head", "张局长（市场监管）", "samr", ["head"]),
    ("samr_liaison", "赵联络员（市场监管）", "samr", ["liaison"]),
    ("police_liaison", "孙联络员（公安）", "police", ["liaison"]),
    ("police_handler", "周侦查员（公安）", "police", ["handler"]),
    ("police_head", "吴局长（公安）", "police", ["head"]),
    ("procuratorate_handler", "郑检察官", "procuratorate", ["handler"]),
    ("procuratorate_head", "冯检察长", "procuratorate", ["head"]),
    ("procuratorate_liaison", "陈联络员（检察院）", "procuratorate", ["liaison"]),
    ("court_handler", "褚法官", "court", ["handler"]),
    ("court_liaison", "卫联络员（法院）", "court", ["liaison"]),
    ("office_supervisor", "蒋督办（专班）", "office", ["supervisor"]),
    ("admin", "系统管理员", "office", ["admin"]),
    ("station_intake", "何登记员（服务站）", "station_demo", ["intake"]),
)


def create_schema(engine: Engine) -> None:
    """The models' tables in one call: the test template's fast path. Real databases are
    migrated (`liandong db upgrade`, models/migrations), and tests/models/test_migrations.py
    proves the two give the same schema."""
    Base.metadata.create_all(engine)


def ensure_agencies(session: Session) -> None:
    """Create the district's agencies and service stations that do not exist yet (idempotent)."""
    with transaction(session):
        existing = set(session.scalars(select(Agency.code)))
        for code, name, short in AGENCIES:
            if code not in existing:
                session.add(Agency(code=code, name=name, short_name=short))
        for code, name, short in SERVICE_STATIONS:
            if code not in existing:
                session.add(Agency(code=code, name=name, short_name=short, kind="service_station"))


def deploy_folder(session: Session, folder: Path, actor: User | None = None):
    """Deploy every BPMN file of a folder (unchanged ones are left as they are)."""
    return deploy_paths(session, sorted(Path(folder).glob("*.bpmn")), actor)


def create_demo_users(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo users that are missing, each with a fresh random password.

    Returns (username, password, display name) for the users created now; existing users keep
    their passwords.
    """
    created = []
    existing = set(session.scalars(select(User.username)))
    for username, display, agency, roles in DEMO_USERS:
        if username in existing:
            continue
        password = secrets.token_urlsafe(9)
        create_user(session, username, password, display, agency, roles)
        created.append((username, password, display))
    return created

"""Plain functions that create rows for tests (call them inside an application context)."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from forum.accounts.models import Organisation, User
from forum.chat.models import ChatMessage
from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.groups.models import Group, Membership, Role
from forum.materials import services as materials
from forum.materials.models import Material
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.workshops import services as workshops
from forum.workshops.models import Workshop
from tests.materials import samples

PASSWORD = "Lipowa-aleja-pachnie-2026"
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_sequence = itertools.count(1)


def make_organisation(**overrides) -> Organisation:
    n = next(_sequence)
    organisation = Organisation(**{"name": f"Gmina Testowa {n}", "kind": "rural_commune",
                                   "region": "lubelskie", **overrides})
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_user(**overrides) -> User:
    n = next(_sequence)
    values = {"email": f"user{n}@example.org", "name": f"Osoba Testowa {n}",
              "password_hash": _PASSWORD_HASH, **overrides}
    values["email"] = values["email"].lower()
    user = User(**values)
    db.session.add(user)
    db.session.commit()
    return user


def make_group(**overrides) -> Group:
    n = next(_sequence)
    group = Group(**{"name": f"Grupa {n}", "slug": f"grupa-{n}", "kind": "cities", **overrides})
    db.session.add(group)
    db.session.commit()
    return group


def add_member(user: User, group: Group, role: str = Role.MEMBER) -> Membership:
    membership = Membership(user=user, group=group, role=role)
    db.session.add(membership)
    db.session.commit()
    return membership


PERSONAS = ("admin", "moderator", "member", "observer", "outsider", "inactive")


def make_personas() -> SimpleNamespace:
    """admin, moderator, member, observer of g1; outsider (member of g2 only); inactive."""
    g1 = make_group(name="Miasta testowe", slug="miasta-testowe")
    g2 = make_group(name="Powiaty testowe", slug="powiaty-testowe", kind="counties")
    organisation = make_organisation(name="Miasto Lublin")
    people = {
        "admin": make_user(email="admin@example.org", name="Ada Admin", is_admin=True),
        "moderator": make_user(email="moderator@example.org", name="Marta Moderator",
                               organisation=organisation),
        "member": make_user(email="member@example.org", name="Jan Kowalski",
                            organisation=organisation, position="naczelnik"),
        "observer": make_user(email="observer@example.org", name="Olga Obserwator"),
        "outsider": make_user(email="outsider@example.org", name="Olek Obcy"),
        "inactive": make_user(email="inactive@example.org", name="Irena Nieaktywna",
                              active=False),
    }
    add_member(people["moderator"], g1, Role.MODERATOR)
    add_member(people["member"], g1, Role.MEMBER)
    add_member(people["observer"], g1, Role.OBSERVER)
    add_member(people["outsider"], g2, Role.MEMBER)
    add_member(people["inactive"], g1, Role.MEMBER)
    return SimpleNamespace(
        g1=SimpleNamespace(id=g1.id, slug=g1.slug, name=g1.name),
        g2=SimpleNamespace(id=g2.id, slug=g2.slug, name=g2.name),
        organisation_id=organisation.id,
        **{key: SimpleNamespace(id=u.id, email=u.email, name=u.name, key=key)
           for key, u in people.items()},
    )


def people_of(personas: SimpleNamespace) -> dict:
    """The personas as `User` rows by key, and their groups as `Group` rows under "g1", "g2"."""
    return {key: user(getattr(personas, key).id) for key in PERSONAS} | {
        "g1": group(personas.g1.id), "g2": group(personas.g2.id)}


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def group(group_id: int) -> Group:
    return db.session.get(Group, group_id)


# --- content, made through the real services (so counters, search text and audit are real) --


def make_thread(author: User, group: Group, title: str = "Dowozy uczniów",
                body: str = "Jak organizujecie dowozy?", **fields) -> Thread:
    """A thread and its first post; `fields`: workshop_number, material_ids, client_token."""
    return discussions.start_thread(author, group, title=title, body=body, **fields)


def make_post(author: User, thread: Thread, body: str = "Odpowiedź", **fields) -> Post:
    """A reply in `thread`; `fields`: reply_to_id, client_token."""
    return discussions.reply(author, thread, body, **fields)


def make_workshop(actor: User | None, group: Group, number: int = 1, *,
                  days_from_today: int = 0, theme: str | None = None, **fields) -> Workshop:
    """A session ("session" in the UI) whose day 1 is `days_from_today` from the group's today;
    `fields`: the rest of `WorkshopInput` (place, keep_chat, day2, ...)."""
    day1 = workshops.group_today(group) + timedelta(days=days_from_today)
    return workshops.create_workshop(actor, group, workshops.WorkshopInput(
        number=number, theme=f"Sesja {number}" if theme is None else theme, day1=day1,
        **fields))


def upload(data: bytes = samples.PDF, name: str = "raport.pdf") -> materials.Upload:
    """A file as it arrives from a form."""
    return materials.Upload(io.BytesIO(data), name)


def make_material(actor: User | None, group: Group, data: bytes | None = samples.PDF,
                  name: str = "raport.pdf", *, title: str = "Raport", kind: str = "minutes",
                  practice: materials.GoodPracticeInput | None = None, **fields) -> Material:
    """A shared material (a file, or with `data=None` a good-practice write-up);
    `fields`: the rest of `MaterialInput` (workshop_number, language, description)."""
    return materials.share_material(
        actor, group, materials.MaterialInput(title=title, kind=kind, **fields),
        None if data is None else upload(data, name), practice)


def add_messages(group_id: int, author_id: int, count: int, prefix: str = "m") -> list[int]:
    """Chat history written straight to the database (no rate limit); returns the ids."""
    messages = [ChatMessage(group_id=group_id, author_id=author_id, body=f"{prefix}{n}",
                            body_html=render_markdown(f"{prefix}{n}"),
                            client_id=f"{prefix}-{n}", created_at=utcnow())
                for n in range(count)]
    for message in messages:
        db.session.add(message)
        db.session.flush()
    db.session.commit()
    return [m.id for m in messages]

"""Plain functions that create rows for tests (call them inside an application context)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from forum.accounts.models import Organisation, User
from forum.extensions import db
from forum.groups.models import Group, Membership, Role

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


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def group(group_id: int) -> Group:
    return db.session.get(Group, group_id)

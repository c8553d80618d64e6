from datetime import timedelta

from forum.groups.models import Role
from forum.polls import services
from forum.polls.models import Position
from forum.timeutil import utcnow
from tests import factories


def start(people, group, kind="single", *, who="member", thread=None, options="Alfa\nBeta\nGama",
          hours=48, **fields):
    data = services.PollInput(kind=kind, question=fields.pop("question", "Which one?"),
                              options=options, closes_at=utcnow() + timedelta(hours=hours),
                              **fields)
    return services.start_poll(people[who], group, data, thread=thread)


def option(poll, label_or_code) -> int:
    return next(o.id for o in poll.options if label_or_code in (o.label, o.code))


def position(poll, value: Position) -> dict[int, int]:
    return {option(poll, value): 1}


def second_organisation(group, name="Gmina Wola"):
    """Another organisation with a member in the group: (organisation, its member)."""
    organisation = factories.make_organisation(name=name)
    member = factories.make_user(email=f"{name.split()[-1].lower()}@example.org",
                                 name=f"Członek {name}", organisation=organisation)
    factories.add_member(member, group, Role.MEMBER)
    return organisation, member




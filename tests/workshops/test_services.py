from datetime import UTC, date, datetime, timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.workshops import services
from forum.workshops.models import WorkshopState
from tests import factories


def _input(**overrides) -> services.WorkshopInput:
    values = {"number": 1, "theme": "Edukacja włączająca", "day1": date(2027, 1, 11)}
    values.update(overrides)
    return services.WorkshopInput(**values)


@pytest.fixture
def moderator_and_group(ctx, personas):
    return factories.user(personas.moderator.id), factories.group(personas.g1.id)


def test_day_two_defaults_to_the_day_after_day_one(moderator_and_group):
    moderator, group = moderator_and_group
    workshop = services.create_workshop(moderator, group, _input(
        agenda_day1="- wizyta w szkole\n- **dyskusja**"))
    assert workshop.day2 == date(2027, 1, 12)
    assert "<strong>dyskusja</strong>" in workshop.agenda_day1_html


def test_session_rules_are_checked(moderator_and_group):
    moderator, group = moderator_and_group
    services.create_workshop(moderator, group, _input())
    with pytest.raises(InvalidInput) as error:
        services.create_workshop(moderator, group, _input(
            number=1, theme=" ", day2=date(2027, 1, 10), host_organisation_id=999999,
            place="x" * 201))
    assert set(error.value.errors) == {"number", "theme", "day2", "host_organisation_id",
                                       "place"}
    with pytest.raises(InvalidInput) as error:
        services.create_workshop(moderator, group, _input(number=100, day1=None))
    assert set(error.value.errors) == {"number", "day1"}
    with pytest.raises(InvalidInput, match="within"):
        services.create_workshop(moderator, group, _input(number=2, day2=date(2027, 2, 1)))


def test_only_moderators_manage_sessions(ctx, personas):
    member, group = factories.user(personas.member.id), factories.group(personas.g1.id)
    with pytest.raises(PermissionDenied):
        services.create_workshop(member, group, _input())


def test_state_follows_the_groups_calendar(moderator_and_group):
    moderator, group = moderator_and_group
    workshop = services.create_workshop(moderator, group, _input(day1=date(2027, 1, 11)))
    # 23:30 UTC on 10 January is already 11 January in Warsaw: the session is live there.
    late_evening = datetime(2027, 1, 10, 23, 30, tzinfo=UTC)
    assert workshop.state_on(services.group_today(group, late_evening)) == WorkshopState.LIVE
    assert workshop.state_on(date(2027, 1, 10)) == WorkshopState.UPCOMING
    assert workshop.state_on(date(2027, 1, 12)) == WorkshopState.LIVE
    assert workshop.state_on(date(2027, 1, 13)) == WorkshopState.CONCLUDED


def test_timeline_marks_live_and_next_with_a_countdown(moderator_and_group):
    moderator, group = moderator_and_group
    today = services.group_today(group)
    services.create_workshop(moderator, group, _input(number=1, day1=today - timedelta(30)))
    services.create_workshop(moderator, group, _input(number=2, day1=today))
    services.create_workshop(moderator, group, _input(number=3, day1=today + timedelta(40)))
    services.create_workshop(moderator, group, _input(number=4, day1=today + timedelta(12)))
    timeline = services.timeline(moderator, group)
    assert [e.state for e in timeline.entries] == ["concluded", "live", "upcoming", "upcoming"]
    assert timeline.live.workshop.number == 2
    assert (timeline.next.workshop.number, timeline.next.days_until) == (4, 12)


def test_cancelled_sessions_are_neither_live_nor_next(moderator_and_group):
    moderator, group = moderator_and_group
    today = services.group_today(group)
    workshop = services.create_workshop(moderator, group, _input(day1=today))
    services.set_cancelled(moderator, workshop, True)
    timeline = services.timeline(moderator, group)
    assert timeline.live is None and timeline.entries[0].state == "cancelled"
    services.set_cancelled(moderator, workshop, False)
    assert services.timeline(moderator, group).live.workshop.id == workshop.id


def test_renumbering_keeps_the_calendar_identity(moderator_and_group):
    moderator, group = moderator_and_group
    workshop = services.create_workshop(moderator, group, _input(number=3))
    uid = workshop.uid
    services.update_workshop(moderator, workshop, _input(number=5, theme="Zarządzanie oświatą"))
    assert (workshop.number, workshop.uid, workshop.sequence) == (5, uid, 1)
    with pytest.raises(NotFound):
        services.get_workshop_for(moderator, group, 3)
    assert services.get_workshop_for(moderator, group, 5).id == workshop.id
    entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "workshop.update" and entry.details == {"renumbered_from": 3}


def test_outsiders_cannot_load_a_session(moderator_and_group, personas):
    moderator, group = moderator_and_group
    services.create_workshop(moderator, group, _input())
    with pytest.raises(NotFound):
        services.get_workshop_for(factories.user(personas.outsider.id), group, 1)


def test_calendar_tokens_identify_their_owner_until_reset(ctx, personas):
    member = factories.user(personas.member.id)
    token = services.calendar_token(member)
    assert services.user_for_calendar_token(token).id == member.id
    signature = token.split(".")[1]
    for forged in ("", "abc", f"{member.id}.0000", f"{personas.moderator.id}.{signature}"):
        with pytest.raises(NotFound):
            services.user_for_calendar_token(forged)
    new = services.reset_calendar_token(member)
    assert new != token
    with pytest.raises(NotFound):
        services.user_for_calendar_token(token)


def test_current_or_recent_session(moderator_and_group):
    moderator, group = moderator_and_group
    today = services.group_today(group)
    assert services.current_or_recent_workshop(group) is None
    services.create_workshop(moderator, group, _input(number=1, day1=today - timedelta(60)))
    recent = services.create_workshop(moderator, group, _input(number=2,
                                                               day1=today - timedelta(20)))
    services.create_workshop(moderator, group, _input(number=3, day1=today + timedelta(20)))
    assert services.current_or_recent_workshop(group).id == recent.id

from datetime import timedelta

from forum.discussions import services as discussions
from forum.extensions import db
from forum.mailings import digest
from forum.notifications.outbox import deliver_all
from forum.polls import services
from forum.workshops.models import Workshop
from forum.workshops.services import group_today
from tests.notifications.conftest import parts
from tests.polls.helpers import option, start


def test_the_digest_lists_open_polls_and_whether_they_wait_for_the_reader(people, group,
                                                                         smtp, login_as):
    today = group_today(group)
    db.session.add(Workshop(group_id=group.id, number=1, theme="Edukacja",
                            day1=today - timedelta(days=10), day2=today - timedelta(days=9)))
    db.session.commit()
    poll = start(people, group, question="Gdzie następna sesja?")
    closed = start(people, group, question="Zamknięte pytanie")
    services.close_poll(people["moderator"], group, closed)
    services.cast_ballot(people["member"], group, poll, {option(poll, "Alfa"): 1})
    discussions.start_thread(people["moderator"], group, title="Nowy wątek", body="Treść")
    since = digest.build_since(people["member"], group, 1)
    assert since.open_polls == [poll]
    assert not since.poll_waiting(poll, people["member"])
    assert since.poll_waiting(poll, people["moderator"])
    digest.queue_digests([group])
    deliver_all()
    messages = {m["To"]: parts(m)[0] for m in smtp.wait_for(3)}
    moderator_text = messages[people["moderator"].email]
    assert "Gdzie następna sesja?" in moderator_text and "waiting for your vote" in moderator_text
    assert "Zamknięte pytanie" not in moderator_text
    member_text = messages[people["member"].email]
    assert "Gdzie następna sesja?" in member_text and "waiting for your vote" not in member_text

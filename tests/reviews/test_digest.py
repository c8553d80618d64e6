from datetime import timedelta

from forum.discussions import services as discussions
from forum.extensions import db
from forum.mailings import digest
from forum.notifications.outbox import deliver_all
from forum.reviews import services
from forum.workshops.models import Workshop
from forum.workshops.services import group_today
from tests.notifications.conftest import parts
from tests.reviews.helpers import open_review, second_organisation


def test_the_digest_lists_open_reviews_with_the_organisations_own_status(people, group, smtp):
    today = group_today(group)
    db.session.add(Workshop(group_id=group.id, number=1, theme="Edukacja",
                            day1=today - timedelta(days=10), day2=today - timedelta(days=9)))
    db.session.commit()
    organisation, other = second_organisation(group)
    review = open_review(people, group, days=6)
    services.save_answer(people["member"], group, review, [services.OpinionInput(
        review.sections[0].id, "agree")], revision=0, submit=False)
    discussions.start_thread(people["moderator"], group, title="Nowy wątek", body="Treść")
    since = digest.build_since(people["member"], group, 1)
    assert since.section_reviews == [review]
    assert since.review_status(review, people["member"].organisation_id) == "draft"
    assert since.review_status(review, organisation.id) == "none"
    assert since.review_status(review, None) == "not_asked"
    digest.queue_digests([group])
    deliver_all()
    messages = {m["To"]: parts(m)[0] for m in smtp.wait_for(2)}
    assert "Program szkoleń" in messages[people["member"].email]
    assert "your organisation's answer is a draft" in messages[people["member"].email]
    assert "your organisation has not answered yet" in messages[other.email]

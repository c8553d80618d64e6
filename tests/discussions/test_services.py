import pytest

from forum.audit.models import AuditEntry
from forum.discussions import services
from forum.discussions.models import Post
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.notifications import inbox, mentions
from forum.notifications.models import Notification
from tests import factories


def _thread(people, group, who="member", **fields):
    return factories.make_thread(people[who], group, **fields)


def test_start_a_thread_with_its_first_post(people, group):
    thread = _thread(people, group, body="Pierwszy **wpis**")
    [post] = services.read_thread(people["member"], thread, 1).posts
    assert (post.number, post.author_id) == (1, people["member"].id)
    assert "<strong>wpis</strong>" in post.body_html
    assert (thread.last_number, thread.reply_count) == (1, 0)
    assert "dowozy uczniow" in post.search_text


def test_titles_and_posts_must_have_content(people, group):
    with pytest.raises(InvalidInput) as error:
        services.start_thread(people["member"], group, title="   ", body=" \n ")
    assert set(error.value.errors) == {"title", "body"}
    with pytest.raises(InvalidInput) as error:
        services.start_thread(people["member"], group, title="x" * 201, body="x" * 50_001)
    assert "200" in str(error.value.errors["title"])
    assert "50000" in str(error.value.errors["body"])


def test_a_huge_post_is_refused_with_the_limit(people, group):
    thread = _thread(people, group)
    with pytest.raises(InvalidInput) as error:
        services.reply(people["member"], thread, "a" * 1_000_000)
    assert "50000 characters" in str(error.value.errors["body"])


def test_observers_and_outsiders_cannot_post(people, group):
    for who in ("observer", "outsider"):
        with pytest.raises(PermissionDenied):
            _thread(people, group, who=who)
    thread = _thread(people, group)
    with pytest.raises(PermissionDenied):
        services.reply(people["observer"], thread, "opinia")


def test_outsiders_cannot_load_threads_or_posts(people, group):
    thread = _thread(people, group)
    with pytest.raises(NotFound):
        services.get_thread_for(people["outsider"], group, thread.id)
    with pytest.raises(NotFound):
        services.get_post_for(people["outsider"], group, services.post_id_at(thread, 1))
    with pytest.raises(NotFound):
        services.list_threads(people["outsider"], group)


def test_thread_links_to_a_session_and_materials_of_its_group_only(people, group):
    factories.make_workshop(people["moderator"], group, 2, theme="Edukacja")
    material = factories.make_material(people["member"], group, name="r.pdf", title="Raport")
    other = factories.make_material(people["outsider"], people["g2"], name="o.pdf",
                                    title="Obcy")
    with pytest.raises(InvalidInput) as error:
        _thread(people, group, workshop_number=9, material_ids=[other.id])
    assert set(error.value.errors) == {"workshop_number", "material_ids"}
    thread = _thread(people, group, workshop_number=2, material_ids=[material.id])
    assert thread.workshop.number == 2 and [m.id for m in thread.materials] == [material.id]
    page = services.list_threads(people["member"], group, material=material)
    assert [i.thread.id for i in page.items] == [thread.id]


def test_replies_number_the_posts_and_keep_counters(people, group):
    thread = _thread(people, group)
    first = services.reply(people["moderator"], thread, "Odpowiedź")
    second = services.reply(people["member"], thread, "Dziękuję", reply_to_id=first.id)
    assert (first.number, second.number) == (2, 3)
    assert second.reply_to.id == first.id
    assert (thread.last_number, thread.reply_count, thread.last_author_id) == (
        3, 2, people["member"].id)


def test_a_reply_to_a_post_of_another_thread_is_refused(people, group):
    one, two = _thread(people, group), _thread(people, group, title="Inny")
    foreign = services.post_id_at(two, 1)
    with pytest.raises(InvalidInput) as error:
        services.reply(people["member"], one, "x", reply_to_id=foreign)
    assert "reply_to_id" in error.value.errors


def test_the_same_submission_creates_one_post(people, group):
    thread = _thread(people, group, client_token="tok-1")
    again = _thread(people, group, client_token="tok-1")
    assert again.id == thread.id
    post = services.reply(people["member"], thread, "raz", client_token="tok-2")
    assert services.reply(people["member"], thread, "raz", client_token="tok-2").id == post.id
    assert thread.last_number == 2


def test_locked_threads_take_no_replies_except_from_moderators(people, group):
    thread = _thread(people, group)
    with pytest.raises(PermissionDenied):
        services.set_locked(people["member"], thread, True)
    services.set_locked(people["moderator"], thread, True)
    with pytest.raises(InvalidInput, match="locked"):
        services.reply(people["member"], thread, "jeszcze jedno")
    assert services.reply(people["moderator"], thread, "Podsumowanie").number == 2


def test_edit_keeps_history_for_author_and_moderators(people, group):
    thread = _thread(people, group, body="wersja 1")
    post = services.read_thread(people["member"], thread, 1).posts[0]
    with pytest.raises(PermissionDenied):
        services.edit_post(people["moderator"], post, "cudza zmiana")
    services.edit_post(people["member"], post, "wersja 2")
    assert post.edited_at is not None and post.body == "wersja 2"
    assert [r.body for r in services.post_history(people["moderator"], post)] == ["wersja 1"]
    assert services.post_history(people["member"], post)
    with pytest.raises(NotFound):
        services.post_history(people["observer"], post)


def test_deleted_posts_leave_a_placeholder_and_keep_reply_chains(people, group):
    thread = _thread(people, group)
    answer = services.reply(people["moderator"], thread, "Odpowiedź")
    follow = services.reply(people["member"], thread, "Dzięki", reply_to_id=answer.id)
    with pytest.raises(PermissionDenied):
        services.delete_post(people["member"], answer)
    services.delete_post(people["moderator"], answer)
    assert services.visible_body(people["member"], answer) is None
    assert follow.reply_to.id == answer.id
    assert thread.reply_count == 1


def test_hidden_posts_show_their_reason_to_the_author_only(people, group):
    thread = _thread(people, group)
    post = services.reply(people["member"], thread, "coś niestosownego")
    with pytest.raises(InvalidInput):
        services.hide_post(people["moderator"], post, "  ")
    services.hide_post(people["moderator"], post, "Dane osobowe")
    assert services.visible_body(people["member"], post) is not None  # the author
    assert services.visible_body(people["observer"], post) is None
    entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "post.hide" and entry.details["reason"] == "Dane osobowe"
    services.unhide_post(people["moderator"], post)
    assert services.visible_body(people["observer"], post) is not None


def test_reactions_toggle(people, group):
    thread = _thread(people, group)
    post = services.read_thread(people["member"], thread, 1).posts[0]
    assert services.toggle_reaction(people["moderator"], post, "useful") is True
    view = services.read_thread(people["moderator"], thread, 1)
    assert view.reactions[post.id] == {"useful": 1}
    assert (post.id, "useful") in view.my_reactions
    assert services.toggle_reaction(people["moderator"], post, "useful") is False
    with pytest.raises(InvalidInput):
        services.toggle_reaction(people["moderator"], post, "angry")
    with pytest.raises(PermissionDenied):
        services.toggle_reaction(people["observer"], post, "useful")


def test_unread_tracking(people, group):
    thread = _thread(people, group)
    moderator = people["moderator"]
    [item] = services.list_threads(moderator, group).items
    assert item.last_read is None and item.unread == 1
    services.read_thread(moderator, thread, 1)
    for n in range(3):
        services.reply(people["member"], thread, f"wpis {n}")
    [item] = services.list_threads(moderator, group, unread_only=True).items
    assert item.unread == 3
    assert services.first_unread_number(moderator, thread) == 2
    services.read_thread(moderator, thread, 1)
    assert services.list_threads(moderator, group, unread_only=True).items == []


def test_thread_pages_are_ranges_of_numbers(people, group):
    thread = _thread(people, group)
    for n in range(2, 66):
        services.reply(people["member"], thread, f"wpis {n}")
    view = services.read_thread(people["member"], thread, 3)
    assert view.page_count == 3
    assert [p.number for p in view.posts] == list(range(61, 66))
    assert services.page_of(31) == 2


def test_list_is_newest_activity_first_with_pins_on_top(people, group):
    old, new = _thread(people, group, title="Stary"), _thread(people, group, title="Nowy")
    services.reply(people["member"], old, "ożywienie")
    titles = [i.thread.title for i in services.list_threads(people["member"], group).items]
    assert titles == ["Stary", "Nowy"]
    services.set_pinned(people["moderator"], new, True)
    page = services.list_threads(people["member"], group)
    assert [i.thread.title for i in page.pinned] == ["Nowy"]
    assert [i.thread.title for i in page.items] == ["Stary"]


def test_thread_list_keyset_pages(people, group):
    for n in range(7):
        _thread(people, group, title=f"T{n}")
    seen, cursor = [], None
    while True:
        page = services.list_threads(people["member"], group, cursor=cursor, limit=3)
        seen += [i.thread.title for i in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"T{n}" for n in reversed(range(7))]


def test_move_thread_to_another_session(people, group):
    for number in (1, 2):
        factories.make_workshop(people["moderator"], group, number,
                                days_from_today=number * 60, theme=f"S{number}")
    thread = _thread(people, group, workshop_number=1)
    services.move_to_workshop(people["moderator"], thread, 2)
    assert thread.workshop.number == 2
    with pytest.raises(InvalidInput):
        services.move_to_workshop(people["moderator"], thread, 7)
    entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "thread.move" and entry.details == {"from": 1, "to": 2}


def test_mentions_notify_members_only(people, group):
    thread = _thread(people, group)
    services.reply(people["member"], thread,
                   "Pytanie do @marta.moderator i @olek.obcy oraz `@olga.obserwator`")
    notes = db.session.scalars(db.select(Notification)).all()
    assert {(n.user_id, n.kind) for n in notes} == {(people["moderator"].id, "mention")}


def test_mentions_of_members_link_to_their_row_in_the_member_list(people, group):
    thread = _thread(people, group)
    post = services.reply(people["member"], thread, "Pytanie do @marta.moderator i @olek.obcy")
    link = (f'<a href="/g/{group.slug}/members#member-{people["moderator"].id}" '
            'class="mention" rel="nofollow noopener">@marta.moderator</a>')
    assert link in post.body_html and "@olek.obcy" in post.body_html
    assert post.body_html.count("<a ") == 1
    edited = services.edit_post(people["member"], post, "Już nie do @marta.moderator!")
    assert link in edited.body_html


def test_replies_notify_the_person_replied_to_and_watchers(people, group):
    thread = _thread(people, group)  # the member watches it by starting it
    services.reply(people["moderator"], thread, "Odpowiedź")
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(db.select(Notification))}
    assert kinds == {(people["member"].id, "reply")}
    assert inbox.unread_notification_count(people["member"]) == 1
    inbox.set_thread_watch(people["member"], thread, "muted")
    services.reply(people["moderator"], thread, "Jeszcze")
    assert inbox.unread_notification_count(people["member"]) == 1
    services.reply(people["moderator"], thread, "A to do @jan.kowalski")  # a mention gets through
    assert inbox.unread_notification_count(people["member"]) == 2
    inbox.mark_notifications_read(people["member"])
    assert inbox.unread_notification_count(people["member"]) == 0


def test_watching_a_group_tells_about_new_threads(people, group):
    inbox.set_group_watch(people["observer"], group, "watching")
    _thread(people, group)
    [note] = db.session.scalars(db.select(Notification)).all()
    assert (note.user_id, note.kind) == (people["observer"].id, "new_thread")
    with pytest.raises(NotFound):
        inbox.set_group_watch(people["outsider"], group, "watching")


def test_notifications_of_a_group_left_are_not_shown(people, group, personas):
    from forum.groups import services as groups

    thread = _thread(people, group, who="moderator")
    services.reply(people["member"], thread, "Pytanie")
    groups.remove_member(people["admin"], group, people["moderator"])
    moderator = factories.user(personas.moderator.id)
    items, _ = inbox.list_notifications(moderator)
    assert items == []


def test_handles_are_ascii_names(ctx):
    assert mentions.handle_for("Łucja Żółkiewska-Nowak") == "lucja.zolkiewska.nowak"


def test_posts_count_in_the_database_match(people, group):
    thread = _thread(people, group)
    services.reply(people["member"], thread, "a")
    assert db.session.scalar(db.select(db.func.count(Post.id))) == thread.last_number == 2

"""One search across posts, thread titles, chat messages, materials and good practices: each
kind, who finds what, filters, counts, word forms (Polish inflection, diacritics)."""

import pytest

from forum.chat import services as chat
from forum.chat.models import ChatMessage, MessageKind
from forum.discussions.services import hide_post, reply
from forum.errors import NotFound
from forum.extensions import db
from forum.materials import services as materials
from forum.search.services import CHAT, MATERIAL, POST, PRACTICE, search
from forum.text import render_markdown
from forum.timeutil import utcnow
from tests import factories

_n = iter(range(10**6))


def _message(people, body, *, group="g1", author="member", workshop=None, **fields):
    message = ChatMessage(group_id=people[group].id, author_id=people[author].id, body=body,
                          body_html=render_markdown(body), client_id=f"c-{next(_n)}",
                          workshop_id=workshop.id if workshop else None, created_at=utcnow(),
                          **fields)
    db.session.add(message)
    db.session.commit()
    return message


def _practice(people, title, problem, actions="Zrobiliśmy to.", **fields):
    return factories.make_material(
        people["member"], people["g1"], None, title=title, kind="good_practice",
        practice=materials.GoodPracticeInput(problem=problem, actions=actions), **fields)


def _found(results) -> list[tuple[str, int]]:
    return [(hit.kind, hit.id) for hit in results.hits]


# --- each kind ---------------------------------------------------------------------------------


def test_every_kind_is_found_and_counted(people):
    thread = factories.make_thread(people["member"], people["g1"], "Kanalizacja deszczowa",
                                   "Pytanie o rury.")
    message = _message(people, "Kanalizacja zalała piwnice po burzy.")
    file = factories.make_material(people["member"], people["g1"], title="Plan kanalizacji",
                                   description="Rury i studzienki.")
    practice = _practice(people, "Retencja", "Kanalizacja nie nadążała z deszczówką.")
    results = search(people["member"], "kanalizacja")
    assert {(kind, item_id) for kind, item_id in _found(results) if kind != POST} == {
        (CHAT, message.id), (MATERIAL, file.id), (PRACTICE, practice.id)}
    assert results.total == 4
    assert results.counts == {POST: 1, CHAT: 1, MATERIAL: 1, PRACTICE: 1}
    [post_hit] = [hit for hit in results.hits if hit.kind == POST]
    assert post_hit.thread_id == thread.id and post_hit.post_number == 1
    assert "<mark>Kanalizacja</mark>" in post_hit.title
    [file_hit] = [hit for hit in results.hits if hit.kind == MATERIAL]
    assert "<mark>kanalizacji</mark>" in file_hit.title
    [chat_hit] = [hit for hit in results.hits if hit.kind == CHAT]
    assert "<mark>Kanalizacja</mark> zalała" in chat_hit.snippet
    assert chat_hit.group_slug == people["g1"].slug and chat_hit.author_name == "Jan Kowalski"


def test_a_kind_filter_keeps_the_counts_of_the_others(people):
    factories.make_thread(people["member"], people["g1"], "Oświetlenie", "Latarnie LED.")
    _message(people, "Latarnie gasną o północy.")
    results = search(people["member"], "latarnie", kind=CHAT)
    assert [hit.kind for hit in results.hits] == [CHAT]
    assert results.total == 1 and results.counts[POST] == 1 and results.counts[CHAT] == 1


def test_materials_are_found_by_description_and_good_practices_by_their_write_up(people):
    described = factories.make_material(people["member"], people["g1"], title="Załącznik 3",
                                        description="Harmonogram odbioru odpadów.")
    practice = _practice(people, "Punkt selektywnej zbiórki", "Mieszkańcy nie segregowali.",
                         actions="Postawiliśmy wiaty śmietnikowe.")
    assert _found(search(people["member"], "odpadow")) == [(MATERIAL, described.id)]
    assert _found(search(people["member"], "wiaty")) == [(PRACTICE, practice.id)]
    assert _found(search(people["member"], "segregowali", kind=MATERIAL)) == []


def test_an_edited_good_practice_is_found_by_its_new_text(people):
    practice = _practice(people, "Budżet", "Stary problem z kasą.")
    materials.update_good_practice(
        people["member"], practice,
        materials.MaterialInput(title="Budżet", kind="good_practice"),
        materials.GoodPracticeInput(problem="Nowy problem z wodą.", actions="Nic."))
    assert search(people["member"], "kasa").hits == []
    assert _found(search(people["member"], "woda")) == [(PRACTICE, practice.id)]


# --- who finds what ----------------------------------------------------------------------------


def test_members_and_observers_find_their_groups_content_and_outsiders_nothing(people):
    factories.make_thread(people["member"], people["g1"], "Remont ratusza", "Dach przecieka.")
    _message(people, "Remont ratusza opóźniony.")
    factories.make_material(people["member"], people["g1"], title="Remont ratusza: kosztorys")
    for actor in ("member", "observer", "moderator", "admin"):
        assert search(people[actor], "remont ratusza").total == 3, actor
    assert search(people["outsider"], "remont ratusza").total == 0
    assert search(people["outsider"], "remont ratusza").hits == []
    with pytest.raises(NotFound):
        search(people["outsider"], "remont", group=people["g1"])


def test_hidden_removed_and_deleted_content_is_never_found(people):
    thread = factories.make_thread(people["member"], people["g1"], "Sprawy różne", "Nic.")
    hidden = reply(people["member"], thread, "Wodociągi do ukrycia.")
    hide_post(people["moderator"], hidden, "Nie na temat")
    removed = _message(people, "Wodociągi w czacie do usunięcia.")
    chat.remove_message(people["moderator"], people["g1"], removed.id)
    _message(people, "Wodociągi: ciąg dalszy w wątku.", kind=MessageKind.THREAD_NOTICE)
    deleted = factories.make_material(people["member"], people["g1"], title="Wodociągi")
    materials.delete_material(people["moderator"], deleted)
    kept = _message(people, "Wodociągi zostają.")
    for actor in ("member", "observer", "moderator", "admin"):
        assert _found(search(people[actor], "wodociagi")) == [(CHAT, kept.id)], actor


def test_an_edited_chat_message_is_found_by_its_new_text(people):
    message = _message(people, "Stara treść o chodnikach.")
    message.body = "Nowa treść o rowerach."
    db.session.commit()
    assert search(people["member"], "chodnikach").hits == []
    assert _found(search(people["member"], "rowerach")) == [(CHAT, message.id)]


def test_the_authors_own_edit_and_delete_reach_the_search(people):
    """Edit and delete of one's own chat message (within its window) through the chat's
    services: the new text is found, the old one and a deleted message are not."""
    edited = _message(people, "Pierwsza wersja o latarniach.")
    chat.edit_own_message(people["member"], people["g1"], edited.id, "Poprawione: o ławkach.")
    deleted = _message(people, "Ogłoszenie o latarniach do skasowania.")
    chat.delete_own_message(people["member"], people["g1"], deleted.id)
    assert search(people["member"], "latarniach").hits == []
    assert _found(search(people["member"], "ławkach")) == [(CHAT, edited.id)]


# --- filters -------------------------------------------------------------------------------------


def test_filters_by_group_session_and_author(people):
    first = factories.make_workshop(people["moderator"], people["g1"], 1, theme="Woda")
    second = factories.make_workshop(people["moderator"], people["g1"], 2, theme="Ścieki",
                                     days_from_today=30)
    in_first = factories.make_thread(people["member"], people["g1"], "Taryfy za wodę",
                                     "Taryfy rosną.", workshop_number=1)
    message = _message(people, "Taryfy omówimy później.", author="moderator", workshop=second)
    file = factories.make_material(people["moderator"], people["g1"], title="Taryfy 2027",
                                   workshop_number=2)
    g1 = people["g1"]
    assert search(people["member"], "taryfy", group=g1).total == 3
    assert {k for k, _ in _found(search(people["member"], "taryfy", group=g1,
                                        workshop_id=second.id))} == {CHAT, MATERIAL}
    assert [h.thread_id for h in search(people["member"], "taryfy", group=g1,
                                        workshop_id=first.id).hits] == [in_first.id]
    by_moderator = search(people["member"], "taryfy", group=g1,
                          author_id=people["moderator"].id)
    assert sorted(_found(by_moderator)) == sorted([(CHAT, message.id), (MATERIAL, file.id)])
    assert search(people["outsider"], "taryfy", group=people["g2"]).total == 0
    # A session only filters within its group.
    assert search(people["member"], "taryfy", workshop_id=first.id).total == 0


# --- word forms --------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "asked"), [
    ("Przygotowaliśmy diagnozę potrzeb.", "diagnoza"),
    ("Diagnoza potrzeb gotowa.", "diagnozę"),
    ("Diagnoza potrzeb gotowa.", "diagnoze"),
    ("Zatrudniliśmy asystenta rodziny.", "asystentów"),
    ("Nasz asystent rodziny pomaga.", "asystentów"),
    ("Asystenci rodziny pracują w terenie.", "asystentów"),
    ("Asystenci rodziny pracują w terenie.", "asystentow"),
    ("Szkolenie dla asystentów.", "asystenci"),
    ("Gmina Łączna ma nową szkołę.", "laczna"),
    ("Gmina Łęczna ma nową szkołę.", "leczna"),
    ("Spotkanie w Łęcznej.", "Łęczna"),
    ("Wnioski z ankiet.", "wniosek"),
    ("Jeden wniosek wpłynął.", "wnioski"),
    ("Dowozy uczniów do szkół.", "uczeń"),
    ("Parking dla rowerów przy szkole.", "rower"),
    ("Les polítiques municipals d'habitatge.", "política"),
    ("Les polítiques municipals d'habitatge.", "politiques"),
    ("The city councils met twice.", "council"),
])
def test_inflected_forms_match_with_and_without_diacritics(people, written, asked):
    message = _message(people, written)
    results = search(people["member"], asked)
    assert _found(results) == [(CHAT, message.id)], (written, asked)
    assert "<mark>" in results.hits[0].snippet


def test_unrelated_words_still_do_not_match(people):
    _message(people, "Diagnoza potrzeb gotowa.")
    assert search(people["member"], "dom").hits == []
    assert search(people["member"], "diagram").hits == []


def test_the_title_and_the_text_mark_every_form_of_the_word(people):
    factories.make_thread(people["member"], people["g1"], "Asystenci rodziny",
                          "Szukamy asystenta; asystentka już jest.")
    [hit] = search(people["member"], "asystent").hits
    assert hit.title == "<mark>Asystenci</mark> rodziny"
    assert "<mark>asystenta</mark>" in hit.snippet and "<mark>asystentka</mark>" in hit.snippet

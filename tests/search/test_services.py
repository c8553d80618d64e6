import pytest

from forum.discussions.services import delete_post, hide_post, reply
from forum.errors import NotFound
from forum.search.services import MAX_WORDS, highlight, query_words, search
from tests import factories


def _thread(people, title="Budżet obywatelski", body="Jak liczycie głosy?", group="g1",
            author="member"):
    return factories.make_thread(people[author], people[group], title, body)


def _found(results) -> list[int]:
    return [hit.id for hit in results.hits]


def test_finds_the_opening_post_by_title_and_replies_by_body(people):
    thread = _thread(people, title="Transport publiczny na wsi")
    answer = reply(people["moderator"], thread, "Autobusy szkolne jeżdżą też w wakacje.")
    results = search(people["member"], "transport", group=people["g1"])
    assert [(h.post_number, h.thread_id) for h in results.hits] == [(1, thread.id)]
    assert results.total == 1 and results.query == "transport"
    assert _found(search(people["member"], "autobusy wakacje", group=people["g1"])) == [
        answer.id]


@pytest.mark.parametrize(("written", "asked"), [
    ("Żółć i gęś", "zolc"), ("Żółć i gęś", "ŻÓŁĆ"), ("Spotkanie w lodz", "Łódź"),
    ("Spotkanie w Łodzi", "lodzi"),
])
def test_polish_letters_match_with_and_without_diacritics(people, written, asked):
    thread = _thread(people, title="Temat", body=written)
    [hit] = search(people["member"], asked, group=people["g1"]).hits
    assert hit.thread_id == thread.id
    assert "<mark>" in hit.snippet


def test_highlight_marks_the_original_word_whichever_way_it_was_typed(people):
    _thread(people, title="Zjazd", body="Zjazd odbędzie się w **Łodzi**, potem w lodz.")
    [hit] = search(people["member"], "lodz", group=people["g1"]).hits
    assert "<mark>Łodzi</mark>" in hit.snippet and "<mark>lodz</mark>" in hit.snippet
    assert "**" not in hit.snippet
    assert highlight("Miasto Łódź", "ŁODZ") == "Miasto <mark>Łódź</mark>"
    assert highlight("wszędzie lodz", "Łódź") == "wszędzie <mark>lodz</mark>"


def test_every_word_is_a_prefix_and_all_words_must_match(people):
    both = _thread(people, title="Edukacja", body="Edukacja ekologiczna w szkołach.")
    _thread(people, title="Szkoły", body="Edukacja zdalna.")
    found = search(people["member"], "eduk ekolog", group=people["g1"])
    assert [h.thread_id for h in found.hits] == [both.id]
    assert "<mark>Edukacja</mark> <mark>ekologiczna</mark>" in found.hits[0].snippet
    assert search(people["member"], "edukacja", group=people["g1"]).total == 2


def test_a_post_with_more_occurrences_ranks_higher(people):
    thread = _thread(people, title="Wnioski", body="Pierwsze pytanie o sprawy ogólne.")
    once = reply(people["member"], thread, "Dotacja przyszła wczoraj, reszta bez zmian.")
    thrice = reply(people["moderator"], thread, "Dotacja, dotacja i jeszcze raz dotacja.")
    assert _found(search(people["member"], "dotacja", group=people["g1"])) == [
        thrice.id, once.id]


def test_a_short_post_ranks_above_a_long_one_with_the_word_as_often(people):
    thread = _thread(people, title="Wnioski", body="Pierwsze pytanie o sprawy ogólne.")
    short = reply(people["member"], thread, "Dotacja przyszła.")
    reply(people["member"], thread, "Zupełnie inny temat bez tego słowa.")
    long = reply(people["moderator"], thread, "Dotacja przyszła. " + "Reszta bez zmian. " * 40)
    assert _found(search(people["member"], "dotacja", group=people["g1"])) == [
        short.id, long.id]


def test_words_of_a_query_each_count_towards_the_rank(people):
    thread = _thread(people, title="Wnioski", body="Pierwsze pytanie o sprawy ogólne.")
    both_often = reply(people["member"], thread, "Dotacja na szkołę, szkołę i szkołę; dotacja.")
    both_once = reply(people["moderator"], thread, "Dotacja na szkołę wiejską w gminie.")
    assert _found(search(people["member"], "dotacja szkole", group=people["g1"])) == [
        both_often.id, both_once.id]


def test_equally_ranked_posts_come_newest_first(people):
    thread = _thread(people, title="Kalendarz", body="Terminy spotkań.")
    first = reply(people["member"], thread, "Harmonogram na maj.")
    second = reply(people["member"], thread, "Harmonogram na maj.")
    assert _found(search(people["member"], "harmonogram", group=people["g1"])) == [
        second.id, first.id]


def test_the_snippet_is_escaped_text_around_the_match(people):
    body = ("Wstęp " * 80 + "<script>alert('x')</script> tu jest **kanalizacja** deszczowa. "
            + "Dalej " * 80)
    _thread(people, title="Ścieki", body=body)
    [hit] = search(people["member"], "kanalizacja", group=people["g1"]).hits
    assert "&lt;script&gt;" in hit.snippet and "<script>" not in hit.snippet
    assert "<mark>kanalizacja</mark>" in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet.striptags()) < 260


def test_deleted_and_hidden_posts_are_not_found(people):
    thread = _thread(people, title="Sprawy różne", body="Nic ciekawego.")
    deleted = reply(people["member"], thread, "Wodociągi do usunięcia.")
    hidden = reply(people["member"], thread, "Wodociągi do ukrycia.")
    kept = reply(people["member"], thread, "Wodociągi zostają.")
    delete_post(people["member"], deleted)
    hide_post(people["moderator"], hidden, "Nie na temat")
    for actor in ("member", "moderator", "admin"):
        assert _found(search(people[actor], "wodociągi")) == [kept.id]


def test_edited_posts_are_found_by_their_new_text(people):
    from forum.discussions.services import edit_post

    thread = _thread(people, title="Oświetlenie", body="Latarnie uliczne.")
    post = reply(people["member"], thread, "Stara treść o chodnikach.")
    edit_post(people["member"], post, "Nowa treść o rowerach.")
    assert search(people["member"], "chodnikach", group=people["g1"]).hits == []
    assert _found(search(people["member"], "rowerach", group=people["g1"])) == [post.id]


def test_outsiders_cannot_search_a_closed_group(people):
    _thread(people, title="Tajne plany", body="Remont ratusza.")
    with pytest.raises(NotFound):
        search(people["outsider"], "remont", group=people["g1"])


def test_all_my_groups_covers_only_groups_i_belong_to(people):
    in_g1 = _thread(people, title="Remont ratusza", body="W pierwszej grupie.")
    in_g2 = _thread(people, title="Remont starostwa", body="W drugiej grupie.", group="g2",
                    author="outsider")
    assert {h.thread_id for h in search(people["outsider"], "remont").hits} == {in_g2.id}
    assert {h.thread_id for h in search(people["observer"], "remont").hits} == {in_g1.id}
    assert {h.thread_id for h in search(people["admin"], "remont").hits} == {
        in_g1.id, in_g2.id}
    assert search(people["outsider"], "remont", group=people["g2"]).total == 1


def test_limit_and_offset_page_through_the_results(people):
    thread = _thread(people, title="Ankieta", body="Zbieramy głosy.")
    posts = [reply(people["member"], thread, f"Opinia numer {n}") for n in range(5)]
    first = search(people["member"], "opinia", group=people["g1"], limit=2)
    second = search(people["member"], "opinia", group=people["g1"], limit=2, offset=2)
    assert first.total == second.total == 5
    assert _found(first) + _found(second) == [p.id for p in reversed(posts)][:4]


@pytest.mark.parametrize("query", [
    "", "   ", '"', "*", "NEAR(", "' OR 1=1 --", "%", "_", '"* AND OR NEAR(', "a" * 1000,
    "słowo " * 200, "x:* & !y | (z", "\\", "\x00", "AND", "^",
])
def test_hostile_or_empty_queries_do_not_raise(people, query):
    _thread(people, title="Zwykły temat", body="Treść dla 100% osób, a_b i 1=1.")
    results = search(people["member"], query, group=people["g1"])
    assert results.total == len(results.hits)
    assert search(people["member"], query).total == len(search(people["member"], query).hits)


def test_punctuation_only_queries_find_nothing(people):
    _thread(people, title="Procenty", body="100% pewności")
    assert search(people["member"], "%", group=people["g1"]).hits == []
    assert search(people["member"], "' OR 1=1 --", group=people["g1"]).hits == []


def test_query_words_are_folded_and_bounded():
    assert query_words('Łódź, ŁÓDŹ! "eduk*" NEAR(') == ["lodz", "eduk", "near"]
    assert len(query_words(" ".join(f"slowo{n}" for n in range(50)))) == MAX_WORDS
    assert query_words("%_*") == []


def test_only_the_newest_matches_are_ranked_and_counted(people, monkeypatch):
    from forum.search import services

    monkeypatch.setattr(services, "MAX_MATCHES", 3)
    thread = _thread(people, title="Ankieta", body="Zbieramy głosy.")
    oldest = reply(people["member"], thread, "Opinia, opinia, opinia, opinia.")
    newer = [reply(people["member"], thread, f"Opinia numer {n}") for n in range(4)]
    results = search(people["member"], "opinia", group=people["g1"])
    assert results.total is None  # more than MAX_MATCHES
    assert _found(results) == [p.id for p in reversed(newer)][:3]
    assert oldest.id not in _found(results)


def test_a_title_match_comes_before_matches_in_bodies(people):
    """Issue 14: a thread named after the query comes first, however often other posts use
    the word (and however newer they are)."""
    titled = _thread(people, title="Dotacje dla sołectw", body="Kto już składał wniosek?")
    other = _thread(people, title="Różne sprawy", body="Pytanie organizacyjne.")
    busy = reply(people["moderator"], other, "Dotacje, dotacje i jeszcze raz dotacje na drogi.")
    found = _found(search(people["member"], "dotacje", group=people["g1"]))
    assert found[0] != busy.id and busy.id in found
    hits = search(people["member"], "dotacje", group=people["g1"]).hits
    assert (hits[0].thread_id, hits[0].post_number) == (titled.id, 1)

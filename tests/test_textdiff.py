"""What an edit changed, word by word (forum.textdiff)."""

from forum.textdiff import Piece, word_diff


def test_a_changed_word_is_removed_and_added_alone():
    assert word_diff("Świetlica jest otwarta we wtorki.", "Świetlica jest otwarta w środy.") == [
        Piece("same", "Świetlica jest otwarta "),
        Piece("removed", "we wtorki."),
        Piece("added", "w środy."),
    ]


def test_additions_and_removals_keep_line_breaks():
    before = "Wniosek:\n- dowozy\n- stołówki\n"
    after = "Wniosek:\n- dowozy\n- świetlice\n- stołówki\n"
    pieces = word_diff(before, after)
    assert "".join(p.text for p in pieces if p.kind != "removed") == after
    assert "".join(p.text for p in pieces if p.kind != "added") == before
    assert [p for p in pieces if p.kind == "added"] == [Piece("added", "świetlice\n- ")]
    assert not [p for p in pieces if p.kind == "removed"]


def test_identical_and_empty_texts():
    assert word_diff("bez zmian", "bez zmian") == [Piece("same", "bez zmian")]
    assert word_diff("", "nowe") == [Piece("added", "nowe")]
    assert word_diff("stare", "") == [Piece("removed", "stare")]


def test_long_texts_are_compared_line_by_line_and_still_rebuild_both_sides():
    before = "\n".join(f"linia {n} " + "słowo " * 20 for n in range(400))
    after = before.replace("linia 200 ", "wiersz 200 ")
    pieces = word_diff(before, after)
    assert "".join(p.text for p in pieces if p.kind != "removed") == after
    assert "".join(p.text for p in pieces if p.kind != "added") == before
    changed = [p for p in pieces if p.kind != "same"]
    assert [p.kind for p in changed] == ["removed", "added"]
    assert changed[0].text.startswith("linia 200 ") and changed[1].text.startswith("wiersz 200")

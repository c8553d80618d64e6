"""Names in lists follow the reader's alphabet: Polish letters with a diacritic are letters
of their own (Ł after L, Ż last), Catalan and English accents are variants."""

import pytest

from forum.extensions import db
from forum.i18n import sorted_by_name
from tests import factories

NAMES = ["Wólka", "Gmina Łęczna", "Gmina Lublin", "Żary", "Zamość", "Źródła", "Świdnik",
         "Sandomierz", "Szczecin", "Ćmielów", "Chełm", "Ośno", "Ostrów", "Ełk", "Elbląg"]


def test_polish_order():
    assert sorted_by_name(NAMES, name=str, locale="pl") == [
        "Chełm", "Ćmielów", "Elbląg", "Ełk", "Gmina Lublin", "Gmina Łęczna", "Ostrów", "Ośno",
        "Sandomierz", "Szczecin", "Świdnik", "Wólka", "Zamość", "Źródła", "Żary"]


def test_catalan_order_treats_accents_as_variants():
    assert sorted_by_name(["Òdena", "Olot", "Ça", "Cabra", "Éssera", "Elna"], name=str,
                          locale="ca") == ["Ça", "Cabra", "Elna", "Éssera", "Òdena", "Olot"]


@pytest.mark.parametrize("language", ["pl", "en"])
def test_lists_of_groups_and_members_are_in_polish_order(app, personas, login_as, language,
                                                          monkeypatch):
    # An English reader of a Polish site: the names are Polish, so is their order.
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "pl")
    with app.app_context():
        member = factories.user(personas.member.id)
        for name in ("Wólka", "Gmina Łęczna", "Gmina Lublin"):
            group = factories.make_group(name=name)
            factories.add_member(member, group)
            factories.add_member(factories.make_user(name=f"{name} Osoba"), group)
        g1 = factories.group(personas.g1.id)
        for name in ("Łukasz Łęcki", "Lech Lis", "Żaneta Zych", "Zenon Zając"):
            factories.add_member(factories.make_user(name=name), g1)
        member.locale = language
        db.session.commit()
    client = login_as(personas.member)
    page = client.get("/").get_data(as_text=True)
    positions = [page.index(name) for name in ("Gmina Lublin", "Gmina Łęczna", "Wólka")]
    assert positions == sorted(positions)
    page = client.get(f"/g/{personas.g1.slug}/members").get_data(as_text=True)
    positions = [page.index(name) for name in ("Lech Lis", "Łukasz Łęcki", "Zenon Zając",
                                               "Żaneta Zych")]
    assert positions == sorted(positions)

"""The new-thread form's materials: checkboxes a finger can tick (no "hold Ctrl"), kept when
the form comes back (refused, previewed, saved as a draft), only the group's materials
(issue 14, item 11)."""

import re

import pytest

from tests import factories


@pytest.fixture
def materials(personas, app):
    """Two materials of g1 (one of a session) and one of g2: their ids."""
    with app.app_context():
        moderator = factories.user(personas.moderator.id)
        group = factories.group(personas.g1.id)
        factories.make_workshop(moderator, group, number=3)
        in_session = factories.make_material(moderator, group, title="Plan dla Łęcznej",
                                             workshop_number=3)
        library = factories.make_material(moderator, group, name="b.pdf", title="Budżet")
        admin = factories.user(personas.admin.id)
        other = factories.make_material(admin, factories.group(personas.g2.id),
                                        name="o.pdf", title="Obcy")
        return {"session": in_session.id, "library": library.id, "other": other.id}


def _ticked(page: str) -> set[int]:
    return {int(m) for m in re.findall(
        r'<input type="checkbox" name="material_ids" id="[^"]+" value="(\d+)"[^>]* checked>', page)}


def test_the_form_lists_the_materials_as_checkboxes_in_a_fieldset(personas, login_as,
                                                                  materials):
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/t/new").get_data(as_text=True)
    assert "Ctrl" not in page and "<select multiple" not in page
    assert re.search(r'<fieldset class="field chips"[^>]*data-chips', page)
    assert "<legend>Materials</legend>" in page
    offered = {int(m) for m in re.findall(
        r'<input type="checkbox" name="material_ids" id="material_ids-\d+" value="(\d+)"', page)}
    assert offered == {materials["session"], materials["library"]}
    # A material's session follows its title; the script that adds the filter and chips.
    assert re.search(r'Plan dla Łęcznej <span class="meta">· Session 3</span></label>', page)
    assert "js/chips.js" in page
    assert _ticked(page) == set()


def test_a_material_link_comes_ticked(personas, login_as, materials):
    page = login_as(personas.member).get(
        f"/g/{personas.g1.slug}/t/new?material={materials['library']}").get_data(as_text=True)
    assert _ticked(page) == {materials["library"]}


def test_a_refused_or_previewed_form_keeps_the_ticks(personas, login_as, materials):
    member = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/t/new"
    chosen = [str(materials["session"]), str(materials["library"])]
    refused = member.post(url, data={"title": "", "body": "", "workshop_number": "0",
                                     "material_ids": chosen})
    assert refused.status_code == 400
    assert _ticked(refused.get_data(as_text=True)) == {materials["session"], materials["library"]}
    preview = member.post(url, data={"title": "T", "body": "Treść", "workshop_number": "0",
                                     "material_ids": chosen[:1], "preview": "1"})
    assert preview.status_code == 200
    assert _ticked(preview.get_data(as_text=True)) == {materials["session"]}


def test_a_saved_draft_brings_its_materials_back_ticked(personas, login_as, materials):
    member = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/t/new"
    member.post(url + "/draft", data={"title": "Szkic", "body": "Treść", "workshop_number": "0",
                                      "material_ids": [str(materials["library"])]})
    page = login_as(personas.member).get(url).get_data(as_text=True)
    assert _ticked(page) == {materials["library"]}


def test_a_material_of_another_group_is_refused_and_the_ticks_stay(personas, login_as,
                                                                   materials):
    member = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/t/new"
    response = member.post(url, data={
        "title": "Wątek", "body": "Treść", "workshop_number": "0",
        "material_ids": [str(materials["library"]), str(materials["other"])]})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose materials of this group." in page
    assert 'id="material_ids-error"' in page and 'aria-describedby="material_ids-hint ' \
        'material_ids-error"' in page
    assert _ticked(page) == {materials["library"]}
    created = member.post(url, data={"title": "Wątek", "body": "Treść", "workshop_number": "0",
                                     "material_ids": [str(materials["library"])]})
    assert created.status_code == 302
    thread_page = member.get(created.headers["Location"]).get_data(as_text=True)
    assert "Budżet" in thread_page

from forum.audit.models import AuditEntry
from forum.extensions import db
from tests import factories


def test_create_an_organisation_and_see_errors_with_what_was_typed(personas, login_as):
    admin = login_as(personas.admin)
    response = admin.post("/admin/organisations", data={"name": "Gmina Niemce",
                                                        "kind": "rural_commune",
                                                        "region": "lubelskie"})
    assert response.status_code == 302
    assert "Gmina Niemce" in admin.get("/admin/organisations").get_data(as_text=True)
    page = admin.post("/admin/organisations", data={"name": "gmina niemce", "kind": "planet",
                                                    "region": "mazowieckie"}).get_data(
        as_text=True)
    assert "already exists" in page and "Choose a kind from the list." in page
    assert 'value="mazowieckie"' in page


def test_edit_an_organisation(personas, login_as):
    admin = login_as(personas.admin)
    url = f"/admin/organisations/{personas.organisation_id}"
    assert admin.post(url, data={"name": "Miasto Lublin", "kind": "city",
                                 "region": "lubelskie"}).status_code == 302
    assert "lubelskie" in admin.get("/admin/organisations").get_data(as_text=True)


def test_create_an_account_mails_a_password_link(personas, login_as, smtp):
    admin = login_as(personas.admin)
    response = admin.post("/admin/users/new", data={"email": "Kasia@Example.org",
                                                    "name": "Katarzyna Nowak",
                                                    "organisation_id": "0", "position": ""})
    assert response.status_code == 302
    [message] = smtp.wait_for(1)
    assert message["To"] == "kasia@example.org" and "/password/reset/" in message.get_content()
    page = admin.post("/admin/users/new", data={"email": "kasia@example.org",
                                                "name": "Druga Kasia", "organisation_id": "0",
                                                "position": "dyrektorka"}).get_data(as_text=True)
    assert "already exists" in page and 'value="Druga Kasia"' in page


def test_account_search_and_pages(app, personas, login_as):
    with app.app_context():
        for n in range(55):
            factories.make_user(email=f"bulk{n:02d}@example.org", name=f"Masowa Osoba {n:02d}")
    admin = login_as(personas.admin)
    first = admin.get("/admin/users").get_data(as_text=True)
    assert "More accounts" in first
    found = admin.get("/admin/users?q=kowalski").get_data(as_text=True)
    assert "Jan Kowalski" in found and "Masowa Osoba" not in found


def test_grant_and_remove_administrator_rights(app, personas, login_as):
    admin = login_as(personas.admin)
    admin.post(f"/admin/users/{personas.member.id}/admin", data={"admin": "1"})
    assert login_as(personas.member).get("/admin/").status_code == 200
    admin.post(f"/admin/users/{personas.member.id}/admin", data={"admin": "0"})
    assert login_as(personas.member).get("/admin/").status_code == 404
    response = admin.post(f"/admin/users/{personas.admin.id}/admin", data={"admin": "0"},
                          follow_redirects=True)
    assert "cannot remove your own" in response.get_data(as_text=True)


def test_reactivate_an_account(app, personas, login_as):
    admin = login_as(personas.admin)
    admin.post(f"/admin/users/{personas.inactive.id}/active", data={"active": "1"})
    assert login_as(personas.inactive).get("/").status_code == 200


def test_create_a_group_keeps_input_on_error(personas, login_as):
    admin = login_as(personas.admin)
    page = admin.post("/admin/groups/new", data={
        "name": "Szkoły", "slug": "Zły adres!", "description": "Sieć szkół Magnet",
        "kind": "schools", "time_zone": "Europe/Madrid"}).get_data(as_text=True)
    assert "lower-case letters" in page and "Sieć szkół Magnet" in page
    response = admin.post("/admin/groups/new", data={
        "name": "Szkoły", "slug": "szkoly", "description": "Sieć szkół Magnet",
        "kind": "schools", "time_zone": "Europe/Madrid"})
    assert response.status_code == 302
    assert "Szkoły" in admin.get("/admin/groups").get_data(as_text=True)


def test_edit_group_settings(personas, login_as):
    admin = login_as(personas.admin)
    response = admin.post(f"/admin/groups/{personas.g1.id}", data={
        "name": "Miasta na prawach powiatu", "slug": "miasta", "description": "",
        "kind": "cities", "time_zone": "Europe/Warsaw"})
    assert response.status_code == 302
    member = login_as(personas.member)
    assert member.get("/g/miasta/").status_code == 200
    # The unticked box keeps material uploads to moderators.
    assert member.get("/g/miasta/materials/new").status_code == 403
    admin.post(f"/admin/groups/{personas.g1.id}", data={
        "name": "Miasta", "slug": "miasta", "description": "", "kind": "cities",
        "time_zone": "Europe/Warsaw", "members_can_upload": "y"})
    assert member.get("/g/miasta/materials/new").status_code == 200


def test_manage_members_from_the_group_page(app, personas, login_as):
    admin = login_as(personas.admin)
    base = f"/admin/groups/{personas.g1.id}"
    page = admin.post(f"{base}/members", data={"email": "nobody@example.org",
                                              "role": "member"}).get_data(as_text=True)
    assert "No account uses this address" in page
    admin.post(f"{base}/members", data={"email": "outsider@example.org", "role": "observer"})
    outsider = login_as(personas.outsider)
    assert outsider.get(f"/g/{personas.g1.slug}/").status_code == 200
    admin.post(f"{base}/members/{personas.outsider.id}/role",
               data={f"m{personas.outsider.id}-role": "moderator"})
    assert "your role: moderator" in outsider.get(f"/g/{personas.g1.slug}/").get_data(
        as_text=True)
    admin.post(f"{base}/members/{personas.outsider.id}/remove")
    assert outsider.get(f"/g/{personas.g1.slug}/").status_code == 404
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["membership.add", "membership.role", "membership.remove"]


def test_invite_form_errors_keep_the_address(personas, login_as, smtp):
    admin = login_as(personas.admin)
    response = admin.post(f"/admin/groups/{personas.g1.id}/invitations",
                          data={"email": "member@example.org", "role": "member"})
    assert response.status_code == 400
    assert "already a member" in response.get_data(as_text=True)
    page = admin.post(f"/admin/groups/{personas.g1.id}/invitations",
                      data={"email": "not an address", "role": "member"}).get_data(as_text=True)
    assert "Enter a valid e-mail address." in page and 'value="not an address"' in page


def test_withdraw_an_invitation(app, personas, login_as, smtp):
    admin = login_as(personas.admin)
    admin.post(f"/admin/groups/{personas.g1.id}/invitations",
               data={"email": "later@example.org", "role": "member"})
    page = admin.get(f"/admin/groups/{personas.g1.id}").get_data(as_text=True)
    assert "later@example.org" in page
    invitation_id = page.split("/admin/invitations/")[1].split("/")[0]
    admin.post(f"/admin/invitations/{invitation_id}/revoke")
    assert "later@example.org" not in admin.get(f"/admin/groups/{personas.g1.id}").get_data(
        as_text=True)


def test_audit_log_lists_actions_newest_first(personas, login_as):
    admin = login_as(personas.admin)
    admin.post("/admin/organisations", data={"name": "Powiat Zamojski", "kind": "county"})
    admin.post(f"/admin/users/{personas.member.id}/active", data={"active": "0"})
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert page.index("account deactivated") < page.index("organisation created")
    assert "Ada Admin" in page

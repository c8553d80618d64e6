from tests import factories


def test_group_page_shows_name_description_and_moderators(personas, login_as):
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert f"<h1>{personas.g1.name}</h1>" in page
    assert "Marta Moderator" in page
    assert "your role: member" in page


def test_the_group_page_tells_observers_why_they_cannot_start_a_thread(personas, login_as):
    page = login_as(personas.observer).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert "Start a thread" not in page
    assert "You follow this group as an observer: you can read its threads but not reply" in page
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert "Start a thread" in page and "as an observer" not in page


def test_member_list_shows_organisation_and_hides_emails_from_members(personas, login_as):
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/members").get_data(as_text=True)
    assert "Jan Kowalski" in page and "Miasto Lublin" in page
    assert "moderator@example.org" not in page
    page = login_as(personas.moderator).get(
        f"/g/{personas.g1.slug}/members").get_data(as_text=True)
    assert "member@example.org" in page


def test_dashboard_with_no_groups_explains_how_to_join(app, personas, login_as):
    with app.app_context():
        factories.make_user(email="lonely@example.org")
    page = login_as("lonely@example.org").get("/").get_data(as_text=True)
    assert "You are not a member of any exchange group yet" in page


def test_invitation_link_creates_an_account_and_lands_in_the_group(app, personas, login_as,
                                                                   smtp):
    admin = login_as(personas.admin)
    admin.post(f"/admin/groups/{personas.g1.id}/invitations",
               data={"email": "nowa@example.org", "role": "member"})
    [message] = smtp.wait_for(1)
    path = "/invitations/" + message.get_content().split("/invitations/")[1].split()[0]

    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    assert "nowa@example.org" in page
    response = visitor.post(path, data={"name": "Nowa Osoba", "organisation_id": "0",
                                        "position": "dyrektorka", "password": "krótkie",
                                        "confirm": "krótkie"})
    page = response.get_data(as_text=True)
    assert "at least 10 characters" in page and 'value="dyrektorka"' in page
    response = visitor.post(path, data={"name": "Nowa Osoba", "organisation_id": "0",
                                        "position": "dyrektorka",
                                        "password": "Zupa-pomidorowa-w-Lublinie",
                                        "confirm": "Zupa-pomidorowa-w-Lublinie"})
    assert response.headers["Location"] == f"/g/{personas.g1.slug}/"
    assert visitor.get(f"/g/{personas.g1.slug}/").status_code == 200
    # The link is spent.
    again = app.test_client().get(path)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_an_existing_account_signs_in_to_accept(app, personas, login_as, smtp):
    login_as(personas.admin).post(f"/admin/groups/{personas.g2.id}/invitations",
                                  data={"email": "member@example.org", "role": "observer"})
    [message] = smtp.wait_for(1)
    path = "/invitations/" + message.get_content().split("/invitations/")[1].split()[0]
    visitor = app.test_client()
    response = visitor.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    member = login_as(personas.member)
    assert member.get(f"/g/{personas.g2.slug}/").status_code == 404
    assert "Join the group" in member.get(path).get_data(as_text=True)
    assert member.post(path).headers["Location"] == f"/g/{personas.g2.slug}/"
    assert member.get(f"/g/{personas.g2.slug}/").status_code == 200


def test_someone_else_signed_in_cannot_use_the_invitation(personas, login_as, smtp):
    login_as(personas.admin).post(f"/admin/groups/{personas.g2.id}/invitations",
                                  data={"email": "member@example.org", "role": "member"})
    [message] = smtp.wait_for(1)
    path = "/invitations/" + message.get_content().split("/invitations/")[1].split()[0]
    moderator = login_as(personas.moderator)
    assert "another e-mail address" in moderator.get(path).get_data(as_text=True)
    assert moderator.post(path).status_code == 400
    assert moderator.get(f"/g/{personas.g2.slug}/").status_code == 404


def test_a_bad_invitation_link_explains_itself(client):
    response = client.get("/invitations/not-a-real-token")
    assert response.status_code == 400
    assert "This invitation link is not valid." in response.get_data(as_text=True)


def test_member_table_stacks_on_a_phone_with_each_value_labelled(personas, login_as):
    page = login_as(personas.moderator).get(
        f"/g/{personas.g1.slug}/members").get_data(as_text=True)
    assert '<table class="stack-table">' in page
    assert '<td data-label="Organisation">Miasto Lublin</td>' in page
    assert '<td data-label="E-mail address"><a href="mailto:member@example.org">' in page


def test_group_page_links_to_what_happened_since_the_last_session(app, personas, login_as):
    client = login_as(personas.member)
    assert "/since/" not in client.get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    with app.app_context():
        group, moderator = factories.group(personas.g1.id), factories.user(personas.moderator.id)
        factories.make_workshop(moderator, group, 1, days_from_today=-30)
        factories.make_workshop(moderator, group, 2, days_from_today=-10)
        factories.make_workshop(moderator, group, 3, days_from_today=20)
    page = client.get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert f'href="/g/{personas.g1.slug}/since/2">What happened since session 2</a>' in page
    assert client.get(f"/g/{personas.g1.slug}/since/2").status_code == 200

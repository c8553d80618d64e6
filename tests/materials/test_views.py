import io

from tests.materials import samples


def _share(client, slug, data=samples.PDF, name="Raport – Łęczna.pdf", **fields):
    form = {"title": "Raport", "kind": "diagnosis_report", "workshop_number": "0",
            "language": "pl", "description": "", **fields}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(f"/g/{slug}/materials/new", data=form, content_type="multipart/form-data")


def test_share_list_and_download(personas, login_as):
    member = login_as(personas.member)
    response = _share(member, personas.g1.slug)
    assert response.status_code == 302
    detail = response.headers["Location"]
    assert "Raport" in member.get(f"/g/{personas.g1.slug}/materials/").get_data(as_text=True)
    with member.get(detail + "/download") as download:
        assert download.data == samples.PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    # A PDF may carry scripts (/OpenAction) or embedded files: downloaded, not opened in the
    # forum's origin (issue 19).
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Raport%20%E2%80%93%20%C5%81%C4%99czna.pdf" in disposition


def test_office_files_download_as_attachments(personas, login_as):
    member = login_as(personas.member)
    detail = _share(member, personas.g1.slug, samples.docx(), "notatka.docx").headers["Location"]
    with member.get(detail + "/download") as response:
        assert response.headers["Content-Disposition"].startswith("attachment;")


def test_refused_upload_keeps_what_was_typed(personas, login_as):
    member = login_as(personas.member)
    response = _share(member, personas.g1.slug, samples.HTML_AS_PDF, "raport.pdf",
                      title="Moja diagnoza", description="Opis **ważny**")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This kind of file is not accepted" in page
    assert 'value="Moja diagnoza"' in page and "Opis **ważny**" in page


def test_a_missing_file_is_asked_for(personas, login_as):
    page = _share(login_as(personas.member), personas.g1.slug, data=None).get_data(as_text=True)
    assert "Choose a file to upload." in page


def test_an_oversized_request_gets_a_clear_page(make_app, personas):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    client.post("/login", data={"email": "member@example.org",
                                "password": "Lipowa-aleja-pachnie-2026"})
    response = _share(client, personas.g1.slug, b"%PDF-" + b"0" * 4096, "big.pdf")
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)


def test_non_members_get_404_everywhere(personas, login_as):
    detail = _share(login_as(personas.member), personas.g1.slug).headers["Location"]
    outsider = login_as(personas.outsider)
    for url in (f"/g/{personas.g1.slug}/materials/", f"/g/{personas.g1.slug}/materials/new",
                detail, detail + "/download", detail + "/v1/download"):
        with outsider.get(url) as response:
            assert response.status_code == 404, url
    for url in (detail + "/delete", detail + "/review", detail + "/versions"):
        assert outsider.post(url).status_code == 404, url


def test_observers_read_but_do_not_upload(personas, login_as):
    detail = _share(login_as(personas.member), personas.g1.slug).headers["Location"]
    observer = login_as(personas.observer)
    with observer.get(detail + "/download") as response:
        assert response.status_code == 200
    assert observer.get(f"/g/{personas.g1.slug}/materials/new").status_code == 403
    assert "Share a material" not in observer.get(
        f"/g/{personas.g1.slug}/materials/").get_data(as_text=True)


def test_versions_and_moderation(personas, login_as):
    member = login_as(personas.member)
    detail = _share(member, personas.g1.slug).headers["Location"]
    response = member.post(detail + "/versions", data={
        "file": (io.BytesIO(samples.docx()), "wersja 2.docx"), "note": "po sesji"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    page = member.get(detail).get_data(as_text=True)
    assert "Download version 2" in page and "Download version 1" in page
    with member.get(detail + "/v1/download") as response:
        assert response.data == samples.PDF
    assert member.post(detail + "/delete").status_code == 403
    moderator = login_as(personas.moderator)
    moderator.post(detail + "/review", data={"review_until": "2099-01-31"})
    assert "Open for review until" in member.get(detail).get_data(as_text=True)
    moderator.post(detail + "/delete")
    assert member.get(detail).status_code == 404


def test_filters_on_the_library(personas, login_as):
    member = login_as(personas.member)
    _share(member, personas.g1.slug, title="Protokół", kind="minutes")
    _share(member, personas.g1.slug, title="Diagnoza", kind="diagnosis_report")
    member.get("/")  # shows (and so clears) the "shared" messages
    page = member.get(f"/g/{personas.g1.slug}/materials/?kind=minutes").get_data(as_text=True)
    assert "Protokół" in page and "Diagnoza" not in page
    assert member.get(f"/g/{personas.g1.slug}/materials/?session=42").status_code == 404


def test_good_practice_form(personas, login_as):
    member = login_as(personas.member)
    response = _share(member, personas.g1.slug, data=None, title="Klub kultury",
                      kind="good_practice", problem="Mało zajęć", actions="Klub z biblioteką",
                      results="80 uczniów", costs="5 tys. zł",
                      contact_organisation_id=str(personas.organisation_id))
    page = member.get(response.headers["Location"]).get_data(as_text=True)
    assert "Good-practice write-up" in page and "Klub z biblioteką" in page
    assert "Miasto Lublin" in page


def test_the_upload_form_defaults_to_other_and_keeps_the_write_up_for_good_practices(
        personas, login_as):
    member = login_as(personas.member)
    page = member.get(f"/g/{personas.g1.slug}/materials/new").get_data(as_text=True)
    # "training material for review" comes first in the list but opens a review: not a default.
    assert '<option selected value="other">' in page
    assert '<option value="training_for_review">' in page
    # The write-up's fields are in the form (shown by CSS only while "good practice" is chosen).
    assert 'class="narrow material-form"' in page and 'class="good-practice-fields"' in page
    linked = member.get(f"/g/{personas.g1.slug}/materials/new?kind=minutes").get_data(
        as_text=True)
    assert '<option selected value="minutes">' in linked


def test_a_write_up_without_a_file_offers_to_attach_one_not_a_new_version(personas, login_as):
    member = login_as(personas.member)
    detail = _share(member, personas.g1.slug, data=None, title="Klub kultury",
                    kind="good_practice", problem="Mało zajęć", actions="Klub z biblioteką"
                    ).headers["Location"]
    page = member.get(detail).get_data(as_text=True)
    assert "Attach a file" in page and "Upload a new version" not in page
    assert '<label for="file">File</label>' in page and 'name="note"' not in page
    member.post(detail + "/versions", data={"file": (io.BytesIO(samples.PDF), "klub.pdf")},
                content_type="multipart/form-data")
    page = member.get(detail).get_data(as_text=True)
    assert "Download version 1" in page
    assert "Upload a new version" in page and "Attach a file" not in page


def test_observers_are_told_why_they_cannot_give_an_opinion(personas, login_as):
    detail = _share(login_as(personas.member), personas.g1.slug).headers["Location"]
    login_as(personas.moderator).post(detail + "/review", data={"review_until": "2099-01-31"})
    observer_page = login_as(personas.observer).get(detail).get_data(as_text=True)
    assert "Give your opinion before then." not in observer_page
    assert "You follow this group as an observer: you can read the opinions but not give " \
        "one." in observer_page
    member_page = login_as(personas.member).get(detail).get_data(as_text=True)
    assert "Give your opinion before then." in member_page


def test_deleting_a_material_asks_first(personas, login_as):
    detail = _share(login_as(personas.member), personas.g1.slug).headers["Location"]
    page = login_as(personas.moderator).get(detail).get_data(as_text=True)
    question = page[page.index('<details class="confirm" data-menu>'):]
    question = question[:question.index("</details>")]
    assert '<summary class="button danger">Delete this material</summary>' in question
    assert "Its files and versions are deleted for everyone" in question
    assert f'action="{detail}/delete"' in question
    assert "Yes, delete the material</button>" in question


def test_only_images_open_in_the_browser(personas, login_as):
    member = login_as(personas.member)
    detail = _share(member, personas.g1.slug, samples.jpeg_with_gps(), "zdjecie.jpg").headers[
        "Location"]
    with member.get(detail + "/download") as response:
        assert response.headers["Content-Disposition"].startswith("inline;")
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    polyglot = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n"
    detail = _share(member, personas.g1.slug, polyglot, "ulotka.pdf").headers.get("Location")
    if detail:  # accepted as a PDF: then it is only ever downloaded
        with member.get(detail + "/download") as response:
            assert response.headers["Content-Disposition"].startswith("attachment;")


def _scanner(tmp_path, status: int) -> str:
    """A stand-in for clamdscan: a real program that reads the file and answers `status`
    (1 for files holding the EICAR test string, as ClamAV does)."""
    script = tmp_path / f"scan-{status}.sh"
    script.write_text("#!/bin/sh\n"
                      'for file; do :; done\n'  # the last argument: the file
                      'if grep -q "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" "$file"; then\n'
                      '  echo "$file: Eicar-Signature FOUND"; exit 1; fi\n'
                      f'echo "$file: OK"; exit {status}\n')
    script.chmod(0o755)
    return str(script)


EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


def test_a_configured_scanner_passes_clean_files_and_refuses_threats(
        app, personas, login_as, tmp_path, caplog):
    app.config["FORUM_SCAN_COMMAND"] = _scanner(tmp_path, 0) + " --no-summary"
    member = login_as(personas.member)
    assert _share(member, personas.g1.slug).status_code == 302  # clean: stored
    infected = samples.make_pdf("Zaproszenie", [EICAR.decode()])
    response = _share(member, personas.g1.slug, infected, "zaproszenie.pdf",
                      title="Zaproszenie na sesję")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The virus scanner found a threat in this file" in page
    assert 'value="Zaproszenie na sesję"' in page  # nothing typed is lost
    assert "Zaproszenie na sesję" not in member.get(
        f"/g/{personas.g1.slug}/materials/").get_data(as_text=True)
    assert any("refused by the virus scanner" in r.getMessage() for r in caplog.records)


def test_a_scanner_that_fails_refuses_the_upload(app, personas, login_as, tmp_path):
    member = login_as(personas.member)
    for command in (_scanner(tmp_path, 2), str(tmp_path / "no-such-scanner")):
        app.config["FORUM_SCAN_COMMAND"] = command
        response = _share(member, personas.g1.slug, title="Plan pracy")
        assert response.status_code == 400
        assert "could not be checked for viruses" in response.get_data(as_text=True)

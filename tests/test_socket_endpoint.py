"""/socket.io is answered by Engine.IO outside Flask: it still carries the app's security
headers, and JSONP polling (a same-origin script gadget) is refused (issue 19)."""


def test_jsonp_polling_is_refused(app):
    response = app.test_client().get("/socket.io/", query_string={
        "EIO": "4", "transport": "polling", "j": "0"})
    assert response.status_code == 400
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "___eio" not in response.get_data(as_text=True)


def test_polling_answers_carry_the_security_headers(app):
    response = app.test_client().get("/socket.io/", query_string={
        "EIO": "4", "transport": "polling"})
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("0{")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Referrer-Policy"] == "same-origin"
    # The app's own pages keep theirs.
    page = app.test_client().get("/login")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]

from forum.extensions import socketio
from tests.conftest import login


def test_anonymous_sockets_are_refused(app):
    client = socketio.test_client(app, flask_test_client=app.test_client())
    assert not client.is_connected()


def test_signed_in_users_connect(app, personas):
    http = app.test_client()
    login(http, "member@example.org")
    client = socketio.test_client(app, flask_test_client=http)
    assert client.is_connected()
    client.disconnect()


def test_a_signed_out_session_cannot_connect(app, personas):
    http = app.test_client()
    login(http, "member@example.org")
    http.post("/logout")
    assert not socketio.test_client(app, flask_test_client=http).is_connected()

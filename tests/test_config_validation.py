"""A mistyped setting stops the start with a message naming it, instead of being misread."""

import pytest

from forum.config import ConfigError, load_config

BASE = {"FORUM_ENV": "testing"}


@pytest.mark.parametrize(("name", "value", "message"), [
    # An unknown mode used to fall back to plain SMTP and send the password unencrypted.
    ("FORUM_MAIL_SECURITY", "tls", "FORUM_MAIL_SECURITY must be one of none, starttls, ssl"),
    ("FORUM_MAIL_PORT", "25a", "FORUM_MAIL_PORT must be a whole number"),
    ("FORUM_MAIL_PORT", "0", "FORUM_MAIL_PORT must be at least 1"),
    ("FORUM_RETAIN_CHAT_DAYS", "-5", "FORUM_RETAIN_CHAT_DAYS must be at least 0"),
    ("FORUM_MAX_UPLOAD_MB", "fifty", "FORUM_MAX_UPLOAD_MB must be a whole number"),
    ("FORUM_MAIL_POLL_SECONDS", "soon", "FORUM_MAIL_POLL_SECONDS must be a number"),
    ("FORUM_DEFAULT_LOCALE", "de", "FORUM_DEFAULT_LOCALE must be one of pl, ca, en"),
    ("FORUM_DEFAULT_TIMEZONE", "Europe/Warszawa", "FORUM_DEFAULT_TIMEZONE must be a time zone"),
    ("FORUM_CHAT_TRANSPORTS", "websockets", "FORUM_CHAT_TRANSPORTS must list polling"),
    ("FORUM_CHAT_RATE", "20 per minut", "FORUM_CHAT_RATE must be a rate"),
    ("FORUM_LOGIN_LIMIT_PER_ADDRESS", "many", "FORUM_LOGIN_LIMIT_PER_ADDRESS must be a rate"),
    ("FORUM_BASE_URL", "forum.example.org", "FORUM_BASE_URL must start with https://"),
    ("FORUM_STORAGE_URL", "/srv/forum/uploads", "FORUM_STORAGE_URL must be s3://"),
    ("FORUM_SQLITE_SYNCHRONOUS", "off", "FORUM_SQLITE_SYNCHRONOUS must be one of normal, full"),
])
def test_a_wrong_value_is_refused_with_the_setting_named(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path), {**BASE, name: value})
    assert message in str(refused.value)
    assert repr(value) in str(refused.value) or value in str(refused.value)


@pytest.mark.parametrize(("name", "value", "key", "expected"), [
    ("FORUM_MAIL_SECURITY", "STARTTLS", "MAIL_SECURITY", "starttls"),
    ("FORUM_MAIL_PORT", " 587 ", "MAIL_PORT", 587),
    ("FORUM_RETAIN_CHAT_DAYS", "0", "FORUM_RETAIN_CHAT_DAYS", 0),  # 0 = no time limit
    ("FORUM_CHAT_TRANSPORTS", "websocket", "FORUM_CHAT_TRANSPORTS", "websocket"),
    ("FORUM_CHAT_RATE", "5/second;100/hour", "FORUM_CHAT_RATE", "5/second;100/hour"),
    ("FORUM_DEFAULT_TIMEZONE", "Europe/Madrid", "FORUM_DEFAULT_TIMEZONE", "Europe/Madrid"),
    ("FORUM_STORAGE_URL", "s3://bucket/forum", "FORUM_STORAGE_URL", "s3://bucket/forum"),
    ("FORUM_MAIL_POLL_SECONDS", "2.5", "FORUM_MAIL_POLL_SECONDS", 2.5),
    ("FORUM_SQLITE_SYNCHRONOUS", "FULL", "FORUM_SQLITE_SYNCHRONOUS", "full"),
    ("FORUM_SQLITE_SYNCHRONOUS", "", "FORUM_SQLITE_SYNCHRONOUS", "normal"),
])
def test_valid_values_are_read(tmp_path, name, value, key, expected):
    assert load_config(str(tmp_path), {**BASE, name: value})[key] == expected


def test_an_empty_value_means_the_default(tmp_path):
    config = load_config(str(tmp_path), {**BASE, "FORUM_MAIL_PORT": "", "FORUM_MAX_UPLOAD_MB": ""})
    assert config["MAIL_PORT"] == 25
    assert config["MAX_CONTENT_LENGTH"] == 51 * 1024 * 1024

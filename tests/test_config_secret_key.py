"""Production refuses a guessable secret key: the example from .env.example, or a short one."""

import pytest

from forum.config import EXAMPLE_SECRET_KEY, MIN_SECRET_KEY_BYTES, ConfigError, load_config


def production(tmp_path, key):
    return load_config(str(tmp_path), env={"FORUM_ENV": "production", "FORUM_SECRET_KEY": key,
                                           "FORUM_BASE_URL": "https://forum.example.org"})


def test_production_refuses_the_example_key(tmp_path):
    with pytest.raises(ConfigError, match="example value from .env.example"):
        production(tmp_path, EXAMPLE_SECRET_KEY)
    with pytest.raises(ConfigError, match="example value"):
        production(tmp_path, f" {EXAMPLE_SECRET_KEY}\n")  # pasted with blanks around it


def test_the_example_key_is_long_enough_to_need_its_own_check():
    # Otherwise the length rule alone would refuse it and the example check could rot unseen.
    assert len(EXAMPLE_SECRET_KEY.encode()) >= MIN_SECRET_KEY_BYTES


def test_production_refuses_a_key_shorter_than_32_bytes(tmp_path):
    with pytest.raises(ConfigError, match="31 bytes long; production needs at least 32"):
        production(tmp_path, "k" * 31)
    assert production(tmp_path, "k" * 32)["SECRET_KEY"] == "k" * 32


def test_the_length_counts_utf8_bytes_not_characters(tmp_path):
    # 16 characters, 32 bytes: accepted; 15 such characters (30 bytes): refused.
    assert production(tmp_path, "ż" * 16)["SECRET_KEY"] == "ż" * 16
    with pytest.raises(ConfigError, match="30 bytes long"):
        production(tmp_path, "ż" * 15)


def test_a_missing_key_is_still_refused_in_production(tmp_path):
    with pytest.raises(ConfigError, match="FORUM_SECRET_KEY is not set"):
        load_config(str(tmp_path), env={"FORUM_ENV": "production"})


@pytest.mark.parametrize("mode", ["development", "testing"])
def test_development_and_testing_accept_any_key(tmp_path, mode):
    for key in (EXAMPLE_SECRET_KEY, "short"):
        config = load_config(str(tmp_path), env={"FORUM_ENV": mode, "FORUM_SECRET_KEY": key})
        assert config["SECRET_KEY"] == key

"""Settings resolution: order, parsing of stack-config strings, and clear errors."""

from __future__ import annotations

import pytest

from pulumi_d6.errors import MissingCredentialsError, SettingsError
from pulumi_d6.settings import DEFAULT_BASE_URL, resolve_settings, stack_file_settings

PASSWORD = "s3cr3t-Pa55"
CREDS = {"d6:username": "alice", "d6:password": PASSWORD}
ENV_CREDS = {"D6_USERNAME": "alice", "D6_PASSWORD": PASSWORD}


def test_defaults_apply_when_only_credentials_are_given() -> None:
    s = resolve_settings(config=CREDS, env={})
    assert s.base_url == DEFAULT_BASE_URL
    assert s.api_version == "v2"
    assert s.timeout_seconds == 30.0
    assert s.max_retries == 4
    assert s.requests_per_second is None
    assert s.sources["base_url"] == "default"


def test_explicit_beats_config_beats_env() -> None:
    env = {"D6_USERNAME": "env-user", "D6_PASSWORD": "env-pass", "D6_MAX_RETRIES": "1"}
    config = {"d6:username": "cfg-user", "d6:maxRetries": "2"}
    s = resolve_settings({"max_retries": 3}, config=config, env=env)
    assert s.username == "cfg-user"
    assert s.password.get_secret_value() == "env-pass"
    assert s.max_retries == 3
    assert s.sources == {
        "username": "d6:username",
        "password": "D6_PASSWORD",
        "base_url": "default",
        "api_version": "default",
        "timeout_seconds": "default",
        "max_retries": "argument max_retries",
        "requests_per_second": "default",
        "max_deactivations": "default",
        "allow_insecure_http": "default",
    }


def test_config_beats_env_and_env_beats_default() -> None:
    env = {**{"D6_USERNAME": "u", "D6_PASSWORD": "p"}, "D6_TIMEOUT_SECONDS": "7"}
    assert resolve_settings(env=env).timeout_seconds == 7.0
    assert resolve_settings(config={"d6:timeoutSeconds": "9"}, env=env).timeout_seconds == 9.0


def test_bare_config_keys_are_accepted() -> None:
    s = resolve_settings(config={"username": "u", "password": "p", "apiVersion": "V1"}, env={})
    assert s.api_version == "v1"


def test_empty_strings_count_as_unset() -> None:
    s = resolve_settings(
        config={"d6:username": "", "d6:password": "  "},
        env={"D6_USERNAME": "e", "D6_PASSWORD": "f"},
    )
    assert s.username == "e"
    assert s.sources["password"] == "D6_PASSWORD"


def test_strings_from_stack_config_are_parsed() -> None:
    s = resolve_settings(
        config={
            **CREDS,
            "d6:timeoutSeconds": "12.5",
            "d6:maxRetries": "0",
            "d6:requestsPerSecond": "20",
            "d6:apiVersion": " v1 ",
            "d6:baseUrl": "http://127.0.0.1:8787/api/",
        },
        env={},
    )
    assert (s.timeout_seconds, s.max_retries, s.requests_per_second) == (12.5, 0, 20.0)
    assert s.api_version == "v1"
    assert s.base_url == "http://127.0.0.1:8787/api"


def test_missing_credentials_name_both_ways_to_set_them() -> None:
    with pytest.raises(MissingCredentialsError) as err:
        resolve_settings(env={})
    text = str(err.value)
    assert "username and password not set" in text
    assert "pulumi config set --secret d6:password" in text
    assert "D6_USERNAME" in text
    assert "D6_PASSWORD" in text


def test_missing_password_only_asks_only_for_the_password() -> None:
    with pytest.raises(MissingCredentialsError) as err:
        resolve_settings(config={"d6:username": "a"}, env={})
    assert str(err.value) == (
        "d6 password not set. Set it in stack config (`pulumi config set --secret d6:password` "
        "(it prompts for the password)) or in the environment (D6_PASSWORD)."
    )


def test_missing_credentials_name_the_flags_where_there_are_flags() -> None:
    with pytest.raises(MissingCredentialsError) as err:
        resolve_settings({"password": "p"}, env={}, explicit_names={"username": "--username"})
    assert str(err.value) == (
        "d6 username not set. Set it in stack config (`pulumi config set d6:username <name>`) "
        "or in the environment (D6_USERNAME), or pass --username."
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("d6:baseUrl", "http://integrate.d6plus.co.za/api", "only allowed for a loopback host"),
        ("d6:baseUrl", "http://10.0.0.5/api", "use https:// for 10.0.0.5"),
        ("d6:baseUrl", "ftp://host/api", "absolute http(s) URL"),
        ("d6:baseUrl", "integrate.d6plus.co.za/api", "absolute http(s) URL"),
        ("d6:baseUrl", "https://integrate.d6plus.co.za/api/v2", "without the version segment"),
        ("d6:baseUrl", "https://u:p@integrate.d6plus.co.za/api", "must not contain a username"),
        ("d6:baseUrl", "https://h/api?x=1", "must not contain a query"),
        ("d6:apiVersion", "v3", "d6:apiVersion = 'v3'"),
        ("d6:timeoutSeconds", "soon", "d6:timeoutSeconds = 'soon'"),
        ("d6:timeoutSeconds", "0", "greater than 0"),
        ("d6:timeoutSeconds", "-1", "greater than 0"),
        ("d6:timeoutSeconds", "nan", "d6:timeoutSeconds = 'nan': Input should be a finite number"),
        ("d6:requestsPerSecond", "inf", "Input should be a finite number"),
        ("d6:maxRetries", "2.5", "d6:maxRetries = '2.5'"),
        ("d6:maxRetries", "-1", "greater than or equal to 0"),
        ("d6:maxRetries", "many", "valid integer"),
        ("d6:requestsPerSecond", "0", "d6:requestsPerSecond"),
        ("d6:requestsPerSecond", "fast", "valid number"),
        ("d6:requestsPerSecond", "1e-10", "d6:requestsPerSecond = '1e-10': Input should be"),
    ],
)
def test_bad_values_name_their_source(key: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings(config={**CREDS, key: value}, env={})
    assert expected in str(err.value)
    assert PASSWORD not in str(err.value)


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="D6_MAX_RETRIES = 'x'"):
        resolve_settings(config=CREDS, env={"D6_MAX_RETRIES": "x"})


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("max_retries", "argument max_retries = True: must be a whole number, not a boolean"),
        ("timeout_seconds", "argument timeout_seconds = True: must be a number, not a boolean"),
        (
            "requests_per_second",
            "argument requests_per_second = True: must be a number, not a boolean",
        ),
    ],
)
def test_booleans_are_not_numbers(field: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings({field: True}, config=CREDS, env={})
    assert str(err.value) == f"invalid d6 settings: {expected}"


def test_unknown_explicit_setting_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting"):
        resolve_settings({"pasword": "x"}, config=CREDS, env={})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.5.6.7", "[::1]"])
def test_plain_http_is_fine_for_loopback(host: str) -> None:
    s = resolve_settings(config={**CREDS, "d6:baseUrl": f"http://{host}:9/api"}, env={})
    assert s.base_url == f"http://{host}:9/api"


def test_repr_and_str_never_show_the_password() -> None:
    s = resolve_settings(config=CREDS, env={})
    for text in (repr(s), str(s), s.describe_credentials(), str(s.model_dump())):
        assert PASSWORD not in text
    assert s.describe_credentials() == "username from d6:username, password from d6:password"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("pw\n", "ends with a newline: was it pasted with one?"),
        ("pw\r\n", "ends with a newline: was it pasted with one?"),
        (" pw", "starts with white space"),
        ("pw ", "ends with white space: was it pasted with some?"),
        ("p\x00w", "contains a control character"),
        ("p\x7fw", "contains a control character"),
        ("p€w", "contains a character outside Latin-1"),
        ("p😀w", "contains a character outside Latin-1"),
    ],
)
def test_a_password_that_cannot_be_a_header_is_refused_without_showing_it(
    password: str, reason: str
) -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings(env={"D6_USERNAME": "u", "D6_PASSWORD": password})
    assert str(err.value).startswith(f"invalid d6 settings: D6_PASSWORD {reason}")
    assert "pw" not in str(err.value).lower().replace("password", "")
    assert err.value.__context__ is None
    assert err.value.__cause__ is None


def test_latin1_passwords_are_fine() -> None:
    settings = resolve_settings(env={"D6_USERNAME": "ü-user", "D6_PASSWORD": "pässwörd%+/= \"'"})
    assert settings.password.get_secret_value() == "pässwörd%+/= \"'"


def test_base_url_errors_never_show_userinfo() -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings(env={**ENV_CREDS, "D6_BASE_URL": "https://u:Sekrit-9@d6.example/api?x"})
    assert "Sekrit-9" not in str(err.value)
    assert "https://***@d6.example/api?x" in str(err.value)


def test_scrub_replaces_every_form_of_the_password() -> None:
    settings = resolve_settings(env={"D6_USERNAME": "u", "D6_PASSWORD": "a b/c+d"})
    text = "raw a b/c+d, quoted a%20b%2Fc%2Bd, plus a+b%2Fc%2Bd, b64 YSBiL2MrZA=="
    assert settings.scrub(text) == "raw ***, quoted ***, plus ***, b64 ***"


def test_scrub_replaces_the_password_as_a_json_body_quotes_it() -> None:
    settings = resolve_settings(env={"D6_USERNAME": "u", "D6_PASSWORD": 'q"b\\é'})
    text = '{"message": "bad q\\"b\\\\\\u00e9", "echo": "q\\"b\\\\é"}'
    assert settings.scrub(text) == '{"message": "bad ***", "echo": "***"}'


def test_unknown_setting_names_are_bounded() -> None:
    with pytest.raises(SettingsError) as err:
        resolve_settings({"x" * 10_000: 1}, env=ENV_CREDS)
    assert len(str(err.value)) < 100


def test_plain_http_to_another_host_needs_the_explicit_opt_in() -> None:
    env = {**ENV_CREDS, "D6_BASE_URL": "http://d6-emulator:8787/api"}
    with pytest.raises(SettingsError, match="set d6:allowInsecureHttp=true or D6_ALL"):
        resolve_settings(env=env)
    allowed = resolve_settings(env={**env, "D6_ALLOW_INSECURE_HTTP": "true"})
    assert allowed.base_url == "http://d6-emulator:8787/api"
    assert allowed.allow_insecure_http is True
    config = {"d6:allowInsecureHttp": "true", "d6:baseUrl": "http://ci-service/api"}
    assert resolve_settings(config=config, env=ENV_CREDS).base_url == "http://ci-service/api"
    with pytest.raises(SettingsError, match="D6_ALLOW_INSECURE_HTTP = 'maybe'"):
        resolve_settings(env={**env, "D6_ALLOW_INSECURE_HTTP": "maybe"})


def test_a_stack_files_d6_settings_are_read_as_the_engine_passes_them() -> None:
    config = {
        "d6:username": "me",
        "d6:password": {"secure": "v1:encrypted-for-pulumi"},
        "d6:maxRetries": 0,
        "d6:allowInsecureHttp": True,
        "d6:unknownKey": "ignored",
        "estate:integrations": [],
    }
    assert stack_file_settings(config) == {
        "d6:username": "me",
        "d6:maxRetries": "0",
        "d6:allowInsecureHttp": "true",
    }


def test_a_list_where_a_d6_setting_belongs_names_the_key_and_file() -> None:
    with pytest.raises(SettingsError) as err:
        stack_file_settings({"d6:baseUrl": ["https://a", "https://b"]}, "Pulumi.prod.yaml")
    assert str(err.value) == "Pulumi.prod.yaml: d6:baseUrl must be a single value, not a list"


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("d6:maxDeactivation", "d6:maxDeactivations"),
        ("d6:baseURL", "d6:baseUrl"),
        ("d6:userName", "d6:username"),
    ],
)
def test_a_misspelt_d6_setting_is_refused_naming_the_one_meant(typo: str, meant: str) -> None:
    """Ignored, it would leave its setting at the default: the budget, or the real d6."""
    with pytest.raises(SettingsError) as err:
        stack_file_settings({typo: "10"}, "Pulumi.prod.yaml")
    assert str(err.value) == f"Pulumi.prod.yaml: unknown setting '{typo}': did you mean {meant}?"

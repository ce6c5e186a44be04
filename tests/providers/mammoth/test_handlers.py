"""Handler facts read from schemas/targets: defaults, addresses, secrets."""

import pytest

from reconciler.providers.mammoth import handlers


def test_every_handler_type_has_a_target_schema_with_an_address() -> None:
    for handler_type in handlers.HANDLER_TYPES:
        assert handlers.address_fields(handler_type), handler_type
        assert handlers.default_trigger_type(handler_type) in handlers.TRIGGER_TYPES


def test_an_address_field_left_out_means_its_default() -> None:
    defaults = handlers.target_defaults("postgres")
    explicit = {"host": "pg", "database": "d", "table": "t", "port": defaults["port"]}
    omitted = {"host": "pg", "database": "d", "table": "t"}
    assert handlers.address_of("postgres", omitted) == handlers.address_of("postgres", explicit)
    assert handlers.address_of("postgres", omitted) != handlers.address_of(
        "postgres", {**omitted, "port": 6432}
    )


def test_target_defaults_hands_out_a_copy() -> None:
    handlers.target_defaults("s3")["file_type"] = "json"
    assert handlers.target_defaults("s3")["file_type"] == "csv"


def test_email_address_ignores_the_order_of_emails() -> None:
    assert "emails" in handlers.address_fields("email")
    one = {"emails": ["b@x.io", "a@x.io"], "subject": "s"}
    other = {"emails": ["a@x.io", "b@x.io"], "subject": "s"}
    assert handlers.address_of("email", one) == handlers.address_of("email", other)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("auth_token", True),
        ("private_key", True),
        ("sas_token", True),
        ("file", False),
        ("table_name", False),
        ("partition_key_column", False),
        ("passphrase", True),
        ("client_secret", True),
        ("token_secret", True),
        ("token_name", False),
        ("X-API-Token", True),
        # Open-ended keys an acceptance pass found shown in plans (bigquery's, a header map's).
        ("service_account_json", True),
        ("pwd", True),
        ("auth", True),
        ("Authorization", True),
        ("keyfile", True),
        ("Cookie", True),
        ("database", False),
        ("host", False),
    ],
)
def test_secret_field_names(name: str, secret: bool) -> None:
    assert handlers.is_secret_field(name) is secret

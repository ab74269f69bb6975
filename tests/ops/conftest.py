"""Operations tests reuse the API tests' app and accounts."""

from tests.api.conftest import PASSWORD, accounts, api, app, client, login, settings  # noqa: F401

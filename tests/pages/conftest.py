"""Page tests reuse the API tests' app and accounts."""

from tests.api.conftest import PASSWORD, accounts, app, client, settings  # noqa: F401

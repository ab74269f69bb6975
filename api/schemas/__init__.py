"""Request and response shapes: the OpenAPI description clients are generated from."""

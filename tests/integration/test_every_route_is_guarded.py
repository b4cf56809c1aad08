"""Every route of the API checks a scope through `api.deps.requires`, except the probes,
Stripe's signed webhook, the chat widget's static files and the API's own documentation: a
route added later without a check fails here. (The chat UI mounted beside it by `cli.server`
has its own sign-in, tested in tests/integration/test_serving.py and
tests/e2e/test_ui_sign_in.py; Chainlit can be mounted once per process, so not here.)"""

from __future__ import annotations

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.main import create_app
from services.llm.scripted import replies
from tests.integration import jwks

# the probes, Stripe's webhook, which its signature authenticates (tested apart), and the chat
# widget's script and demo page (static files; the widget's questions go to guarded routes)
PUBLIC = {"/healthz", "/readyz", "/v1/webhooks/stripe", "/widget.js", "/widget/demo"}


def _scopes(dependant: Dependant) -> set[str]:
    found = set()
    for sub in dependant.dependencies:
        if hasattr(sub.call, "scope"):
            found.add(str(sub.call.scope))
        found |= _scopes(sub)
    return found


def _api_routes(routes):
    """The app's API routes, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def test_every_api_route_requires_a_scope(make_assistant):
    assistant, _ = make_assistant(
        replies("unused"),
        auth_mode="entra",
        entra_tenant_id=jwks.TENANT,
        entra_audience=jwks.AUDIENCE,
        entra_issuer=jwks.ISSUER,
        entra_jwks_url="http://127.0.0.1:9/keys",
    )
    app = create_app(assistant)
    routes = {
        (route.path, method): _scopes(route.dependant)
        for route in _api_routes(app.routes)
        for method in route.methods
    }
    unguarded = {key for key, scopes in routes.items() if not scopes and key[0] not in PUBLIC}
    assert len(routes) >= 8 and unguarded == set()
    assert routes[("/v1/chat", "POST")] == {"chat"}
    assert routes[("/v1/documents", "POST")] == {"documents:write"}
    assert routes[("/metrics", "GET")] == {"admin"}

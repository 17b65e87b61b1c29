"""The network's authorization matrix is complete: every mutating route of its four
blueprints is declared, with one outcome per kind of person, by the module testing its area
(each module runs its own rows with tests.network_world.run_route)."""

from tests import test_discussion, test_library, test_network_members, test_support
from tests.network_world import NETWORK_ROLES

AREAS = {
    "network": test_network_members,
    "library": test_library,
    "discussion": test_discussion,
    "support": test_support,
}
MUTATING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_mutating_network_route_is_in_a_matrix(app):
    for blueprint, module in AREAS.items():
        mutating = {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if rule.methods & MUTATING_METHODS and rule.endpoint.partition(".")[0] == blueprint
        }
        assert mutating == set(module.EXPECTED), f"{module.__name__}: add the route to EXPECTED"
        assert set(module.ROUTES) == set(module.EXPECTED)
        for endpoint, outcomes in module.EXPECTED.items():
            assert len(outcomes) == len(NETWORK_ROLES), endpoint


def test_network_matrix_paths_reach_their_endpoints(app):
    adapter = app.url_map.bind("localhost")
    for module in AREAS.values():
        for endpoint, route in module.ROUTES.items():
            ids = _every_id(route.path)
            assert adapter.match(route.path.format(**ids), method="POST")[0] == endpoint


def _every_id(path: str) -> dict[str, object]:
    """Any value for each placeholder: an id, or a token for the unsubscribe link."""
    import string

    names = {field for _, field, _, _ in string.Formatter().parse(path) if field}
    return {name: "jeton" if "token" in name else 1 for name in names}

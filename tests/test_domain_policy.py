"""How a host is matched against domain blocks: the spellings a suspended server could hide behind."""

import pytest

from spark_fed.domain_policy import candidates


@pytest.mark.parametrize(
    ("host", "covered_by"),
    [
        ("evil.com", "evil.com"),
        ("EVIL.com", "evil.com"),
        ("media.evil.com", "evil.com"),
        ("evil.com:8443", "evil.com"),
        ("evil.com.", "evil.com"),  # the root label's dot
        ("evil.com.:443", "evil.com"),  # ... before a port, where a plain rstrip misses it
        ("someone@evil.com", "evil.com"),  # userinfo is not the host
        ("evil.com.:443", "evil.com:443"),
    ],
)
def test_every_spelling_of_a_blocked_host_is_covered(host: str, covered_by: str) -> None:
    assert covered_by in candidates(host)


def test_a_port_block_covers_only_that_port() -> None:
    assert "evil.com:8443" not in candidates("evil.com:443")
    assert "evil.com" not in candidates("notevil.com")

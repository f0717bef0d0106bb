import pytest


@pytest.fixture(scope="session")
def streamster_options():
    return {"seed": 42, "clock": "virtual", "scenario": None}


@pytest.fixture(scope="session")
def instaforex_options():
    return {"token_ttl": 120, "accounts": None}

import pytest
from rmm_testbed import World


@pytest.fixture
def world():
    return World()

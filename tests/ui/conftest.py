import pytest

import lepton_nb as lnb
from tests.conftest import HANG_S, tiny_recipe


@pytest.fixture
def studio(tmp_path):
    s = lnb.Studio(tiny_recipe(), out=tmp_path, hz=20)
    assert s.wait_data(HANG_S) is not None
    yield s
    s.close()


def settle(*tasks, timeout=None):
    for task in tasks:
        assert task.wait(HANG_S if timeout is None else timeout)

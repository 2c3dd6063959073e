import pytest

import lepton_nb as lnb
from tests.conftest import tiny_recipe


@pytest.fixture
def studio(tmp_path):
    s = lnb.Studio(tiny_recipe(), out=tmp_path, hz=20)
    assert s.wait_data(60) is not None
    yield s
    s.close()


def settle(*tasks, timeout=30):
    for task in tasks:
        assert task.wait(timeout)

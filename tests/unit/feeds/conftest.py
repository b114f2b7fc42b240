import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "exchange-payloads"


@pytest.fixture
def payload():
    def load(name: str):
        return json.loads((FIXTURES / name).read_text())

    return load

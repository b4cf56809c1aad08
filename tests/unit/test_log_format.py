"""LOG_FORMAT=json: every line on stderr is one JSON object naming its request id."""

from __future__ import annotations

import json
import logging

import pytest

from services.logs import configure, request_id
from services.settings import Settings


@pytest.fixture
def restored_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_lines_name_their_request(fmt, capsys, restored_logging):
    configure("INFO", fmt)
    token = request_id.set("req-9")
    try:
        logging.getLogger("api.main").info("request refused: %s", "forbidden")
    finally:
        request_id.reset(token)
    logging.getLogger("audit").warning("outside any request")
    lines = capsys.readouterr().err.strip().splitlines()
    if fmt == "json":
        inside, outside = (json.loads(line) for line in lines)
        assert inside["request_id"] == "req-9" and inside["level"] == "INFO"
        assert inside["message"] == "request refused: forbidden"
        assert outside["request_id"] == "-" and outside["logger"] == "audit"
    else:
        assert "[req-9]: request refused: forbidden" in lines[0] and "[-]" in lines[1]


def test_log_format_setting_is_checked(tmp_path):
    assert Settings(_env_file=None, var_dir=tmp_path, log_format="json").log_format == "json"
    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None, var_dir=tmp_path, log_format="xml")

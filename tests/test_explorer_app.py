"""The explorer app as a Space runs it: `spaces/explorer/app.py` with no flags, its host and
port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT and its checkpoints from IARC_EXPLORER_MODELS;
the page's config names the checkpoint but never its path on the server."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from tiny_checkpoints import tiny_checkpoint

pytestmark = pytest.mark.integration
APP = Path(__file__).resolve().parents[1] / "spaces" / "explorer" / "app.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_app_serves_on_the_port_gradio_variables_name(tmp_path):
    checkpoint = tiny_checkpoint(tmp_path / "served" / "tiny-cisformer")
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "IARC_EXPLORER_MODELS": str(checkpoint), "HF_HUB_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False"}  # fmt: skip
    with tempfile.TemporaryFile("w+") as log:
        app = subprocess.Popen([sys.executable, str(APP)], env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                if app.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the explorer did not answer on port {port}:\n{log.read()}")
                try:
                    urllib.request.urlopen(url, timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            with urllib.request.urlopen(f"{url}/config", timeout=10) as response:
                config = response.read().decode()
        finally:
            app.terminate()
            app.wait(timeout=30)
    dropdowns = [
        c["props"] for c in json.loads(config)["components"] if c.get("type") == "dropdown"
    ]
    checkpoints = next(props for props in dropdowns if props.get("elem_id") == "models")
    assert checkpoints["value"] == ["tiny-cisformer"]
    assert checkpoints["allow_custom_value"] is False  # typing is the operator's opt-in
    assert str(checkpoint.parent) not in config  # the server's paths never reach the page

"""The README's screenshot of the explorer: start the app on a free port with the given
checkpoints, type a stream, click Explore and save the page (headless Debian Chromium).

    python spaces/explorer/screenshot.py --model CKPT [--model CKPT ...] --stream "4 9 1 6^R ..." \
        --output spaces/explorer/screenshot.png
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(models=(), timeout: float = 120.0, extra_args=()):
    """`app.py` on a free localhost port with `models` preloaded; yields its URL, then stops it.
    RuntimeError (with the app's output) if it exits or does not answer within `timeout` s."""
    port = free_port()
    command = [sys.executable, str(HERE / "app.py"), "--port", str(port)]
    for model in models:
        command += ["--model", model]
    command += list(extra_args)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with tempfile.TemporaryFile("w+") as log:
        app = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                if app.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the explorer did not start:\n{log.read()}")
                try:
                    urllib.request.urlopen(url, timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            yield url
        finally:
            app.terminate()
            app.wait(timeout=30)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--stream", required=True)
    parser.add_argument("--maps", choices=("layers", "heads"), default="layers")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--output", default=str(HERE / "screenshot.png"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with running_app(args.model) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(url)
        page.locator("#stream textarea").fill(args.stream)
        if args.maps == "heads":
            page.get_by_text("every head").click()
        page.locator("#explore").click()
        page.locator(".iarc-window").wait_for(timeout=120_000)
        if args.model:
            page.locator("#maps img").first.wait_for(timeout=120_000)
        page.screenshot(path=args.output, full_page=True)
        browser.close()
    print(f"wrote {args.output}")
    return Path(args.output)


if __name__ == "__main__":
    main()

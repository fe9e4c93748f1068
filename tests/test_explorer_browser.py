"""The explorer in a real browser: `spaces/explorer/app.py` on a free localhost port, driven by
headless Chromium (Debian's, through Playwright; `make browser-deps` installs it). The app
serves the checkpoint it is started with, offered by name in a checkpoints box that takes no
free text."""

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_checkpoints import tiny_checkpoint

from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.evaluation import predict
from iarc_hf.viz.explorer import annotate, draw_window, load_served_checkpoint

pytestmark = [pytest.mark.browser, pytest.mark.integration]
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "spaces" / "explorer"))
from screenshot import running_app  # noqa: E402

CHROMIUM = os.environ.get("IARC_CHROMIUM", "/usr/bin/chromium")
STREAM = "4 9 1 6^R 1 9^C 1 6 1 7^I 8 9^C 11"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return str(tiny_checkpoint(tmp_path_factory.mktemp("browser") / "tiny-cisformer"))


@pytest.fixture(scope="module")
def app_url(checkpoint):
    with running_app([checkpoint]) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser-deps` (Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        yield page
        browser.close()


def explore(page, stream: str):
    page.locator("#stream textarea").fill(stream)
    page.locator("#explore").click()


def table_rows(page) -> dict[str, list[str]]:
    page.locator(".iarc-window").wait_for(timeout=60_000)
    rows = page.locator(".iarc-window tr")
    out = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td").all_inner_texts()
        out[cells[0]] = cells[1:]
    return out


def test_a_typed_stream_is_annotated_and_predicted(page, checkpoint):
    explore(page, STREAM)
    rows = table_rows(page)
    window = annotate(IARCTask(), STREAM)
    assert rows["window"] == STREAM.split()
    assert rows["task"] == ["?", "?", "?", "R", "R", "R", "R", "R", "R", "I", "I", "I", "I"]
    assert rows["C steps"][3:] == ["0", "0", "1", "1", "1", "1", "0", "0", "1", "1"]
    assert rows["oracle"] == [str(p) for p in window["oracle"]]
    model, _ = load_served_checkpoint(checkpoint)
    inputs = {key: window[key][None] for key in ("input_ids", "control_ids")}
    expected = predict(model, inputs)[0]
    assert rows["tiny-cisformer"] == [str(p) for p in expected]  # the model's own predictions
    message = page.locator("#message").inner_text()
    assert "tiny-cisformer: " in message and "next symbols right" in message
    page.locator("#maps img").first.wait_for(timeout=60_000)  # its attention maps
    page.screenshot(path=str(Path(checkpoint).parent / "explorer.png"), full_page=True)


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ("7^X 8", "unknown control 'X'; IARC has the controls I, A, R, C"),
        ("7^I 8 16", "symbol 16 is out of range; IARC has symbols 0..15"),
        (" ".join(["1"] * 30), "too long: 30 symbols, at most 24"),
    ],
)
def test_bad_input_is_a_message_in_the_page(page, stream, message):
    explore(page, stream)
    page.get_by_text(message).wait_for(timeout=60_000)
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error" in page.locator("#message").inner_text()


def test_draw_fills_the_stream_from_the_dataset(page):
    page.get_by_role("button", name="Draw a window").click()
    expected = draw_window("IARC", "validation", 0, 0)
    page.wait_for_function(
        "text => document.querySelector('#stream textarea').value === text", arg=expected
    )
    explore(page, expected)
    rows = table_rows(page)
    assert rows["window"] == expected.split()
    np.testing.assert_array_equal(
        [int(v) for v in rows["oracle"]], annotate(IARCTask(), expected)["oracle"]
    )


def test_the_checkpoints_box_offers_the_served_checkpoint_by_name(page, checkpoint):
    box = page.locator("#models")
    assert "tiny-cisformer" in box.inner_text()
    assert str(Path(checkpoint).parent) not in page.content()  # no server path in the page
    box.locator("input").fill("/etc")
    box.locator("input").press("Enter")
    page.locator("body").click(position={"x": 5, "y": 5})
    assert "/etc" not in box.inner_text()  # no free text: only the operator's list
    explore(page, "7^I 8 9")
    page.get_by_text("tiny-cisformer: ").wait_for(timeout=60_000)
    assert "could not run" not in page.locator("#message").inner_text()

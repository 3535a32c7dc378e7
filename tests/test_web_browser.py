"""The page in a real browser: Debian's chromium, headless, driven by playwright.

No browser is downloaded: playwright drives the system's ``chromium``
(``.ci/run`` installs it). A missing browser fails these tests.
"""

import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any, cast

import msgspec
import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, async_playwright
from rxresponses import Item
from rxresponses.server import ReplayServer
from rxresponses.web import drop_watchers, http_upstream, make_app

from tests.web_helpers import DEMO, WAIT, demo_items, every_item_type, fixed_upstream, served

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = WAIT * 1000


def demo_text() -> str:
    return "".join(item["chunk"] for item in demo_items() if item["type"] == "text")


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[BrowserContext]:
    executable = shutil.which("chromium")
    assert executable is not None, "chromium is not installed (apt-get install chromium)"
    with tempfile.TemporaryDirectory() as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=FLAGS
            )
            context.set_default_timeout(TIMEOUT_MS)
            try:
                yield context
            finally:
                await context.close()


async def ask(page: Page, base: str, prompt: str = "Lisbon or Kyoto?") -> str:
    """Open the page, send ``prompt``; the started stream's id."""
    await page.goto(f"{base}/")
    await page.fill("#prompt", prompt)
    await page.click("#send")
    await page.wait_for_url("**/streams/*")
    return page.url.rsplit("/", 1)[1]


async def until_done(page: Page) -> None:
    await page.wait_for_selector('#end[data-done="true"]', state="attached")


async def received(page: Page) -> dict[str, Any]:
    """What the page recorded: every position as it came, and the items it showed."""
    value = await page.evaluate(
        "() => ({positions: window.rxresponses.positions, items: window.rxresponses.items})"
    )
    return cast(dict[str, Any], value)


async def answer_text(page: Page) -> str:
    bodies = await page.locator(".part.text .body").all_text_contents()
    return "".join(bodies)


@pytest.mark.asyncio
async def test_the_page_shows_the_streamed_answer_a_tool_call_and_the_end(
    browser: BrowserContext,
) -> None:
    async with ReplayServer([DEMO], events_per_second=120) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base:
            page = await browser.new_page()
            await ask(page, base)
            await until_done(page)

            assert await answer_text(page) == demo_text()
            tools = page.locator(".tool")
            assert await tools.count() == 2
            assert await tools.first.locator(".name").text_content() == "get_weather"
            arguments = await tools.first.locator(".args").text_content()
            assert json.loads(arguments or "")["city"] == "Lisbon"
            assert await tools.first.locator(".state").text_content() == "complete"
            assert await page.locator("details.reasoning").first.get_attribute("open") is None
            end = await page.locator("#end").text_content() or ""
            assert "stop reason: tool_use" in end  # the two calls are the caller's to run
            assert "412 in" in end
            assert await page.locator("#stop").is_disabled()
            assert (await received(page))["positions"] == list(range(1, len(demo_items()) + 1))


@pytest.mark.asyncio
async def test_the_page_resumes_after_the_server_drops_the_connection(
    browser: BrowserContext,
) -> None:
    async with ReplayServer([DEMO], events_per_second=25) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base:
            page = await browser.new_page()
            connections: list[str] = []
            page.on(
                "request",
                lambda request: (
                    connections.append(request.url) if request.url.endswith("/events") else None
                ),
            )
            await ask(page, base)
            await page.wait_for_function("() => window.rxresponses.items.length >= 20")
            assert drop_watchers(app) == 1
            await until_done(page)

            got = await received(page)
            assert len(connections) >= 2
            assert got["positions"] == list(range(1, len(demo_items()) + 1))
            assert await answer_text(page) == demo_text()


@pytest.mark.asyncio
async def test_two_tabs_on_one_stream_show_identical_items(browser: BrowserContext) -> None:
    async with ReplayServer([DEMO], events_per_second=60) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base:
            first = await browser.new_page()
            stream_id = await ask(first, base)
            second = await browser.new_page()
            await second.goto(f"{base}/streams/{stream_id}")
            await until_done(first)
            await until_done(second)

            assert upstream.stats.requests == 1
            assert (await received(first))["items"] == (await received(second))["items"]
            assert await answer_text(first) == await answer_text(second) == demo_text()


@pytest.mark.asyncio
async def test_the_stop_button_stops_the_upstream_request(browser: BrowserContext) -> None:
    async with ReplayServer([DEMO], events_per_second=10) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base:
            page = await browser.new_page()
            await ask(page, base)
            await page.wait_for_function("() => window.rxresponses.items.length >= 3")
            await page.click("#stop")
            await until_done(page)

            assert await upstream.stats.wait_for_disconnect(timeout=WAIT)
            error = page.locator(".error")
            assert await error.get_attribute("data-kind") == "cancelled"
            assert len((await received(page))["items"]) < len(demo_items())


class Hologram(msgspec.Struct, frozen=True, tag="hologram", tag_field="type"):
    """An item type from a later revision: the page must ignore it."""

    frames: int


@pytest.mark.asyncio
async def test_the_page_shows_every_item_type_and_ignores_unknown_ones(
    browser: BrowserContext,
) -> None:
    items: list[Item] = every_item_type()
    items.insert(3, cast(Item, Hologram(frames=3)))
    async with served(make_app(fixed_upstream(items))) as base:
        page = await browser.new_page()
        await ask(page, base)
        await until_done(page)

        reasoning = page.locator("details.reasoning")
        assert await reasoning.get_attribute("open") is None
        assert await reasoning.locator(".body").text_content() == "Compare the two cities."
        commentary = page.locator(".part.commentary")
        assert await commentary.locator(".label").text_content() == "Commentary"
        assert await commentary.locator(".body").text_content() == "Let me look that up."
        final = page.locator(".part.text:not(.commentary)")
        assert await final.locator(".body").text_content() == "Lisbon is warmer today."
        link = final.locator(".citations a")
        assert await link.get_attribute("href") == "https://weather.example/lisbon"
        assert await link.text_content() == "Lisbon forecast"
        assert await page.locator(".part.refusal .body").text_content() == (
            "I cannot book flights."
        )
        search = page.locator(".tool").nth(0)
        assert await search.locator(".badge").first.text_content() == "run by the server"
        assert json.loads(await search.locator(".result").text_content() or "") == {
            "status": "completed"
        }
        assert await search.locator(".state").text_content() == "waiting for approval"
        weather = page.locator(".tool").nth(1)
        assert json.loads(await weather.locator(".args").text_content() or "") == {"city": "Kyoto"}
        notes = " ".join(await page.locator(".note").all_text_contents())
        assert "encrypted reasoning" in notes
        assert "compacted context" in notes
        error = page.locator(".error")
        assert await error.get_attribute("data-kind") == "server_error"
        assert "upstream hiccup" in (await error.text_content() or "")
        end = await page.locator("#end").text_content() or ""
        assert "12 in · 34 out (reasoning 5)" in end
        assert "stop reason: tool_use" in end
        shown = [item["type"] for item in (await received(page))["items"]]
        assert "hologram" not in shown

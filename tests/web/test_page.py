"""The web page of `kgrag serve` in a real browser: Debian's Chromium, headless, driven by
Playwright, against a real `kgrag serve` process (its own KGRAG_HOME, the session's
FalkorDB server and Prefect harness) that requires an API key.

Each browser test saves its screenshots under its tmp_path; with
KGRAG_UPDATE_SCREENSHOTS=1 they are also copied to docs/screenshots/ (the README's).
Needs `apt-get install -y chromium fonts-noto-cjk` (or KGRAG_CHROMIUM=<path>).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kgrag.core.settings import Settings
from kgrag.server.remote import RemoteClient
from tests.conftest import EXAMPLES, REPO, serve_process

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.slow

KEY = "web-page-test-key"
CHROMIUM = os.environ.get("KGRAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = REPO / "docs" / "screenshots"
MODES = ["fused", "dense", "keyword", "graph"]
ANSWER_TIMEOUT_MS = 180_000  # the CPU model on a loaded 2-core machine


class Server:
    def __init__(self, settings: Settings, url: str, token: str) -> None:
        self.settings, self.url, self.token = settings, url, token

    def http(self, key: str | None = KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


@pytest.fixture(scope="module")
def server(tmp_path_factory, falkordb_server, prefect_harness) -> Iterator[Server]:
    with serve_process(tmp_path_factory.mktemp("web-home"), falkordb_server, api_key=KEY) as (
        settings,
        _,
        info,
    ):
        yield Server(settings, info.url, info.local_token)


@pytest.fixture(scope="module")
def demo(server: Server) -> str:
    """The example corpus, ingested through the API into workspace `webdemo`."""
    client = RemoteClient(server.url, "webdemo", server.settings, server.token)
    report = client.ingest(EXAMPLES)
    assert report.indexed == len(list(EXAMPLES.iterdir())) and not report.failed
    return "webdemo"


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[BrowserContext]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install playwright")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a new, empty profile
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: BrowserContext, server: Server) -> Iterator[Page]:
    """The page at `/`, with the API key already entered (as a user's browser keeps it)."""
    page = browser.new_page()
    errors: list[str] = []  # uncaught exceptions and console errors
    elsewhere: list[str] = []  # requests that did not go to kgrag serve
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: None if r.url.startswith((server.url, "data:")) else elsewhere.append(r.url),
    )
    page.add_init_script(f"localStorage.setItem('kgrag-api-key', {KEY!r})")
    page.goto(server.url)
    page.wait_for_selector("#workspace option", state="attached")
    yield page
    page.close()
    assert errors == [] and elsewhere == []


# ---------------------------------------------------------------- helpers
def snap(page: Page, tmp_path: Path, name: str, full_page: bool = False) -> Path:
    """A screenshot in the test's folder (and in docs/screenshots/ when asked)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000
    if os.environ.get("KGRAG_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)
    return path


def choose_workspace(page: Page, name: str) -> None:
    page.select_option("#workspace", name)


def node_ids(page: Page) -> set[str]:
    return set(page.evaluate("kgrag.nodeIds()"))


def wait_for_graph(page: Page, nodes: int) -> None:
    """The drawing holds `nodes` nodes and its layout has settled."""
    page.wait_for_function(
        "n => document.querySelector('#graph').dataset.state === 'ready'"
        " && kgrag.nodeIds().length === n",
        arg=nodes,
    )


def click_node(page: Page, node_id: str) -> None:
    """A real mouse click on the canvas where the node is drawn."""
    point = page.evaluate(
        """id => {
            const network = kgrag.network();
            const at = network.canvasToDOM(network.getPositions([id])[id]);
            const box = document.querySelector('#graph').getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y};
        }""",
        node_id,
    )
    page.mouse.click(point["x"], point["y"])
    assert page.evaluate("kgrag.network().getSelectedNodes()") == [node_id]


def most_apart(page: Page, candidates: list[str]) -> str:
    """The candidate drawn farthest from any other node (the safest to click)."""
    return str(
        page.evaluate(
            """ids => {
                const network = kgrag.network();
                const all = network.getPositions();
                const gap = id => Math.min(...Object.entries(all).filter(([o]) => o !== id)
                    .map(([, p]) => Math.hypot(p.x - all[id].x, p.y - all[id].y)));
                return ids.reduce((best, id) => gap(id) > gap(best) ? id : best);
            }""",
            candidates,
        )
    )


def cjk_glyphs_render(page: Page) -> bool:
    """Two different Chinese characters draw differently in the page's font: without a
    CJK font both would be the same empty box."""
    return bool(
        page.evaluate(
            """() => {
                const canvas = document.createElement('canvas');
                canvas.width = canvas.height = 64;
                const g = canvas.getContext('2d');
                const draw = ch => {
                    g.clearRect(0, 0, 64, 64);
                    g.font = `48px ${getComputedStyle(document.body).fontFamily}`;
                    g.fillText(ch, 4, 52);
                    return g.getImageData(0, 0, 64, 64).data.join();
                };
                const a = draw('青'), b = draw('蒿');
                return a !== b && /[1-9]/.test(a);
            }"""
        )
    )


# ---------------------------------------------------------------- served without a browser
def test_the_page_and_its_assets_need_no_key_and_the_data_does(server: Server, demo: str):
    anonymous = server.http(key=None)
    for path in ("/", "/web/static/app.js", "/web/static/style.css"):
        assert anonymous.get(path).status_code == 200, path
    vis = anonymous.get("/web/vendor/vis-network.min.js")
    assert vis.status_code == 200 and "vis" in vis.text[:2000] and len(vis.content) > 100_000
    assert anonymous.get("/web/vendor/vis-network.css").status_code == 200
    page = anonymous.get("/").text
    assert "http://" not in page.replace("http://www.w3.org", "")  # no asset from elsewhere
    for path in ("stats/documents", "passage?chunk_id=x", "graph/top-entities"):
        assert anonymous.get(f"/v1/workspaces/{demo}/{path}").status_code == 401, path


def test_the_page_s_reads(server: Server, demo: str):
    http = server.http()
    stats = http.get(f"/v1/workspaces/{demo}/stats/documents").json()
    assert sorted(Path(d["path"]).name for d in stats) == sorted(p.name for p in EXAMPLES.iterdir())
    assert all(d["chunks"] >= 1 and d["entities"] >= 1 and d["complete"] for d in stats)
    assert http.get("/v1/workspaces/never-made/stats/documents").json() == []

    chunk_id = f"{stats[0]['id']}:0"
    passage = http.get(f"/v1/workspaces/{demo}/passage", params={"chunk_id": chunk_id}).json()
    assert passage["chunk"]["id"] == chunk_id and passage["chunk"]["path"] == stats[0]["path"]
    missing = http.get(f"/v1/workspaces/{demo}/passage", params={"chunk_id": "nope:0"})
    assert missing.status_code == 404 and "nope:0" in missing.json()["detail"]

    top = http.get(f"/v1/workspaces/{demo}/graph/top-entities", params={"limit": 3}).json()
    assert len(top) == 3 and top[0]["mention_count"] >= top[-1]["mention_count"]
    assert http.get("/v1/workspaces/never-made/graph/top-entities").status_code == 404

    body = {"question": "Where did Pierre Curie teach?", "cited": [chunk_id]}
    graph = http.post(f"/v1/workspaces/{demo}/graph/answer", json=body).json()
    assert [s["key"] for s in graph["seeds"]] == ["pierre curie"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["entity:pierre curie"]["detail"]["seed"] is True
    assert nodes[f"chunk:{chunk_id}"]["detail"]["cited"] is True
    assert all(e["source"] in nodes and e["target"] in nodes for e in graph["edges"])
    empty = http.post(f"/v1/workspaces/{demo}/graph/answer", json={"question": " "})
    assert empty.status_code == 422


def test_the_neo4j_browser_guide_and_style(server: Server):
    anonymous = server.http(key=None)
    guide = anonymous.get("/neo4j/guide.html")
    assert guide.status_code == 200 and guide.headers["access-control-allow-origin"] == "*"
    assert guide.text.startswith('<article class="guide">')
    assert f'data-exec="style {server.url}/neo4j/kgrag.grass"' in guide.text
    preflight = anonymous.options(
        "/neo4j/guide.html",
        headers={
            "Origin": "http://localhost:7474",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "pragma,cache-control",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    grass = anonymous.get("/neo4j/kgrag.grass")
    assert grass.headers["access-control-allow-origin"] == "*"
    assert grass.text == (REPO / "infra" / "neo4j" / "kgrag.grass").read_text(encoding="utf-8")


# ---------------------------------------------------------------- in the browser
def test_the_page_asks_for_the_api_key(browser: BrowserContext, server: Server, demo: str):
    page = browser.new_page()
    page.goto(server.url)
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_selector("#key-form:not([hidden])")
    assert "API key" in page.inner_text("#status")
    page.fill("#api-key", KEY)
    page.click("#key-form button[type=submit]")
    page.wait_for_selector(f"#workspace option[value={demo}]", state="attached")
    assert page.is_hidden("#key-form")
    page.close()


def test_ask_streams_an_answer_and_opens_the_cited_passage(
    page: Page, server: Server, demo: str, tmp_path: Path
):
    choose_workspace(page, demo)
    page.fill("#question", "Where did Pierre Curie teach?")
    page.check("input[name=mode][value=fused]")
    page.click("#ask-button")
    page.wait_for_selector("#citations li", timeout=ANSWER_TIMEOUT_MS)
    assert page.inner_text("#answer-text").strip()
    assert int(page.get_attribute("#answer-text", "data-tokens") or 0) > 1  # streamed
    assert int(page.inner_text("#facts-count")) > 0  # the graph facts in the context
    assert "total" in page.inner_text("#timings")
    first = page.locator("#citations li").first
    chunk_id = first.get_attribute("data-chunk")
    assert chunk_id
    snap(page, tmp_path, "ask")

    first.locator("button.cite").click()
    mark = page.wait_for_selector("#passage[open] mark.cited")
    assert mark is not None
    expected = (
        server.http()
        .get(f"/v1/workspaces/{demo}/passage", params={"chunk_id": chunk_id})
        .json()["chunk"]
    )
    assert mark.text_content() == expected["text"]  # the cited span, highlighted
    assert [mark.get_attribute("data-start"), mark.get_attribute("data-end")] == [
        str(n) for n in expected["span"]
    ]
    assert page.inner_text("#passage-title") == (expected["title"] or expected["path"])
    assert expected["path"] in page.inner_text("#passage-path")
    highlight = page.evaluate(
        "getComputedStyle(document.querySelector('#passage mark.cited')).backgroundColor"
    )
    assert highlight not in ("rgba(0, 0, 0, 0)", "transparent")
    box = mark.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    snap(page, tmp_path, "passage")
    page.click("#passage-close")

    # The graph behind the answer: the question's seed entity and the cited passage.
    page.click("#answer-graph-button")
    page.wait_for_selector("#view-explore:not([hidden])")
    page.wait_for_selector("#graph[data-state=ready]")
    assert "Pierre Curie" in page.inner_text("#node-list li.seed")
    assert page.locator(f"#node-list li.cited[data-id='chunk:{chunk_id}']").count() == 1
    assert "entity:pierre curie" in node_ids(page)
    snap(page, tmp_path, "answer-graph")


def test_compare_modes_side_by_side(page: Page, server: Server, demo: str, tmp_path: Path):
    question = "Who discovered polonium and radium?"
    choose_workspace(page, demo)
    page.fill("#question", question)
    page.click("#compare-button")
    page.wait_for_function("document.querySelectorAll('.compare-col').length === 4")
    columns = page.locator(".compare-col")
    assert [columns.nth(i).get_attribute("data-mode") for i in range(4)] == MODES
    http = server.http()
    for i, mode in enumerate(MODES):
        hits = http.post(
            f"/v1/workspaces/{demo}/retrieve", json={"question": question, "mode": mode, "k": 5}
        ).json()["hits"]
        shown = columns.nth(i).locator("li a").all_inner_texts()
        assert shown == [h["title"] or h["path"] for h in hits], mode
    snap(page, tmp_path, "compare", full_page=True)


def test_explore_an_entity_and_expand_a_node(page: Page, server: Server, demo: str, tmp_path: Path):
    http = server.http()

    def neighbourhood(name: str) -> dict[str, Any]:
        view: dict[str, Any] = http.get(
            f"/v1/workspaces/{demo}/graph/entity", params={"name": name, "hops": 1}
        ).json()
        return view

    choose_workspace(page, demo)
    page.click("#tab-explore")
    page.wait_for_selector("#suggestions button")
    page.fill("#entity-name", "Warsaw")  # one passage: its neighbours lead further
    page.click("#entity-form button[type=submit]")
    view = neighbourhood("Warsaw")
    wait_for_graph(page, len(view["nodes"]))
    assert node_ids(page) == {n["id"] for n in view["nodes"]}
    drawn = page.evaluate("Object.keys(kgrag.network().getPositions())")
    assert set(drawn) == node_ids(page)  # every neighbour is laid out on the canvas
    listed = page.inner_text("#node-list")
    names = [" ".join(n["label"].split()) for n in view["nodes"] if n["kind"] == "entity"]
    assert [name for name in names if name not in listed] == []
    assert "Marie Curie" in listed

    # Expanding a neighbour adds its own neighbours.
    shown = node_ids(page)
    grows = {}
    for node in view["nodes"]:
        if node["kind"] == "entity" and node["id"] != view["center"]:
            more = {n["id"] for n in neighbourhood(node["detail"]["key"])["nodes"]} - shown
            if more:
                grows[node["id"]] = more
    assert grows, "no neighbour of Warsaw has neighbours of its own"
    target = most_apart(page, sorted(grows))
    click_node(page, target)
    wait_for_graph(page, len(shown | grows[target]))
    assert node_ids(page) == shown | grows[target]
    snap(page, tmp_path, "explore")

    # Chinese: an entity of the Chinese documents, and a passage read from the graph.
    page.fill("#entity-name", "青蒿素")
    page.click("#entity-form button[type=submit]")
    view = neighbourhood("青蒿素")
    wait_for_graph(page, len(view["nodes"]))
    assert "屠呦呦" in page.inner_text("#node-list")
    assert cjk_glyphs_render(page)
    chunks = [n["id"] for n in view["nodes"] if n["kind"] == "chunk"]
    click_node(page, most_apart(page, chunks))
    mark = page.wait_for_selector("#passage[open] mark.cited")
    assert mark is not None and "青蒿素" in (mark.text_content() or "")
    page.click("#passage-close")
    snap(page, tmp_path, "explore-zh")


def test_upload_a_file_and_see_it_listed(page: Page, server: Server, tmp_path: Path):
    english = tmp_path / "curie-notes.md"
    english.write_text(
        "# Curie notes\n\nIrène Joliot-Curie won the Nobel Prize in Chemistry in 1935 with "
        "Frédéric Joliot. She worked at the Radium Institute in Paris.\n",
        encoding="utf-8",
    )
    chinese = tmp_path / "居里夫人.txt"
    chinese.write_text("居里夫人出生于华沙，后来在巴黎大学工作。她发现了钋和镭。\n", "utf-8")

    page.click("#new-workspace")
    page.fill("#new-workspace-name", "webuploads")
    page.click("#new-workspace-form button[type=submit]")
    page.click("#tab-documents")
    page.wait_for_selector("#documents-empty:not([hidden])")
    page.set_input_files("#files", [str(english), str(chinese)])
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#documents tr:has-text('curie-notes.md')", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_selector("#documents tr:has-text('居里夫人.txt')")
    assert page.inner_text("#job-text").startswith("done: 2 indexed")
    assert page.locator("#documents tbody tr").count() == 2
    listed = 0
    for row in page.locator("#documents tbody tr").all():
        chunks, entities = (int(t) for t in row.locator("td.num").all_inner_texts())
        assert chunks >= 1 and entities >= 1
        listed += chunks
    # the bar counted the job's chunks, all of them done
    bar = page.locator("#job-progress")
    assert bar.evaluate("b => [b.value, b.max]") == [listed, listed]
    assert "webuploads" in page.locator("#workspace option").all_inner_texts()
    snap(page, tmp_path, "documents")

    # Delete one (two clicks: the first asks).
    row = page.locator("#documents tr:has-text('curie-notes.md')")
    row.locator("button.danger").click()
    row.locator("button.danger.confirm").click()
    page.wait_for_selector("#documents tr:has-text('curie-notes.md')", state="detached")
    docs = server.http().get("/v1/workspaces/webuploads/documents").json()
    assert [Path(d["path"]).name for d in docs] == ["居里夫人.txt"]


def test_every_view_fits_a_phone_width_window(
    browser: BrowserContext, server: Server, demo: str, tmp_path: Path
):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    page.add_init_script(f"localStorage.setItem('kgrag-api-key', {KEY!r})")
    page.goto(server.url)
    page.wait_for_selector("#workspace option", state="attached")
    choose_workspace(page, demo)
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(fits), "ask"
    page.click("#tab-documents")
    page.wait_for_selector("#documents tbody tr")
    assert page.evaluate(fits), "documents"
    page.click("#tab-explore")
    page.fill("#entity-name", "Marie Curie")
    page.click("#entity-form button[type=submit]")
    page.wait_for_selector("#graph[data-state=ready]")
    assert page.evaluate(fits), "explore"
    graph = page.locator("#graph").bounding_box()
    assert graph is not None and graph["width"] <= PHONE["width"] and graph["height"] > 200
    snap(page, tmp_path, "phone-explore")
    page.close()

// kgrag's web page: ask, explore the graph, manage documents. Plain JavaScript over the
// JSON API of `kgrag serve`; the graph drawing is vis-network (served by kgrag from the
// pyvis package). No framework, no build step.
"use strict";

const MODES = ["fused", "dense", "keyword", "graph"];
const KEY_STORE = "kgrag-api-key";
const WORKSPACE_STORE = "kgrag-workspace";
const POLL_MS = 500;

const state = {
  workspace: "",
  answer: null, // the last answer event, with the question and mode it answered
  network: null,
  nodes: null,
  edges: null,
  expanded: new Set(),
};

// ------------------------------------------------------------------ small helpers
const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "onclick") node.addEventListener("click", value);
    else if (name === "text") node.textContent = value;
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function setStatus(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function shorten(text, length) {
  const flat = (text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

function ms(value) {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

// ------------------------------------------------------------------ the API
function headers(extra = {}) {
  const key = localStorage.getItem(KEY_STORE);
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

function wsPath(rest) {
  return `/v1/workspaces/${encodeURIComponent(state.workspace)}${rest}`;
}

async function failure(response) {
  if (response.status === 401) $("#key-form").hidden = false;
  let detail = `${response.status} ${response.statusText}`;
  try {
    detail = (await response.json()).detail || detail;
  } catch (_) {
    // not JSON: keep the status line
  }
  return new Error(detail);
}

async function api(method, path, body) {
  const init = { method, headers: headers() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers = headers({ "Content-Type": "application/json" });
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Server-Sent Events over a POST (EventSource can only GET): `token` events, then one
// `answer` (or `error`) event. Calls onEvent(name, data) for each.
async function postEvents(path, body, onEvent) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) onEvent(event.name, event.data);
    }
    if (done) return;
  }
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return data.length ? { name, data: JSON.parse(data.join("\n")) } : null;
}

// ------------------------------------------------------------------ views and workspaces
function showView(name) {
  for (const tab of document.querySelectorAll(".tabs button")) {
    const selected = tab.dataset.view === name;
    tab.setAttribute("aria-selected", String(selected));
    $(`#view-${tab.dataset.view}`).hidden = !selected;
  }
  setStatus("");
  if (name === "documents") loadDocuments();
  if (name === "explore") {
    loadSuggestions();
    if (state.network) state.network.redraw();
  }
}

async function loadWorkspaces(selected) {
  const names = await api("GET", "/v1/workspaces");
  const wanted = selected || state.workspace || localStorage.getItem(WORKSPACE_STORE);
  if (wanted && !names.includes(wanted)) names.push(wanted);
  const select = $("#workspace");
  select.replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
  if (names.length) selectWorkspace(names.includes(wanted) ? wanted : names[0]);
  else setStatus("No workspace yet: add one (+) and upload files under Documents.");
}

function selectWorkspace(name) {
  state.workspace = name;
  $("#workspace").value = name;
  localStorage.setItem(WORKSPACE_STORE, name);
  clearGraph();
  if (!$("#view-documents").hidden) loadDocuments();
  if (!$("#view-explore").hidden) loadSuggestions();
}

function addWorkspace(event) {
  event.preventDefault();
  const name = $("#new-workspace-name").value.trim();
  const select = $("#workspace");
  if (![...select.options].some((o) => o.value === name)) {
    select.append(el("option", { value: name, text: name }));
  }
  selectWorkspace(name);
  $("#new-workspace-form").hidden = true;
  setStatus(`Workspace ${name}: upload files under Documents to fill it.`);
}

function useKey(event) {
  event.preventDefault();
  localStorage.setItem(KEY_STORE, $("#api-key").value);
  $("#key-form").hidden = true;
  loadWorkspaces().catch((error) => setStatus(error.message, true));
}

// ------------------------------------------------------------------ ask
function chosenMode() {
  return document.querySelector("input[name=mode]:checked").value;
}

async function ask(event) {
  event.preventDefault();
  if (!state.workspace) return setStatus("Choose a workspace first.", true);
  const question = $("#question").value.trim();
  const mode = chosenMode();
  const text = $("#answer-text");
  $("#answer").hidden = false;
  $("#compare").hidden = true;
  resetAnswer();
  text.classList.add("streaming");
  $("#ask-button").disabled = true;
  setStatus(`Asking (${mode})…`);
  try {
    await postEvents(wsPath("/ask"), { question, mode, stream: true }, (name, data) => {
      if (name === "token") addToken(text, data.text);
      else if (name === "answer") renderAnswer({ ...data, mode });
      else if (name === "error") throw new Error(data.detail);
    });
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    text.classList.remove("streaming");
    $("#ask-button").disabled = false;
  }
}

function addToken(box, piece) {
  box.textContent += piece;
  box.dataset.tokens = String(Number(box.dataset.tokens || 0) + 1);
}

function resetAnswer() {
  state.answer = null;
  $("#answer-text").textContent = "";
  $("#answer-text").dataset.tokens = "0";
  $("#answer-refused").hidden = true;
  $("#citations").replaceChildren();
  $("#facts").replaceChildren();
  $("#facts-count").textContent = "0";
  $("#timings").textContent = "";
  $("#answer-graph-button").disabled = true;
}

function renderAnswer(answer) {
  state.answer = answer;
  const byNumber = new Map(answer.citations.map((c) => [c.n, c]));
  $("#answer-text").replaceChildren(...withCitations(answer.text, byNumber));
  $("#answer-refused").hidden = !answer.refused;
  // Every source the answer was drawn from, the ones its text cites first and marked.
  const cited = new Set(answer.citations.map((c) => c.chunk_id));
  const sources = answer.sources && answer.sources.length ? answer.sources : answer.citations;
  const ordered = [...sources.filter((s) => cited.has(s.chunk_id)), ...sources.filter((s) => !cited.has(s.chunk_id))];
  $("#citations").replaceChildren(
    ...ordered.map((s) => citationItem(s, cited.has(s.chunk_id))),
  );
  $("#facts").replaceChildren(...answer.facts.map((f) => el("li", { text: f })));
  $("#facts-count").textContent = String(answer.facts.length);
  $("#timings").textContent = timingsLine(answer.timings);
  $("#answer-graph-button").disabled = false;
  setStatus(`Answered citing ${answer.citations.length} of ${sources.length} source(s).`);
}

// The answer's text with each [n] (or [n, m]) of a known citation as a button.
function withCitations(text, byNumber) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+(?:\s*[,，]\s*\d+)*)\]/g)) {
    const numbers = match[1].split(/[,，]/).map((n) => Number(n.trim()));
    if (!numbers.every((n) => byNumber.has(n))) continue;
    parts.push(text.slice(last, match.index));
    for (const n of numbers) parts.push(citeButton(byNumber.get(n)));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function citeButton(citation) {
  return el("button", {
    type: "button",
    class: "cite",
    "data-n": citation.n,
    title: citation.title || citation.path,
    text: `[${citation.n}]`,
    onclick: () => openPassage(citation.chunk_id),
  });
}

function citationItem(citation, cited = true) {
  return el(
    "li",
    { "data-chunk": citation.chunk_id, class: cited ? "cited" : "uncited" },
    citeButton(citation),
    " ",
    el("span", { class: "title", text: citation.title || "(untitled)" }),
    " ",
    el("span", { class: "path", text: citation.path }),
  );
}

function timingsLine(timings) {
  const order = ["total_ms", "retrieve_ms", "generate_ms"];
  const keys = [...order.filter((k) => k in timings), ...Object.keys(timings).filter((k) => !order.includes(k))];
  return keys.map((k) => `${k.replace(/_ms$/, "")} ${ms(timings[k])}`).join(" · ");
}

// ------------------------------------------------------------------ passages
async function openPassage(chunkId) {
  try {
    const passage = await api("GET", wsPath(`/passage?chunk_id=${encodeURIComponent(chunkId)}`));
    showPassage(passage);
  } catch (error) {
    setStatus(error.message, true);
  }
}

// The cited chunk, marked, between the text of the chunks around it (their overlap with
// it cut, by the document offsets of each).
function showPassage({ chunk, before, after }) {
  const [start, end] = chunk.span;
  const parts = [];
  if (before) parts.push(el("span", { class: "context", text: before.text.slice(0, Math.max(0, start - before.span[0])) }));
  parts.push(el("mark", { class: "cited", "data-start": start, "data-end": end, text: chunk.text }));
  if (after) parts.push(el("span", { class: "context", text: after.text.slice(Math.max(0, end - after.span[0])) }));
  $("#passage-title").textContent = chunk.title || chunk.path;
  $("#passage-path").textContent = `${chunk.path} · characters ${start}–${end}`;
  $("#passage-text").replaceChildren(...parts);
  const dialog = $("#passage");
  if (!dialog.open) dialog.showModal();
  dialog.querySelector("mark").scrollIntoView({ block: "center" });
}

// ------------------------------------------------------------------ compare modes
async function compareModes() {
  const question = $("#question").value.trim();
  if (!state.workspace) return setStatus("Choose a workspace first.", true);
  if (!question) return setStatus("Type a question first.", true);
  $("#compare").hidden = false;
  $("#compare-button").disabled = true;
  setStatus("Retrieving with every mode…");
  try {
    const results = await Promise.all(
      MODES.map((mode) => api("POST", wsPath("/retrieve"), { question, mode, k: 5 })),
    );
    const counts = new Map();
    for (const r of results) for (const h of r.hits) counts.set(h.chunk_id, (counts.get(h.chunk_id) || 0) + 1);
    $("#compare-grid").replaceChildren(...results.map((r, i) => compareColumn(MODES[i], r, counts)));
    setStatus("Top 5 hits of each mode; bold: found by every mode.");
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    $("#compare-button").disabled = false;
  }
}

function compareColumn(mode, retrieval, counts) {
  const total = Object.values(retrieval.timings).reduce((a, b) => a + b, 0);
  const items = retrieval.hits.map((hit) =>
    el(
      "li",
      { class: counts.get(hit.chunk_id) === MODES.length ? "in-all" : null },
      el("a", { href: "#", text: hit.title || hit.path, onclick: (e) => { e.preventDefault(); openPassage(hit.chunk_id); } }),
      ` ${hit.score.toFixed(3)}`,
      el("span", { class: "snippet", text: shorten(hit.text, 110) }),
    ),
  );
  return el(
    "div",
    { class: "compare-col", "data-mode": mode },
    el("h3", { text: `${mode} ` }, el("span", { class: "count", text: ms(total) })),
    items.length ? el("ol", {}, ...items) : el("p", { class: "hint", text: "no hits" }),
  );
}

// ------------------------------------------------------------------ the graph
const GRAPH_OPTIONS = {
  nodes: { font: { size: 14, face: "system-ui, 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif" } },
  edges: { smooth: false, font: { size: 11, align: "middle", strokeWidth: 3 }, selectionWidth: 2 },
  physics: {
    solver: "forceAtlas2Based",
    forceAtlas2Based: { gravitationalConstant: -60, springLength: 110 },
    stabilization: { iterations: 150, updateInterval: 50 },
  },
  interaction: { hover: true, tooltipDelay: 150 },
};

function ensureNetwork() {
  if (state.network) return;
  state.nodes = new vis.DataSet();
  state.edges = new vis.DataSet();
  const data = { nodes: state.nodes, edges: state.edges };
  state.network = new vis.Network($("#graph"), data, GRAPH_OPTIONS);
  state.network.on("click", (params) => {
    if (params.nodes.length) activate(params.nodes[0]);
  });
  state.network.on("stabilizationIterationsDone", settled);
}

// After a layout: stop the physics (nodes stay where the user can click them).
function settled() {
  state.network.setOptions({ physics: { enabled: false } });
  const graph = $("#graph");
  graph.dataset.state = "ready";
  graph.dataset.nodes = String(state.nodes.length);
}

function relayout() {
  $("#graph").dataset.state = "layout";
  state.network.setOptions({ physics: { enabled: true } });
  state.network.stabilize(GRAPH_OPTIONS.physics.stabilization.iterations);
}

function clearGraph() {
  state.expanded.clear();
  if (state.nodes) {
    state.nodes.clear();
    state.edges.clear();
  }
  $("#graph").dataset.state = "empty";
  $("#node-list").replaceChildren();
  $("#node-count").textContent = "";
}

function nodeStyle(node, marks) {
  const d = node.detail;
  const seed = Boolean(d.seed) || marks.seeds.has(node.id);
  const cited = Boolean(d.cited);
  const style = node.kind === "entity"
    ? { shape: "dot", size: 10 + 4 * Math.log2(1 + (d.mentions || 1)), color: { background: "#f79767", border: "#f36924" } }
    : { shape: "box", margin: 6, color: { background: cited ? "#ffd54f" : "#e7c6e1", border: cited ? "#e6a700" : "#b261a5" } };
  if (seed) style.color = { ...style.color, border: "#d62728" };
  return {
    ...style,
    id: node.id,
    label: nodeLabel(node),
    title: nodeTitle(node),
    borderWidth: seed ? 4 : node.id === marks.center ? 3 : 1,
    font: node.id === marks.center ? { size: 16, bold: true } : undefined,
    kind: node.kind,
    detail: d,
    seed,
    cited,
  };
}

function nodeLabel(node) {
  if (node.kind === "entity") return node.label;
  const idx = String(node.detail.chunk_id || "").split(":").pop();
  return `${shorten(node.label, 28)} #${idx}`;
}

function nodeTitle(node) {
  const d = node.detail;
  if (node.kind === "entity") {
    const lines = [node.label, `mentioned in ${d.mentions || 0} passage(s)`];
    if (d.seed) lines.push(`seed (${d.linked_by} ${d.confidence}) from “${d.linked_from}”`);
    if (d.score) lines.push(`walk score ${d.score}`);
    return lines.join("\n");
  }
  return `${d.path}\n${shorten(d.text, 160)}`;
}

function edgeStyle(edge) {
  const id = `${edge.source}|${edge.kind}|${edge.label}|${edge.target}`;
  const base = { id, from: edge.source, to: edge.target, title: edge.sentence || edge.label || edge.kind };
  if (edge.kind === "RELATION") {
    return { ...base, label: edge.label, color: "#f16667", width: 2, arrows: "to" };
  }
  if (edge.kind === "SAME_AS") {
    return { ...base, label: `same as ${edge.label}`, color: "#8dcc93", dashes: true, width: 2 };
  }
  return { ...base, color: { color: "#c5c9d0", highlight: "#8a8f99" }, width: 1 };
}

// Add a view (nodes and edges from the API) to the drawing; new nodes start where
// `near` is, so an expansion grows out of the node expanded.
function addView(view, marks, near) {
  ensureNetwork();
  const fresh = view.nodes.filter((n) => !state.nodes.get(n.id));
  const styled = view.nodes.map((n) => nodeStyle(n, marks));
  if (near) {
    for (const node of styled) {
      if (fresh.some((f) => f.id === node.id)) {
        node.x = near.x + (Math.random() - 0.5) * 80;
        node.y = near.y + (Math.random() - 0.5) * 80;
      }
    }
  }
  state.nodes.update(styled);
  state.edges.update(view.edges.map(edgeStyle));
  renderNodeList();
  relayout();
  return fresh.length;
}

function renderNodeList() {
  const nodes = state.nodes.get().sort((a, b) => (b.seed - a.seed) || a.kind.localeCompare(b.kind) || a.label.localeCompare(b.label));
  $("#node-list").replaceChildren(...nodes.map((n) => {
    const classes = [n.kind, n.seed ? "seed" : "", n.cited ? "cited" : ""].join(" ").trim();
    return el("li", { class: classes, "data-id": n.id },
      el("button", { type: "button", text: n.label, onclick: () => activate(n.id) }));
  }));
  $("#node-count").textContent = `(${nodes.length})`;
}

// A click on a node: an entity is expanded, a passage opened.
function activate(id) {
  const node = state.nodes.get(id);
  if (!node) return;
  state.network.selectNodes([id]);
  showNodeInfo(node);
  if (node.kind === "entity") expand(node);
  else openPassage(node.detail.chunk_id);
}

function showNodeInfo(node) {
  const d = node.detail;
  const info = [el("h3", { text: node.label })];
  if (node.kind === "entity") {
    info.push(el("p", { text: `Entity · mentioned in ${d.mentions || 0} passage(s)` }));
    if (d.seed) info.push(el("p", { text: `Seed of the walk: ${d.linked_by} link (${d.confidence}) from “${d.linked_from}”` }));
  } else {
    info.push(el("p", { class: "path", text: d.path }), el("p", { text: shorten(d.text, 300) }));
    info.push(el("button", { type: "button", text: "Read the passage", onclick: () => openPassage(d.chunk_id) }));
  }
  $("#node-info").replaceChildren(...info);
}

async function searchEntity(name) {
  if (!name) return;
  setStatus(`Looking up ${name}…`);
  try {
    const hops = $("#hops").value;
    const view = await api("GET", wsPath(`/graph/entity?name=${encodeURIComponent(name)}&hops=${hops}`));
    clearGraph();
    state.expanded.add(view.center);
    addView(view, { center: view.center, seeds: new Set() });
    const center = state.nodes.get(view.center);
    if (center) showNodeInfo(center);
    setStatus(`${center ? center.label : name}: ${view.nodes.length} nodes, ${view.edges.length} edges.`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function expand(node) {
  if (state.expanded.has(node.id)) {
    setStatus(`${node.label} is already expanded.`);
    return;
  }
  setStatus(`Expanding ${node.label}…`);
  try {
    const view = await api("GET", wsPath(`/graph/entity?name=${encodeURIComponent(node.detail.key || node.label)}&hops=1`));
    state.expanded.add(node.id);
    const position = state.network.getPositions([node.id])[node.id];
    const added = addView(view, { center: null, seeds: new Set() }, position);
    setStatus(`${node.label}: ${added} new node(s).`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function loadSuggestions() {
  if (!state.workspace) return;
  try {
    const entities = await api("GET", wsPath("/graph/top-entities?limit=12"));
    $("#suggestions").replaceChildren(...entities.map((e) =>
      el("button", { type: "button", text: e.name, title: `${e.type} · ${e.mention_count} passage(s)`, onclick: () => {
        $("#entity-name").value = e.name;
        searchEntity(e.name);
      } })));
  } catch (_) {
    $("#suggestions").replaceChildren(); // a workspace without data has none
  }
}

// The graph walk behind the last answer: its seeds and best nodes, cited passages marked.
async function showAnswerGraph() {
  const answer = state.answer;
  if (!answer) return;
  setStatus("Drawing the graph behind the answer…");
  try {
    // The passages the text cites; when it cites none, those it was drawn from.
    const used = answer.citations.length ? answer.citations : answer.sources || [];
    const cited = used.map((c) => c.chunk_id);
    const view = await api("POST", wsPath("/graph/answer"), { question: answer.question, k: Math.max(5, cited.length), cited });
    showView("explore");
    clearGraph();
    const seeds = new Set(view.seeds.map((s) => `entity:${s.key}`));
    addView(view, { center: null, seeds });
    $("#node-info").replaceChildren(
      el("h3", { text: "The graph behind the answer" }),
      el("p", { text: `“${answer.question}”` }),
      el("p", { text: view.seeds.length ? `Seeds: ${view.seeds.map((s) => s.mention || s.key).join(", ")}` : "No entity of the question was linked: the walk started from the dense hits." }),
    );
    setStatus(`${view.seeds.length} seed(s), ${view.nodes.length} nodes, ${view.edges.length} edges.`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

// ------------------------------------------------------------------ documents
async function loadDocuments() {
  if (!state.workspace) return;
  try {
    const docs = await api("GET", wsPath("/stats/documents"));
    $("#documents tbody").replaceChildren(...docs.map(documentRow));
    $("#documents-empty").hidden = docs.length > 0;
  } catch (error) {
    setStatus(error.message, true);
  }
}

function documentRow(doc) {
  const name = el("td", {},
    el("div", { class: "title", text: doc.title || "(untitled)" }),
    el("div", { class: "path", text: doc.path }),
    doc.complete ? null : el("div", { class: "incomplete", text: "incomplete: the next ingestion finishes it" }));
  return el("tr", { "data-id": doc.id },
    name,
    el("td", { text: doc.lang }),
    el("td", { class: "num", text: String(doc.chunks) }),
    el("td", { class: "num", text: String(doc.entities) }),
    el("td", {}, deleteButton(doc)));
}

// Two clicks: the first asks, the second deletes.
function deleteButton(doc) {
  const button = el("button", { type: "button", class: "danger", text: "Delete" });
  button.addEventListener("click", async () => {
    if (!button.classList.contains("confirm")) {
      button.classList.add("confirm");
      button.textContent = "Delete?";
      setTimeout(() => { button.classList.remove("confirm"); button.textContent = "Delete"; }, 4000);
      return;
    }
    button.disabled = true;
    try {
      await api("DELETE", wsPath(`/documents/${encodeURIComponent(doc.id)}`));
      setStatus(`Deleted ${doc.title || doc.path}.`);
      loadDocuments();
    } catch (error) {
      setStatus(error.message, true);
      button.disabled = false;
    }
  });
  return button;
}

async function upload(event) {
  event.preventDefault();
  const files = $("#files").files;
  if (!state.workspace || !files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.webkitRelativePath || file.name);
  try {
    const { jobs } = await api("POST", wsPath("/upload"), form);
    $("#upload-form").reset();
    await followJob(jobs[0].id);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function followJob(id) {
  const box = $("#job");
  box.hidden = false;
  box.classList.remove("failed");
  for (;;) {
    const job = await api("GET", `/v1/jobs/${encodeURIComponent(id)}`);
    showJob(job);
    if (job.state === "done" || job.state === "failed") break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  await loadWorkspaces(state.workspace);
  await loadDocuments();
}

function showJob(job) {
  // chunks move inside a long file, files only when one is written
  const progress = $("#job-progress");
  const chunks = job.chunks_total > 0;
  progress.max = Math.max(chunks ? job.chunks_total : job.files_total, 1);
  progress.value = chunks ? job.chunks_done : job.files_done;
  const failed = job.failed.map(([path, reason]) => `${path}: ${reason}`);
  let text = `${job.state}: ${job.files_done}/${job.files_total || "?"} file(s)`;
  if (chunks) text += `, ${job.chunks_done}/${job.chunks_total} chunks`;
  if (job.state === "done" && job.report) text = `done: ${job.report.indexed} indexed, ${job.report.unchanged} unchanged`;
  if (job.state === "failed") text = `failed: ${job.error}`;
  if (failed.length) text += ` · failed: ${failed.join("; ")}`;
  $("#job-text").textContent = text;
  $("#job").classList.toggle("failed", job.state === "failed" || failed.length > 0);
}

// ------------------------------------------------------------------ start
function init() {
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  $("#workspace").addEventListener("change", (e) => selectWorkspace(e.target.value));
  $("#new-workspace").addEventListener("click", () => {
    $("#new-workspace-form").hidden = false;
    $("#new-workspace-name").focus();
  });
  $("#new-workspace-form").addEventListener("submit", addWorkspace);
  $("#key-form").addEventListener("submit", useKey);
  $("#ask-form").addEventListener("submit", ask);
  $("#compare-button").addEventListener("click", compareModes);
  $("#answer-graph-button").addEventListener("click", showAnswerGraph);
  $("#entity-form").addEventListener("submit", (e) => {
    e.preventDefault();
    searchEntity($("#entity-name").value.trim());
  });
  $("#upload-form").addEventListener("submit", upload);
  $("#passage-close").addEventListener("click", () => $("#passage").close());
  if (typeof vis === "undefined") setStatus("The graph library did not load: is pyvis installed?", true);
  loadWorkspaces().catch((error) => setStatus(error.message, true));
}

// For the browser tests and the curious: the drawing's nodes, positions and clicks.
window.kgrag = {
  network: () => state.network,
  nodeIds: () => (state.nodes ? state.nodes.getIds() : []),
};

init();

// The page of `rxresponses web`: start a stream, or watch one (/streams/{id}), and show its
// items as they arrive. EventSource reconnects by itself with Last-Event-ID, so a dropped
// connection resumes after the last item seen. Item types this page does not know are ignored.
"use strict";
(() => {
  const TYPES = [
    "start", "metadata", "part_start", "text", "refusal", "reasoning", "citation",
    "encrypted_reasoning", "compaction", "tool_request_start", "tool_request_arg",
    "tool_request_complete", "tool_result", "approval_request", "usage", "error", "done",
  ];
  const $ = (id) => document.getElementById(id);
  const answer = $("answer"), meta = $("meta"), end = $("end"), status = $("status");
  const form = $("ask"), prompt = $("prompt"), send = $("send"), stop = $("stop");

  // What this tab received: positions as they came (repeats would show here) and the items.
  const state = { id: null, source: null, positions: [], items: [], last: 0, part: null, tools: new Map() };
  window.rxresponses = state;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function setStatus(text) { status.textContent = text; }
  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
  }

  function reset() {
    if (state.source) state.source.close();
    Object.assign(state, { id: null, source: null, positions: [], items: [], last: 0, part: null });
    state.tools = new Map();
    answer.replaceChildren();
    meta.textContent = "";
    end.textContent = "";
  }

  // A part: a block that the chunks after its part_start go to.
  function openPart(kind, phase) {
    let node, body;
    if (kind === "reasoning" || kind === "reasoning_summary") {
      node = el("details", "part reasoning");
      node.append(el("summary", null, kind === "reasoning" ? "Reasoning" : "Reasoning summary"));
    } else {
      node = el("section", `part ${kind}`);
      if (kind === "refusal") node.append(el("div", "label", "Refusal"));
      else if (phase === "commentary") { node.classList.add("commentary"); node.append(el("div", "label", "Commentary")); }
    }
    body = el("div", "body");
    node.append(body);
    answer.append(node);
    state.part = { kind: kind === "reasoning_summary" ? "reasoning" : kind, node, body, citations: null };
    return state.part;
  }
  function partFor(kind) {
    return state.part && state.part.kind === kind ? state.part : openPart(kind, null);
  }

  function toolCard(id, name) {
    let card = state.tools.get(id);
    if (!card) {
      const node = el("section", "tool pending");
      const head = el("div");
      const title = el("span", "name", name || "tool");
      const badge = el("span", "badge", "");
      const stateLabel = el("span", "badge state", "calling");
      head.append(title, badge, stateLabel);
      const args = el("pre", "args");
      node.append(head, args);
      answer.append(node);
      card = { node, title, badge, stateLabel, args, result: null };
      state.tools.set(id, card);
    }
    return card;
  }

  const render = {
    metadata(item) {
      meta.textContent = `response ${item.response_id}` + (item.model ? ` · model ${item.model}` : "");
    },
    part_start(item) { openPart(item.kind, item.phase); },
    text(item) { partFor("text").body.append(item.chunk); },
    refusal(item) { partFor("refusal").body.append(item.chunk); },
    reasoning(item) { partFor("reasoning").body.append(item.chunk); },
    citation(item) {
      const part = state.part || openPart("text", null);
      if (!part.citations) { part.citations = el("ol", "citations"); part.node.append(part.citations); }
      const entry = el("li");
      const label = item.title || item.filename || item.url || item.file_id || "source";
      if (item.url && /^https?:\/\//i.test(item.url)) {
        const link = el("a", null, label);
        link.href = item.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        entry.append(link);
      } else if (item.url || item.file_id) {
        entry.append(label);
      }
      if (item.quote) entry.append(" ", el("q", null, item.quote));
      part.citations.append(entry);
    },
    encrypted_reasoning(item) {
      answer.append(el("p", "note", `encrypted reasoning kept for the next turn (${item.content.length} characters)`));
    },
    compaction(item) {
      answer.append(el("p", "note", `compacted context kept for the next turn (${item.content.length} characters)`));
    },
    tool_request_start(item) {
      const card = toolCard(item.id, item.name);
      card.badge.textContent = item.provider_executed ? "run by the server" : "for the caller";
    },
    tool_request_arg(item) { toolCard(item.id, null).args.append(item.chunk); },
    tool_request_complete(item) {
      const call = item.tool_call;
      const card = toolCard(call.id, call.name);
      card.title.textContent = call.namespace ? `${call.namespace}.${call.name}` : call.name;
      card.args.textContent = call.kind === "custom" ? call.arguments : pretty(call.arguments);
      card.node.classList.remove("pending");
      card.stateLabel.textContent = call.partial ? "incomplete" : "complete";
      card.node.dataset.callId = call.call_id || "";
    },
    tool_result(item) {
      const card = toolCard(item.id, item.name);
      if (!card.result) { card.result = el("pre", "result"); card.node.append(card.result); }
      card.result.textContent = pretty(item.output);
      card.result.classList.toggle("is-error", item.is_error);
      card.stateLabel.textContent = item.preliminary ? "preliminary result" : (item.is_error ? "failed" : "result");
    },
    approval_request(item) {
      toolCard(item.tool_id, null).stateLabel.textContent = "waiting for approval";
    },
    usage(item) {
      const t = item.tokens;
      const extra = [
        t.reasoning_tokens != null ? `reasoning ${t.reasoning_tokens}` : null,
        t.cache_read_tokens != null ? `cached ${t.cache_read_tokens}` : null,
      ].filter(Boolean).join(", ");
      const usage = el("span", "usage", `tokens: ${t.input_tokens} in · ${t.output_tokens} out` + (extra ? ` (${extra})` : ""));
      end.append(usage);
    },
    error(item) {
      const box = el("div", "error");
      box.setAttribute("role", "alert");
      box.dataset.kind = item.kind;
      box.append(el("strong", null, item.kind.replace(/_/g, " ")), ": ", item.message);
      if (item.status != null) box.append(` (HTTP ${item.status})`);
      answer.append(box);
    },
    done(item) {
      if (end.childNodes.length) end.append(" · ");
      end.append(el("span", "stop-reason", `stop reason: ${item.stop_reason || "none"}`));
      end.dataset.done = "true";
      finish("done");
    },
  };

  function finish(text) {
    if (state.source) state.source.close();
    state.source = null;
    stop.disabled = true;
    send.disabled = false;
    setStatus(text);
  }

  function receive(type, event) {
    // EventSource fires its own "error" events (connection lost) too: those carry no item.
    if (!(event instanceof MessageEvent) || typeof event.data !== "string") return;
    const position = Number(event.lastEventId);
    state.positions.push(position);
    if (position <= state.last) return;  // already shown
    state.last = position;
    let item;
    try { item = JSON.parse(event.data); } catch { return; }
    state.items.push(item);
    const show = render[type];
    if (show) show(item);
  }

  function watch(id) {
    reset();
    state.id = id;
    stop.disabled = false;
    send.disabled = true;
    setStatus("connecting…");
    const source = new EventSource(`/streams/${encodeURIComponent(id)}/events`);
    state.source = source;
    for (const type of TYPES) source.addEventListener(type, (event) => receive(type, event));
    source.onopen = () => setStatus("streaming");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        finish(state.last ? "disconnected" : "no such stream");
      } else {
        setStatus("reconnecting…");
      }
    };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = prompt.value.trim();
    if (!input) return;
    send.disabled = true;
    setStatus("starting…");
    try {
      const response = await fetch("/streams", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ input }),
      });
      const body = await response.json();
      if (response.status !== 201) throw new Error(body.error || `HTTP ${response.status}`);
      history.pushState({ id: body.id }, "", `/streams/${body.id}`);
      watch(body.id);
    } catch (error) {
      send.disabled = false;
      setStatus("ready");
      answer.replaceChildren(el("div", "error", `could not start: ${error.message}`));
    }
  });

  stop.addEventListener("click", async () => {
    if (!state.id) return;
    stop.disabled = true;
    setStatus("stopping…");
    await fetch(`/streams/${encodeURIComponent(state.id)}/cancel`, { method: "POST" });
  });

  const shown = location.pathname.match(/^\/streams\/([^/]+)$/);
  if (shown) watch(decodeURIComponent(shown[1]));
})();

// demo_page: see demo_page.h.
#include "ws/demo_page.h"

#include "text/http_text.h"
#include "ws/upgrade.h"

namespace wsgated::ws {
namespace {

constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsgated demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .row { display: flex; gap: .5rem; margin: .6rem 0; }
  input[type=text] { flex: 1; padding: .4rem; font: inherit; }
  button { padding: .4rem .9rem; font: inherit; }
  #state { font-weight: 600; }
  #state.open { color: #17803d; } #state.closed { color: #b42318; } #state.connecting { color: #b54708; }
  #log { list-style: none; padding: 0; border: 1px solid #ddd; min-height: 10rem; max-height: 24rem; overflow-y: auto; }
  #log li { padding: .2rem .5rem; border-bottom: 1px solid #f0f0f0; font-family: ui-monospace, monospace; font-size: 13px; }
  #log li.in { color: #175cd3; } #log li.out { color: #444; } #log li.event { color: #777; font-style: italic; }
  .muted { color: #777; font-size: 13px; }
</style>
</head>
<body>
<h1>wsgated</h1>
<p class="muted">This page is served by wsgated because <code>server.demo_page</code> is set. It opens a
WebSocket to a route of this gateway and shows what comes back. Turn it off for production.</p>
<div class="row">
  <input type="text" id="url" aria-label="WebSocket URL">
  <button id="connect">Connect</button>
</div>
<p>State: <span id="state" class="closed">closed</span> &middot; last round trip: <span id="rtt">&ndash;</span>
  &middot; messages in: <span id="count">0</span></p>
<div class="row">
  <input type="text" id="message" value="hello, wsgated" aria-label="Message">
  <button id="send" disabled>Send</button>
</div>
<ul id="log"></ul>
<p class="muted">The round trip is measured by this page (send to echo). The gateway's own heartbeat
round trip per connection is in <code>GET /v1/connections/{id}</code> and the
<code>wsgate_ping_rtt_seconds</code> metric on the admin listener.</p>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
$("url").value = new URLSearchParams(location.search).get("url") || `${scheme}//${location.host}/echo`;
let ws = null, sent = [], received = 0;

function log(text, kind) {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = `${new Date().toISOString().slice(11, 23)}  ${text}`;
  $("log").prepend(li);
}
function setState(s) { $("state").textContent = s; $("state").className = s; $("send").disabled = s !== "open"; }

function connect() {
  if (ws) { ws.close(1000, "bye"); return; }
  setState("connecting");
  ws = new WebSocket($("url").value);
  $("connect").textContent = "Disconnect";
  ws.onopen = () => { setState("open"); log(`open ${ws.url}${ws.protocol ? " (" + ws.protocol + ")" : ""}`, "event"); };
  ws.onmessage = (e) => {
    received += 1;
    $("count").textContent = String(received);
    const text = typeof e.data === "string" ? e.data : `(${e.data.size} binary bytes)`;
    const i = sent.findIndex((s) => s.text === text);
    if (i >= 0) { $("rtt").textContent = `${(performance.now() - sent[i].at).toFixed(1)} ms`; sent.splice(i, 1); }
    log(`< ${text}`, "in");
  };
  ws.onclose = (e) => {
    log(`closed: code ${e.code}${e.reason ? " \u201c" + e.reason + "\u201d" : ""}${e.wasClean ? "" : " (not clean)"}`, "event");
    ws = null; setState("closed"); $("connect").textContent = "Connect";
  };
  ws.onerror = () => log("error (the browser tells no more; see wsgated's log)", "event");
}
function send() {
  const text = $("message").value;
  sent.push({ text, at: performance.now() });
  if (sent.length > 100) sent.shift();
  ws.send(text);
  log(`> ${text}`, "out");
}
$("connect").onclick = connect;
$("send").onclick = send;
$("message").addEventListener("keydown", (e) => { if (e.key === "Enter" && ws && ws.readyState === 1) send(); });
connect();
</script>
</body>
</html>
)html";

}  // namespace

bool wants_demo_page(const core::upgrade_request& req, std::string_view path) {
    if (path.empty() || text::target_path(req.target()) != path) return false;
    if (req.method() != http::verb::get && req.method() != http::verb::head) return false;
    return !is_websocket_upgrade(req);
}

std::string_view demo_page_html() { return page; }

}  // namespace wsgated::ws

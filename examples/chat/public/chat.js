// chat.js: the browser side of examples/chat/. One WebSocket to wsgated, no framework.
//
// The page asks for a name and a room, then opens ws://GATEWAY/chat/ROOM?name=NAME. wsgated
// asks the backend's auth hook who that is (the hook answers {"user": NAME} or 401) and puts
// the connection in room:ROOM; the backend then sends, as JSON text frames:
//   {"type":"welcome","user":…,"room":…}                      to this connection, on connect
//   {"type":"chat","user":…,"text":…,"time":…}               to the room, for every message
//   {"type":"presence","count":N,"event":"join"|"leave","user":…}   to the room, on join/leave
//   {"type":"error","text":…}                                 to this connection
// What the page sends is the plain text typed. Heartbeat pings are answered by the browser
// itself. A connection that drops is opened again after a delay that doubles on each failed
// try, with jitter, capped at RETRY_CAP_MS; the count starts again once the backend welcomed us.
'use strict';

(() => {
  const NAME_RE = /^[A-Za-z0-9_.-]{1,32}$/;  // the backends' rule (the auth hook refuses others)
  const DEFAULT_WS_URL = 'ws://127.0.0.1:8080/chat/{room}';
  const RETRY_BASE_MS = 500;
  const RETRY_CAP_MS = 15000;

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);

  let ws = null;        // the current WebSocket, or null
  let wanted = false;   // the user wants to be in the room (false after Leave)
  let attempt = 0;      // failed tries since the last welcome
  let retryTimer = null;
  let me = null;        // our user name, as the gateway's auth hook said

  // ------------------------------------------------------------------ what the page shows
  function setStatus(state, text) {
    $('status').dataset.state = state;
    $('status').textContent = text;
  }

  function setPresence(count) {
    $('presence-count').textContent = count === null ? '–' : String(count);
  }

  function hhmm(iso) {
    const d = iso ? new Date(iso) : new Date();
    return Number.isNaN(d.getTime()) ? '' : d.toTimeString().slice(0, 5);
  }

  function addLine(className, parts) {
    const li = document.createElement('li');
    li.className = className;
    for (const [tag, cls, text] of parts) {
      const el = document.createElement(tag);
      if (cls) el.className = cls;
      el.textContent = text;  // never innerHTML: what users type stays text
      li.append(el);
    }
    const list = $('messages');
    const main = list.parentElement;
    const atBottom = main.scrollHeight - main.scrollTop - main.clientHeight < 40;
    list.append(li);
    while (list.children.length > 500) list.firstElementChild.remove();
    if (atBottom) main.scrollTop = main.scrollHeight;
  }

  const system = (text) => addLine('system', [['time', '', hhmm()], ['span', 'text', text]]);
  const problem = (text) => addLine('error', [['time', '', hhmm()], ['span', 'text', text]]);

  // ------------------------------------------------------------------ the connection
  function gatewayUrl(room, name) {
    const template = $('ws-url').value.trim() || DEFAULT_WS_URL;
    const url = new URL(template.replaceAll('{room}', encodeURIComponent(room)));
    url.searchParams.set('name', name);
    return url.href;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    const room = $('room').value;
    let url;
    try {
      url = gatewayUrl(room, $('name').value);
    } catch (e) {
      problem(`bad gateway URL: ${e.message}`);
      return leave('bad gateway URL');
    }
    setStatus('connecting', attempt ? `connecting… (try ${attempt + 1})` : 'connecting…');
    const sock = new WebSocket(url);
    ws = sock;
    let opened = false;
    sock.onopen = () => {
      opened = true;
      setStatus('open', 'connected');
      $('send').disabled = false;
    };
    sock.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;  // the chat speaks text only
      let m;
      try { m = JSON.parse(ev.data); } catch { return system(ev.data); }
      onMessage(m);
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;  // an old socket (after Leave, or replaced)
      ws = null;
      $('send').disabled = true;
      setPresence(null);
      if (opened) system(`disconnected (code ${ev.code}${ev.reason ? ` “${ev.reason}”` : ''})`);
      // A handshake refused by the auth hook (401), a bad Origin (403) or a gateway that is
      // down all look the same from here: a close 1006 before onopen.
      else if (attempt === 0) problem('could not connect (gateway down, or the handshake was refused)');
      if (wanted) retryLater();
    };
  }

  function retryLater() {
    // Exponential backoff with "equal jitter": half the delay fixed, half random, capped.
    const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt += 1;
    setStatus('waiting', `reconnecting in ${(delay / 1000).toFixed(1)} s`);
    retryTimer = setTimeout(connect, delay);
  }

  function onMessage(m) {
    switch (m.type) {
      case 'welcome':
        me = m.user;
        attempt = 0;  // the gateway and the backend took us: a later drop starts from scratch
        setStatus('open', `online as ${m.user}`);
        break;
      case 'chat':
        addLine(m.user === me ? 'chat mine' : 'chat',
          [['time', '', hhmm(m.time)], ['span', 'user', m.user], ['span', 'text', m.text]]);
        break;
      case 'presence':
        setPresence(m.count);
        if (m.user) system(`${m.user} ${m.event === 'leave' ? 'left' : 'joined'} · ${m.count} online`);
        break;
      case 'error':
        problem(m.text);
        break;
      default:
        break;  // a newer backend: ignore what this page does not know
    }
  }

  // ------------------------------------------------------------------ the forms
  function join() {
    const name = $('name').value;
    const room = $('room').value;
    if (!NAME_RE.test(name) || !NAME_RE.test(room)) {
      problem("name and room: 1 to 32 letters, digits, '_', '-' or '.'");
      return;
    }
    localStorage.setItem('chat.name', name);
    // Keep room and name in the address, so that a reload rejoins.
    const q = new URLSearchParams(location.search);
    q.set('room', room);
    q.set('name', name);
    history.replaceState(null, '', `?${q}`);
    $('room-label').textContent = `#${room}`;
    document.title = `#${room} · wsgated chat`;
    $('join').hidden = true;
    $('compose').hidden = false;
    $('text').focus();
    wanted = true;
    attempt = 0;
    connect();
  }

  function leave(why = 'left') {
    wanted = false;
    clearTimeout(retryTimer);
    const sock = ws;
    ws = null;
    if (sock) sock.close(1000, 'bye');
    setPresence(null);
    setStatus('left', why);
    $('join').hidden = false;
    $('compose').hidden = true;
  }

  $('join').addEventListener('submit', (ev) => { ev.preventDefault(); join(); });
  $('leave').addEventListener('click', () => { leave(); system('you left'); });
  $('compose').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('text').value;
    if (!text.trim()) return;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      problem('not connected: the message was not sent');
      return;
    }
    ws.send(text);  // it comes back from the room, like everyone's
    $('text').value = '';
  });
  // Back online (laptop lid, Wi-Fi): do not wait for the rest of the backoff.
  window.addEventListener('online', () => { if (wanted && !ws) connect(); });

  // ------------------------------------------------------------------ start
  async function start() {
    $('name').value = params.get('name') ?? localStorage.getItem('chat.name') ?? '';
    $('room').value = params.get('room') ?? 'lobby';
    // The gateway URL: ?ws=… on this page, else what the backend says (config.json), else the
    // default.
    let wsUrl = params.get('ws');
    if (!wsUrl) {
      try {
        const res = await fetch('config.json', { cache: 'no-store', signal: AbortSignal.timeout(3000) });
        if (res.ok) wsUrl = (await res.json()).ws_url;
      } catch { /* no config.json: the default */ }
    }
    $('ws-url').value = wsUrl || DEFAULT_WS_URL;
    if (params.has('name') && NAME_RE.test($('name').value)) join();
    else $('name').focus();
  }
  start();
})();

// control_api.test.mjs: the control API (SPEC §6, docs/control-api.md) on the admin listener:
// sends to one connection, closes, connection info, rooms (route rooms and API joins), room
// publishes with exclude, user sends, broadcast, every error answer, and the room metrics.
//
// Connection ids are not told to clients: the tests read them from the gateway's debug line
// `connection ID open route=… remote=…`, opening clients one at a time (openWsWithId).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  startGateway, openWs, openWsWithId, collect, sleep, withTimeout, adminRequest, adminGet,
  metrics, metricValue, waitForMetric, rawHttp, upgradeRequest, openedConnections,
} from './harness.mjs';

const T = { timeout: 60000 };
const TOKEN = 'e2e-control-token-7f3a';
const CHAT = '/chat/{room}';
const enc = encodeURIComponent;
const ID_RE = /^[A-Za-z0-9_-]{28}$/;
const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA';  // well formed, never issued (28 × 'A': no node has tag AAAAAA)

// ---------------------------------------------------------------- setup
// A gateway with the control API on: /chat/{room} (joins room:{room}) and /plain (no rooms).
function controlConfig({ token = TOKEN, limits = '', heartbeat = '', level = 'debug', workers = 2 } = {}) {
  return `server:
  workers: ${workers}
  listen:
    - address: "127.0.0.1:0"
  log: {level: ${level}, format: text}
${limits ? `  limits: {${limits}}\n` : ''}${heartbeat ? `  heartbeat: {${heartbeat}}\n` : ''}admin:
  listen: "127.0.0.1:0"
  token: ${JSON.stringify(token)}
routes:
  - path: /chat/{room}
    backend: echo
    rooms: ["room:{room}"]
  - path: /plain
    backend: echo
`;
}

async function start(t, opts = {}) {
  const gw = await startGateway(t, controlConfig(opts));
  gw.adminToken = opts.token ?? TOKEN;
  return gw;
}

// adminRequest, naming a gateway that died on the way (a crash shows as "socket hang up").
async function api(gw, method, p, opts) {
  try {
    return await adminRequest(gw, method, p, opts);
  } catch (err) {
    await sleep(100);
    if (gw.exited) {
      err.message += ` — wsgated exited during ${method} ${p}; its last log lines:\n${gw.lines.slice(-8).join('\n')}`;
    } else {
      err.message += ` (${method} ${p})`;
    }
    throw err;
  }
}

function show(res) {
  return `${res.status} ${JSON.stringify(res.headers['content-type'] ?? null)} ${res.body.slice(0, 300)}`;
}

// Assert a JSON answer with `status`; returns the parsed body.
function expectJson(res, status, what) {
  assert.equal(res.status, status, `${what}: ${show(res)}`);
  assert.ok(/^application\/json/i.test(res.headers['content-type'] ?? ''),
    `${what}: Content-Type should be application/json: ${show(res)}`);
  assert.ok(res.json !== null && typeof res.json === 'object', `${what}: body is not JSON: ${show(res)}`);
  return res.json;
}

// Assert a JSON error answer {"error": "…"} with `status`.
function expectError(res, status, what) {
  const j = expectJson(res, status, what);
  assert.equal(typeof j.error, 'string', `${what}: no "error" string: ${show(res)}`);
  assert.ok(j.error.length > 0, `${what}: empty "error": ${show(res)}`);
  return j;
}

// Nothing more arrives on a collect() queue within ms.
async function assertSilent(c, ms, what) {
  await sleep(ms);
  assert.deepEqual(c.queue.map((m) => m.data.toString()), [], `${what}: unexpected messages`);
}

async function roomMembers(gw, room) {
  return expectJson(await api(gw, 'GET', `/v1/rooms/${enc(room)}`), 200, `GET room ${room}`).members;
}

// Poll GET /v1/rooms/{room} until it reports n members (joins on connect may trail the 101).
async function waitRoom(gw, room, n, ms = 5000) {
  const t0 = Date.now();
  let last;
  for (;;) {
    last = await roomMembers(gw, room);
    if (last === n) return;
    if (Date.now() - t0 > ms) assert.fail(`room ${room}: ${last} members after ${ms} ms, expected ${n}`);
    await sleep(50);
  }
}

// Poll GET /v1/connections/{id} until it answers 404 (the connection is gone from the table).
async function waitGone(gw, id, ms = 5000) {
  const t0 = Date.now();
  for (;;) {
    const res = await api(gw, 'GET', `/v1/connections/${id}`);
    if (res.status === 404) return res;
    assert.equal(res.status, 200, `GET connection while waiting for it to go: ${show(res)}`);
    if (Date.now() - t0 > ms) assert.fail(`connection ${id} still listed ${ms} ms after it closed`);
    await sleep(50);
  }
}

function sendTo(gw, id, body, type, query = '') {
  const headers = type ? { 'Content-Type': type } : {};
  return api(gw, 'POST', `/v1/connections/${id}/messages${query}`, { headers, body });
}

function publish(gw, room, body, { type = 'text/plain', exclude, roomRaw } = {}) {
  const q = exclude !== undefined ? `?exclude=${exclude}` : '';
  return api(gw, 'POST', `/v1/rooms/${roomRaw ?? enc(room)}/messages${q}`,
    { headers: { 'Content-Type': type }, body });
}

const roomsGauge = (m) => metricValue(m, 'wsgate_rooms', {}, 0);
const publishes = (m) => metricValue(m, 'wsgate_room_publishes_total', {}, 0);
const openOn = (m, route) => metricValue(m, 'wsgate_connections', { route }, 0);

// openWsWithId, then wait (bounded) until the control API knows the id: the debug line is
// logged as the 101 completes, a moment before the connection is entered in the hub.
async function client(t, gw, p, opts) {
  const c = await openWsWithId(t, gw, p, opts);
  const t0 = Date.now();
  for (;;) {
    const res = await api(gw, 'GET', `/v1/connections/${c.id}`);
    if (res.status === 200) return c;
    assert.equal(res.status, 404, `GET /v1/connections/${c.id} right after the open: ${show(res)}`);
    if (Date.now() - t0 > 2000) assert.fail(`connection ${c.id} (logged as open) unknown to the API after 2 s`);
    await sleep(10);
  }
}

// A raw upgrade to /plain kept open (conn destroyed at test end), with its connection id.
async function rawWithId(t, gw, p = '/plain') {
  const before = openedConnections(gw).length;
  const res = await rawHttp(gw.addr(0), upgradeRequest({ path: p }), { keepOpen: true, ms: 10000 });
  t.after(() => res.conn.destroy());
  assert.equal(res.status, 101, `raw upgrade: ${res.raw.toString('latin1').slice(0, 200)}`);
  await gw.waitForLog((line, rec) => rec !== null && /connection \S+ open /.test(rec.msg)
    && openedConnections(gw).length > before);
  const id = openedConnections(gw)[before].id;
  const t0 = Date.now();
  while ((await api(gw, 'GET', `/v1/connections/${id}`)).status !== 200) {
    if (Date.now() - t0 > 2000) assert.fail(`connection ${id} (logged as open) unknown to the API after 2 s`);
    await sleep(10);
  }
  return { conn: res.conn, id };
}

// ---------------------------------------------------------------- 0. member lists
test('GET /v1/rooms/{room}/connections lists the members (id, user, node) on every worker, sorted by id', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/chat/lobby');
  const b = await client(t, gw, '/chat/lobby');
  const c = await client(t, gw, '/plain');
  await waitRoom(gw, 'room:lobby', 2);
  let j = expectJson(await api(gw, 'GET', `/v1/rooms/${enc('room:lobby')}/connections`), 200, 'members of room:lobby');
  const ids = [a.id, b.id].sort();
  assert.deepEqual(j, { room: 'room:lobby', connections: ids.map((id) => ({ id, user: null, node: id.slice(0, 6) })) });
  assert.equal(a.id.slice(0, 6), c.id.slice(0, 6), 'every id of one process carries the same node tag');
  assert.notEqual(a.id.slice(6), b.id.slice(6));
  // An API join shows at once; a closed member is gone from the list.
  expectJson(await api(gw, 'PUT', `/v1/rooms/${enc('room:lobby')}/connections/${c.id}`), 200, 'PUT c');
  a.ws.close(1000);
  await waitRoom(gw, 'room:lobby', 2);
  j = expectJson(await api(gw, 'GET', `/v1/rooms/${enc('room:lobby')}/connections`), 200, 'after the changes');
  assert.deepEqual(j.connections.map((m) => m.id), [b.id, c.id].sort());
  j = expectJson(await api(gw, 'GET', '/v1/rooms/empty/connections'), 200, 'an unknown room');
  assert.deepEqual(j, { room: 'empty', connections: [] });
  expectError(await api(gw, 'GET', `/v1/rooms/${enc('bad\u0001')}/connections`), 400, 'a bad room name');
  j = expectJson(await api(gw, 'GET', '/v1/users/nobody'), 200, 'a user with no connection');
  assert.deepEqual(j, { user: 'nobody', connections: [] });
});

// ---------------------------------------------------------------- 1. fan-out at scale
test('1,000 clients of /chat/lobby, 100 publishes: every client gets every message once, in order', { timeout: 180000 }, async (t) => {
  const N = 1000;
  const P = 100;
  const gw = await start(t, { level: 'info', limits: 'max_connections_per_ip: 5000' });
  const url = gw.url(0, '/chat/lobby');
  const got = Array.from({ length: N }, () => []);
  const clients = [];
  const t0 = Date.now();
  for (let i = 0; i < N; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, N - i) },
      () => openWs(t, url, { perMessageDeflate: false, ms: 20000 })));
    batch.forEach((ws, k) => {
      const idx = i + k;
      ws.on('message', (data, isBinary) => got[idx].push(isBinary ? `<binary ${data.length}>` : data.toString()));
      clients.push(ws);
    });
  }
  const tOpen = Date.now() - t0;

  // Both spellings of the room name: ':' raw and percent-encoded.
  await waitRoom(gw, 'room:lobby', N, 10000);
  for (const p of ['/v1/rooms/room:lobby', '/v1/rooms/room%3Alobby', '/v1/rooms/room%3alobby']) {
    const j = expectJson(await api(gw, 'GET', p), 200, `GET ${p}`);
    assert.deepEqual(j, { room: 'room:lobby', members: N }, `GET ${p}`);
  }
  let m = await metrics(gw);
  const pubBefore = publishes(m);
  assert.equal(roomsGauge(m), 1, 'wsgate_rooms with one room');
  assert.equal(openOn(m, CHAT), N, `wsgate_connections{route="${CHAT}"}`);

  const t1 = Date.now();
  for (let k = 0; k < P; k++) {
    const res = await publish(gw, 'room:lobby', `msg-${k}`, { roomRaw: k % 2 ? 'room%3Alobby' : 'room:lobby' });
    assert.deepEqual(expectJson(res, 202, `publish #${k}`), { room: 'room:lobby', members: N }, `publish #${k}`);
  }
  const tPub = Date.now() - t1;
  const done = () => got.every((g) => g.length >= P);
  const deadline = Date.now() + 30000;
  while (!done() && Date.now() < deadline) await sleep(50);
  const tDeliver = Date.now() - t1;
  await sleep(300);  // anything duplicated would be here by now

  const expected = Array.from({ length: P }, (_, k) => `msg-${k}`).join('|');
  const bad = [];
  got.forEach((g, i) => { if (g.join('|') !== expected) bad.push(i); });
  console.log(`# ${N} clients open in ${tOpen} ms; ${P} publishes answered in ${tPub} ms; `
    + `all delivered ${done() ? `after ${tDeliver} ms` : 'NOT within 30 s'}; ${bad.length} clients wrong`);
  if (bad.length) {
    const i = bad[0];
    const counts = {};
    for (const b of bad) counts[got[b].length] = (counts[got[b].length] ?? 0) + 1;
    assert.fail(`${bad.length} of ${N} clients did not get exactly msg-0..msg-${P - 1} in order; `
      + `message counts among them: ${JSON.stringify(counts)}; client #${i} got `
      + `${got[i].length}: ${got[i].slice(0, 20).join(' ')}${got[i].length > 20 ? ' …' : ''}`);
  }

  m = await metrics(gw);
  assert.equal(publishes(m) - pubBefore, P, 'wsgate_room_publishes_total grew by the number of publishes');
  assert.equal(roomsGauge(m), 1, 'wsgate_rooms');
  assert.equal(openOn(m, CHAT), N, `wsgate_connections{route="${CHAT}"}`);

  // Everyone leaves: the room goes away with its last member.
  for (const ws of clients) ws.terminate();
  await waitForMetric(gw, 'wsgate_connections', { route: CHAT }, (v) => v === 0, 15000);
  await waitForMetric(gw, 'wsgate_rooms', {}, (v) => v === 0, 5000);
  assert.deepEqual(expectJson(await api(gw, 'GET', '/v1/rooms/room:lobby'), 200, 'GET room after'),
    { room: 'room:lobby', members: 0 });
});

// ---------------------------------------------------------------- 2. exclude
test('publish ?exclude={id}: the excluded member gets nothing, every other member gets it', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/chat/lobby');
  const b = await client(t, gw, '/chat/lobby');
  const c = await client(t, gw, '/chat/lobby');
  const other = await client(t, gw, '/chat/other');
  for (const x of [a, b, c, other]) assert.match(x.id, ID_RE, `connection id ${x.id}`);
  assert.equal(new Set([a.id, b.id, c.id, other.id]).size, 4, 'ids are distinct');
  assert.equal(a.route, CHAT);
  const [ca, cb, cc, co] = [a, b, c, other].map((x) => collect(x.ws));
  await waitRoom(gw, 'room:lobby', 3);

  let j = expectJson(await publish(gw, 'room:lobby', 'not-for-a', { exclude: a.id }), 202, 'publish exclude a');
  assert.deepEqual(j, { room: 'room:lobby', members: 3 }, 'members counts the excluded member too');
  j = expectJson(await publish(gw, 'room:lobby', 'for-all'), 202, 'publish to all');
  assert.deepEqual(j, { room: 'room:lobby', members: 3 });
  // Per-member publish order: a's first message must be the second publish.
  assert.equal((await ca.next()).data.toString(), 'for-all', 'the excluded member skipped the first publish');
  for (const [cx, name] of [[cb, 'b'], [cc, 'c']]) {
    assert.equal((await cx.next()).data.toString(), 'not-for-a', `${name} first`);
    assert.equal((await cx.next()).data.toString(), 'for-all', `${name} second`);
  }

  // Excluding a well-formed id that is not a member (or not a connection at all) excludes no one.
  j = expectJson(await publish(gw, 'room:lobby', 'x-unknown', { exclude: UNKNOWN_ID }), 202, 'exclude unknown');
  assert.deepEqual(j, { room: 'room:lobby', members: 3 });
  j = expectJson(await publish(gw, 'room:lobby', 'x-other', { exclude: other.id }), 202, 'exclude non-member');
  for (const cx of [ca, cb, cc]) {
    assert.equal((await cx.next()).data.toString(), 'x-unknown');
    assert.equal((await cx.next()).data.toString(), 'x-other');
  }
  // A malformed exclude id is refused like any malformed id.
  expectError(await publish(gw, 'room:lobby', 'never', { exclude: 'not-an-id' }), 400, 'malformed exclude');

  for (const [cx, name] of [[ca, 'a'], [cb, 'b'], [cc, 'c'], [co, 'the client of room:other']]) {
    await assertSilent(cx, name === 'a' ? 300 : 0, name);
  }
});

// ---------------------------------------------------------------- 3. join / leave
test('join and leave through the API: only members receive; counts; the room goes with its last member', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/plain');
  const b = await client(t, gw, '/plain');
  const c = await client(t, gw, '/plain');
  const [ca, cb, cc] = [a, b, c].map((x) => collect(x.ws));
  const member = (room, id) => `/v1/rooms/${enc(room)}/connections/${id}`;

  assert.equal(await roomMembers(gw, 'team'), 0, 'unknown room: 0 members');
  assert.equal(roomsGauge(await metrics(gw)), 0, 'wsgate_rooms before any join');

  let j = expectJson(await api(gw, 'PUT', member('team', a.id)), 200, 'PUT a');
  assert.deepEqual(j, { room: 'team', connection: a.id, joined: true });
  j = expectJson(await api(gw, 'PUT', member('team', a.id)), 200, 'PUT a again');
  assert.deepEqual(j, { room: 'team', connection: a.id, joined: false }, 'already a member');
  j = expectJson(await api(gw, 'PUT', member('team', b.id)), 200, 'PUT b');
  assert.deepEqual(j, { room: 'team', connection: b.id, joined: true });
  assert.deepEqual(expectJson(await api(gw, 'GET', '/v1/rooms/team'), 200, 'GET team'), { room: 'team', members: 2 });
  let m = await metrics(gw);
  assert.equal(roomsGauge(m), 1, 'wsgate_rooms after the first join');
  const pub0 = publishes(m);

  j = expectJson(await publish(gw, 'team', 'hello team'), 202, 'publish team');
  assert.deepEqual(j, { room: 'team', members: 2 });
  assert.equal((await ca.next()).data.toString(), 'hello team');
  assert.equal((await cb.next()).data.toString(), 'hello team');
  await assertSilent(cc, 300, 'the non-member c');

  j = expectJson(await api(gw, 'DELETE', member('team', b.id)), 200, 'DELETE b');
  assert.equal(j.left, true, `DELETE b: ${JSON.stringify(j)}`);
  j = expectJson(await api(gw, 'DELETE', member('team', b.id)), 200, 'DELETE b again');
  assert.equal(j.left, false, `DELETE b again (not a member): ${JSON.stringify(j)}`);
  j = expectJson(await api(gw, 'DELETE', member('team', c.id)), 200, 'DELETE c (never joined)');
  assert.equal(j.left, false);
  assert.equal(await roomMembers(gw, 'team'), 1);

  j = expectJson(await publish(gw, 'team', 'only a'), 202, 'publish team (a)');
  assert.deepEqual(j, { room: 'team', members: 1 });
  assert.equal((await ca.next()).data.toString(), 'only a');
  await assertSilent(cb, 300, 'b after leaving');
  await assertSilent(cc, 0, 'c');

  // The last member leaves: the room is gone.
  j = expectJson(await api(gw, 'DELETE', member('team', a.id)), 200, 'DELETE a');
  assert.equal(j.left, true);
  assert.deepEqual(expectJson(await api(gw, 'GET', '/v1/rooms/team'), 200, 'GET team'), { room: 'team', members: 0 });
  m = await metrics(gw);
  assert.equal(roomsGauge(m), 0, 'wsgate_rooms after the last member left');
  j = expectJson(await publish(gw, 'team', 'nobody'), 202, 'publish to an empty room');
  assert.deepEqual(j, { room: 'team', members: 0 });
  await assertSilent(ca, 300, 'a after leaving');
  m = await metrics(gw);
  assert.ok(publishes(m) - pub0 >= 2, `wsgate_room_publishes_total grew by ${publishes(m) - pub0}, at least 2`);

  // The last member disconnects: the room is gone too.
  j = expectJson(await api(gw, 'PUT', member('solo', c.id)), 200, 'PUT solo');
  assert.deepEqual(j, { room: 'solo', connection: c.id, joined: true });
  assert.equal(await roomMembers(gw, 'solo'), 1);
  assert.equal(roomsGauge(await metrics(gw)), 1);
  c.ws.close(1000);
  await cc.closed();
  await waitForMetric(gw, 'wsgate_rooms', {}, (v) => v === 0, 5000);
  assert.equal(await roomMembers(gw, 'solo'), 0, 'after its only member disconnected');

  // Joining or leaving with an unknown connection.
  expectError(await api(gw, 'PUT', member('team', UNKNOWN_ID)), 404, 'PUT unknown id');
  expectError(await api(gw, 'DELETE', member('team', UNKNOWN_ID)), 404, 'DELETE unknown id');
  await waitGone(gw, c.id);
  expectError(await api(gw, 'PUT', member('team', c.id)), 404, 'PUT a closed connection');
  assert.equal(roomsGauge(await metrics(gw)), 0, 'a refused join makes no room');
});

test('room names are one percent-decoded path segment: %2F, %20, %25, %3A, UTF-8', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/plain');
  const ca = collect(a.ws);
  for (const [raw, name] of [
    ['a%20c', 'a c'], ['a%25b', 'a%b'], ['x%3Ay', 'x:y'], ['x:y', 'x:y'], ['a+b', 'a+b'],
    ['%C3%A9t%C3%A9', 'été'], ['a%2Fb', 'a/b'], ['a%2fb%20c', 'a/b c'],
  ]) {
    const what = `room ${raw} (= ${JSON.stringify(name)})`;
    let j = expectJson(await api(gw, 'PUT', `/v1/rooms/${raw}/connections/${a.id}`), 200, `PUT ${what}`);
    assert.deepEqual(j, { room: name, connection: a.id, joined: name !== 'x:y' || raw === 'x%3Ay' }, `PUT ${what}`);
    assert.deepEqual(expectJson(await api(gw, 'GET', `/v1/rooms/${raw}`), 200, `GET ${what}`), { room: name, members: 1 });
    j = expectJson(await publish(gw, null, `to ${name}`, { roomRaw: raw }), 202, `publish ${what}`);
    assert.deepEqual(j, { room: name, members: 1 });
    assert.equal((await ca.next()).data.toString(), `to ${name}`, what);
    if (name !== 'x:y' || raw === 'x:y') {
      j = expectJson(await api(gw, 'DELETE', `/v1/rooms/${raw}/connections/${a.id}`), 200, `DELETE ${what}`);
      assert.equal(j.left, true, `DELETE ${what}`);
    }
  }
  assert.equal(roomsGauge(await metrics(gw)), 0);
});

// ---------------------------------------------------------------- 4. send to one connection
test('POST /v1/connections/{id}/messages: text and binary, ?wait=written, only that connection', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/plain');
  const b = await client(t, gw, '/chat/lobby');
  const [ca, cb] = [a, b].map((x) => collect(x.ws));

  const text = 'héllo, wsgated ✓';
  assert.deepEqual(expectJson(await sendTo(gw, a.id, text, 'text/plain'), 202, 'text'), { queued: true });
  let r = await ca.next();
  assert.equal(r.isBinary, false, 'text/plain → a text frame');
  assert.equal(r.data.toString('utf8'), text);

  r = await sendTo(gw, a.id, '{"k":1}', 'text/plain; charset=utf-8');
  expectJson(r, 202, 'text with charset');
  r = await ca.next();
  assert.equal(r.isBinary, false, 'text/plain; charset=utf-8 → text');
  assert.equal(r.data.toString(), '{"k":1}');

  const bin = crypto.randomBytes(300);
  expectJson(await sendTo(gw, a.id, bin, 'application/octet-stream'), 202, 'binary');
  r = await ca.next();
  assert.equal(r.isBinary, true, 'application/octet-stream → a binary frame');
  assert.ok(Buffer.isBuffer(r.data) && bin.equals(r.data), 'binary payload differs');

  expectJson(await sendTo(gw, a.id, '{"json":true}', 'application/json'), 202, 'application/json');
  r = await ca.next();
  assert.equal(r.isBinary, true, 'application/json is not text/*: a binary frame');
  assert.equal(r.data.toString(), '{"json":true}');

  expectJson(await sendTo(gw, a.id, 'no type', null), 202, 'no Content-Type');
  r = await ca.next();
  assert.equal(r.isBinary, true, 'no Content-Type → binary');
  assert.equal(r.data.toString(), 'no type');

  expectJson(await sendTo(gw, a.id, '', 'text/plain'), 202, 'empty text');
  r = await ca.next();
  assert.equal(r.isBinary, false);
  assert.equal(r.data.length, 0, 'an empty body is an empty message');

  // ?wait=written: 200 once on the socket.
  const w = await sendTo(gw, a.id, 'written?', 'text/plain', '?wait=written');
  assert.deepEqual(expectJson(w, 200, 'wait=written'), { written: true });
  r = await ca.next();
  assert.equal(r.data.toString(), 'written?');

  // Order: several sends in a row arrive in order.
  for (let i = 0; i < 20; i++) expectJson(await sendTo(gw, a.id, `seq-${i}`, 'text/plain'), 202, `seq-${i}`);
  for (let i = 0; i < 20; i++) assert.equal((await ca.next()).data.toString(), `seq-${i}`);

  await assertSilent(cb, 300, 'the other connection');
  await assertSilent(ca, 0, 'a');

  // A connection that is gone: 404, with or without wait.
  b.ws.close(1000);
  await cb.closed();
  await waitGone(gw, b.id);
  expectError(await sendTo(gw, b.id, 'late', 'text/plain'), 404, 'send to a closed connection');
  expectError(await sendTo(gw, b.id, 'late', 'text/plain', '?wait=written'), 404, 'wait=written to a closed connection');
  expectError(await sendTo(gw, UNKNOWN_ID, 'x', 'text/plain'), 404, 'send to an unknown id');
});

test('?wait=written answers 410 when the connection closes before the message is written', T, async (t) => {
  const SIZE = 12 * 1024 * 1024;  // more than loopback socket buffers take while nobody reads
  const gw = await start(t, { limits: 'max_message_size: 16MiB, send_queue: 64MiB' });
  const { conn, id } = await rawWithId(t, gw, '/plain');
  conn.sock.pause();  // never read

  let settled = null;
  const pending = sendTo(gw, id, Buffer.alloc(SIZE, 0x61), 'application/octet-stream', '?wait=written')
    .then((res) => { settled = res; return res; }, (err) => { settled = err; throw err; });
  pending.catch(() => {});
  await sleep(1500);
  if (settled !== null) {
    assert.fail(`wait=written answered before the client read anything: `
      + `${settled instanceof Error ? settled.message : show(settled)}`);
  }
  conn.destroy();
  const res = await withTimeout(pending, 10000, 'the wait=written answer after the client vanished');
  expectError(res, 410, 'wait=written, connection closed first');
});

// ---------------------------------------------------------------- 5. close one connection
test('DELETE /v1/connections/{id}: the client sees the code and reason; bad code/reason 400; 404; 400', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/plain');
  const ca = collect(a.ws);
  let j = expectJson(await api(gw, 'DELETE', `/v1/connections/${a.id}?code=4000&reason=bye`), 202, 'DELETE 4000 bye');
  assert.deepEqual(j, { closing: true });
  assert.deepEqual(await ca.closed(), { code: 4000, reason: 'bye' });
  await waitGone(gw, a.id);
  expectError(await api(gw, 'DELETE', `/v1/connections/${a.id}`), 404, 'DELETE it again');

  // Default code 1000, no reason.
  const b = await client(t, gw, '/chat/lobby');
  const cb = collect(b.ws);
  expectJson(await api(gw, 'DELETE', `/v1/connections/${b.id}`), 202, 'DELETE default');
  assert.deepEqual(await cb.closed(), { code: 1000, reason: '' });

  // 3000 and 4999 are allowed; a percent-encoded 123-byte UTF-8 reason reaches the client whole.
  const reason123 = 'é'.repeat(61) + 'x';  // 122 + 1 bytes
  assert.equal(Buffer.byteLength(reason123), 123);
  const c = await client(t, gw, '/plain');
  const cc = collect(c.ws);
  expectJson(await api(gw, 'DELETE', `/v1/connections/${c.id}?code=3000&reason=${enc(reason123)}`), 202, 'DELETE 3000');
  assert.deepEqual(await cc.closed(), { code: 3000, reason: reason123 });
  const d = await client(t, gw, '/plain');
  const cd = collect(d.ws);

  // Refused, and the connection stays open.
  const bad = [
    ['code=1005', 'reserved code 1005'],
    ['code=1001', '1001 (only 1000 or 3000-4999)'],
    ['code=1006', 'reserved 1006'],
    ['code=2999', '2999'],
    ['code=5000', '5000'],
    ['code=999', '999'],
    ['code=0', '0'],
    ['code=abc', 'not a number'],
    ['code=4000x', 'trailing garbage'],
    ['code=', 'empty code'],
    [`code=4000&reason=${'r'.repeat(124)}`, '124-byte reason'],
    [`code=4000&reason=${enc('é'.repeat(62))}`, '124-byte UTF-8 reason'],
    ['code=4000&reason=%FF', 'reason not UTF-8'],
    ['code=4000&reason=%C3', 'reason with a truncated UTF-8 sequence'],
  ];
  for (const [q, what] of bad) {
    expectError(await api(gw, 'DELETE', `/v1/connections/${d.id}?${q}`), 400, `DELETE ?${q} (${what})`);
  }
  // Still open and reachable.
  expectJson(await sendTo(gw, d.id, 'still here', 'text/plain'), 202, 'send after refused closes');
  assert.equal((await cd.next()).data.toString(), 'still here');
  expectJson(await api(gw, 'DELETE', `/v1/connections/${d.id}?code=4999&reason=${enc('bye now')}`), 202, 'DELETE 4999');
  assert.deepEqual(await cd.closed(), { code: 4999, reason: 'bye now' });

  expectError(await api(gw, 'DELETE', `/v1/connections/${UNKNOWN_ID}?code=4000`), 404, 'DELETE unknown id');
  expectError(await api(gw, 'DELETE', '/v1/connections/not-an-id'), 400, 'DELETE malformed id');
});

// ---------------------------------------------------------------- 6. connection info
test('GET /v1/connections/{id}: route pattern, params, user, rooms, remote address, connected_at, rtt', T, async (t) => {
  const gw = await start(t, { heartbeat: 'interval: 200ms, timeout: 2s' });
  const tBefore = Date.now();
  const a = await client(t, gw, '/chat/lobby?x=1');
  const tAfter = Date.now();
  collect(a.ws);

  let j = expectJson(await api(gw, 'GET', `/v1/connections/${a.id}`), 200, 'GET connection');
  for (const k of ['id', 'route', 'params', 'user', 'rooms', 'remote_address', 'connected_at', 'rtt_seconds']) {
    assert.ok(Object.hasOwn(j, k), `GET connection: no "${k}" in ${JSON.stringify(j)}`);
  }
  assert.equal(j.id, a.id);
  assert.equal(j.route, CHAT, 'route is the pattern, not the requested path');
  assert.deepEqual(j.params, { room: 'lobby' });
  assert.equal(j.user, null, 'no auth on the route: user null');
  assert.deepEqual(j.rooms, ['room:lobby']);
  assert.match(String(j.remote_address), /^127\.0\.0\.1\b/, 'remote_address');
  assert.match(String(j.connected_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'connected_at: ISO 8601 UTC');
  const at = Date.parse(j.connected_at);
  assert.ok(at >= tBefore - 1000 && at <= tAfter + 1000,
    `connected_at ${j.connected_at} not within the open (${new Date(tBefore).toISOString()} .. ${new Date(tAfter).toISOString()})`);
  assert.ok(j.rtt_seconds === null || typeof j.rtt_seconds === 'number', `rtt_seconds: ${j.rtt_seconds}`);

  // After a heartbeat ping was answered (every 200 ms; `ws` answers pings itself) rtt is a number.
  const t0 = Date.now();
  while (typeof j.rtt_seconds !== 'number' && Date.now() - t0 < 3000) {
    await sleep(100);
    j = expectJson(await api(gw, 'GET', `/v1/connections/${a.id}`), 200, 'GET connection (rtt)');
  }
  assert.equal(typeof j.rtt_seconds, 'number', `rtt_seconds still ${j.rtt_seconds} after 3 s of 200 ms pings`);
  assert.ok(j.rtt_seconds >= 0 && j.rtt_seconds < 1, `rtt_seconds ${j.rtt_seconds} over loopback`);

  // An API join shows in rooms; the route's room stays.
  expectJson(await api(gw, 'PUT', `/v1/rooms/extra/connections/${a.id}`), 200, 'PUT extra');
  j = expectJson(await api(gw, 'GET', `/v1/connections/${a.id}`), 200, 'GET after join');
  assert.deepEqual([...j.rooms].sort(), ['extra', 'room:lobby']);
  expectJson(await api(gw, 'DELETE', `/v1/rooms/room%3Alobby/connections/${a.id}`), 200, 'leave room:lobby');
  j = expectJson(await api(gw, 'GET', `/v1/connections/${a.id}`), 200, 'GET after leave');
  assert.deepEqual(j.rooms, ['extra']);

  // A route without params or rooms.
  const b = await client(t, gw, '/plain');
  j = expectJson(await api(gw, 'GET', `/v1/connections/${b.id}`), 200, 'GET /plain connection');
  assert.equal(j.route, '/plain');
  assert.deepEqual(j.params, {});
  assert.deepEqual(j.rooms, []);

  expectError(await api(gw, 'GET', `/v1/connections/${UNKNOWN_ID}`), 404, 'GET unknown id');
  expectError(await api(gw, 'GET', '/v1/connections/short'), 400, 'GET malformed id');
});

// ---------------------------------------------------------------- 7. broadcast and users
test('POST /v1/broadcast reaches every connection on every route; users answer 202 with 0', T, async (t) => {
  const gw = await start(t);
  const clients = [];
  for (const p of ['/plain', '/plain', '/chat/lobby', '/chat/other']) clients.push(await client(t, gw, p));
  const cs = clients.map((x) => collect(x.ws));

  let j = expectJson(await api(gw, 'POST', '/v1/broadcast',
    { headers: { 'Content-Type': 'text/plain' }, body: 'to everyone' }), 202, 'broadcast text');
  assert.deepEqual(j, { connections: 4 });
  const bin = crypto.randomBytes(64);
  j = expectJson(await api(gw, 'POST', '/v1/broadcast',
    { headers: { 'Content-Type': 'application/octet-stream' }, body: bin }), 202, 'broadcast binary');
  assert.deepEqual(j, { connections: 4 });
  for (const [i, c] of cs.entries()) {
    let r = await c.next();
    assert.equal(r.isBinary, false, `client ${i}`);
    assert.equal(r.data.toString(), 'to everyone', `client ${i}`);
    r = await c.next();
    assert.equal(r.isBinary, true, `client ${i}`);
    assert.ok(bin.equals(r.data), `client ${i}: binary payload`);
  }
  await assertSilent(cs[0], 300, 'client 0 (once each)');
  for (const c of cs.slice(1)) await assertSilent(c, 0, 'the others (once each)');

  // One fewer after a close.
  clients[3].ws.close(1000);
  await cs[3].closed();
  await waitGone(gw, clients[3].id);
  j = expectJson(await api(gw, 'POST', '/v1/broadcast',
    { headers: { 'Content-Type': 'text/plain' }, body: 'three' }), 202, 'broadcast after a close');
  assert.deepEqual(j, { connections: 3 });
  for (const c of cs.slice(0, 3)) assert.equal((await c.next()).data.toString(), 'three');

  // Users come from auth (not built yet): wired, addressed to nobody today.
  j = expectJson(await api(gw, 'POST', '/v1/users/alice/messages',
    { headers: { 'Content-Type': 'text/plain' }, body: 'hi alice' }), 202, 'user send');
  assert.deepEqual(j, { user: 'alice', connections: 0 });
  j = expectJson(await api(gw, 'POST', `/v1/users/${enc('bob@example.com')}/messages`,
    { headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]) }), 202, 'user send (encoded)');
  assert.deepEqual(j, { user: 'bob@example.com', connections: 0 });
  for (const c of cs.slice(0, 3)) await assertSilent(c, 0, 'nobody gets a user send');
  await sleep(200);
  for (const c of cs.slice(0, 3)) await assertSilent(c, 0, 'nobody gets a user send');
});

// ---------------------------------------------------------------- 8. errors
test('401 without or with a wrong bearer token (WWW-Authenticate: Bearer), before any other check', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/plain');
  const ca = collect(a.ws);
  const calls = [
    ['GET', `/v1/connections/${a.id}`],
    ['POST', `/v1/connections/${a.id}/messages`],
    ['DELETE', `/v1/connections/${a.id}`],
    ['PUT', `/v1/rooms/r/connections/${a.id}`],
    ['POST', '/v1/rooms/r/messages'],
    ['GET', '/v1/rooms/r'],
    ['POST', '/v1/users/u/messages'],
    ['POST', '/v1/broadcast'],
    ['GET', '/v1/nope'],                      // unknown path: 401 first
    ['GET', '/v1/connections/not-an-id'],     // malformed id: 401 first
    ['GET', '/v1/broadcast'],                 // wrong method: 401 first
  ];
  const creds = [
    [{ token: null }, 'no Authorization'],
    [{ token: 'wrong' }, 'wrong token'],
    [{ token: `${TOKEN}x` }, 'token with a suffix'],
    [{ token: TOKEN.slice(0, -1) }, 'a prefix of the token'],
    [{ token: null, headers: { Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } }, 'Basic'],
    [{ token: null, headers: { Authorization: TOKEN } }, 'no scheme'],
    [{ token: null, headers: { Authorization: 'Bearer ' } }, 'empty bearer'],
  ];
  for (const [method, p] of calls) {
    for (const [opts, what] of creds) {
      const body = method === 'POST' ? 'must not arrive' : undefined;
      const res = await api(gw, method, p, { ...opts, body, headers: { 'Content-Type': 'text/plain', ...(opts.headers ?? {}) } });
      expectError(res, 401, `${method} ${p} (${what})`);
      assert.match(String(res.headers['www-authenticate'] ?? ''), /^Bearer\b/i, `${method} ${p} (${what}): WWW-Authenticate`);
    }
  }
  await assertSilent(ca, 300, 'a refused send');
  assert.equal(a.ws.readyState, a.ws.OPEN, 'a refused DELETE closed nothing');
  assert.equal(await roomMembers(gw, 'r'), 0, 'a refused PUT joined nothing');
  // /metrics needs no token.
  assert.equal((await adminGet(gw, '/metrics')).status, 200);
});

test('403 for every /v1 call when admin.token is empty, whatever the Authorization', T, async (t) => {
  const gw = await start(t, { token: '' });
  assert.ok(gw.lines.some((l) => /admin\.token/.test(l)), 'a warning names admin.token');
  const a = await openWsWithId(t, gw, '/plain');
  const ca = collect(a.ws);
  const calls = [
    ['GET', `/v1/connections/${a.id}`], ['POST', `/v1/connections/${a.id}/messages`],
    ['DELETE', `/v1/connections/${a.id}`], ['PUT', `/v1/rooms/r/connections/${a.id}`],
    ['DELETE', `/v1/rooms/r/connections/${a.id}`], ['POST', '/v1/rooms/r/messages'],
    ['GET', '/v1/rooms/r'], ['POST', '/v1/users/u/messages'], ['POST', '/v1/broadcast'],
    ['GET', '/v1/nope'], ['GET', '/v1'],
  ];
  for (const [method, p] of calls) {
    for (const opts of [{ token: null }, { token: '' }, { token: 'anything' }]) {
      const body = method === 'POST' ? 'must not arrive' : undefined;
      expectError(await api(gw, method, p, { ...opts, body, headers: { 'Content-Type': 'text/plain' } }), 403,
        `${method} ${p} (token ${JSON.stringify(opts.token)})`);
    }
  }
  await assertSilent(ca, 300, 'a refused send');
  assert.equal(a.ws.readyState, a.ws.OPEN);
  assert.equal((await adminGet(gw, '/metrics')).status, 200, '/metrics still served');
  assert.equal((await adminGet(gw, '/healthz')).status, 200, '/healthz still served');
});

test('400: malformed connection ids, bad room names, text bodies that are not UTF-8', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/plain');
  const ca = collect(a.ws);
  const badIds = [
    'short', 'A'.repeat(21), 'A'.repeat(23), 'A'.repeat(44), `${'A'.repeat(21)}.`, `${'A'.repeat(21)}%2B`,
    `${'A'.repeat(21)}%3D`, `${'A'.repeat(21)}~`, `${'A'.repeat(21)}%20`, `${'A'.repeat(20)}%C3%A9`,
    `${a.id.slice(0, 21)}!`, `${a.id}A`,
  ];
  for (const id of badIds) {
    for (const [method, p, body] of [
      ['GET', `/v1/connections/${id}`],
      ['DELETE', `/v1/connections/${id}`],
      ['POST', `/v1/connections/${id}/messages`, 'x'],
      ['PUT', `/v1/rooms/r/connections/${id}`],
      ['DELETE', `/v1/rooms/r/connections/${id}`],
    ]) {
      expectError(await api(gw, method, p, { body, headers: { 'Content-Type': 'text/plain' } }), 400, `${method} ${p}`);
    }
  }
  assert.equal(await roomMembers(gw, 'r'), 0);

  const badRooms = [
    ['x'.repeat(257), '257 bytes'],
    [`${'é'.repeat(128)}x`, '257 bytes of UTF-8'],
    ['a%00b', 'NUL'],
    ['a%01b', 'a C0 control'],
    ['a%0Ab', 'LF'],
    ['%09', 'TAB'],
    ['a%7Fb', 'DEL'],
  ];
  for (const [room, what] of badRooms) {
    const r = /%/.test(room) ? room : enc(room);
    expectError(await api(gw, 'GET', `/v1/rooms/${r}`), 400, `GET room (${what})`);
    expectError(await api(gw, 'PUT', `/v1/rooms/${r}/connections/${a.id}`), 400, `PUT room (${what})`);
    expectError(await api(gw, 'DELETE', `/v1/rooms/${r}/connections/${a.id}`), 400, `DELETE room (${what})`);
    expectError(await publish(gw, null, 'x', { roomRaw: r }), 400, `publish room (${what})`);
  }
  // The limits themselves are fine: 1 and 256 bytes.
  assert.deepEqual(expectJson(await api(gw, 'GET', `/v1/rooms/${'y'.repeat(256)}`), 200, '256-byte room'),
    { room: 'y'.repeat(256), members: 0 });
  assert.deepEqual(expectJson(await api(gw, 'GET', '/v1/rooms/z'), 200, '1-byte room'), { room: 'z', members: 0 });
  assert.equal(roomsGauge(await metrics(gw)), 0, 'refused joins made no room');

  const notUtf8 = [Buffer.from([0x68, 0x69, 0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xc0, 0xaf]), Buffer.from([0xf4, 0x90, 0x80, 0x80])];
  for (const body of notUtf8) {
    const what = `text body ${body.toString('hex')}`;
    expectError(await sendTo(gw, a.id, body, 'text/plain'), 400, `${what} to a connection`);
    expectError(await sendTo(gw, a.id, body, 'text/plain', '?wait=written'), 400, `${what} to a connection, wait`);
    expectError(await publish(gw, 'r', body), 400, `${what} to a room`);
    expectError(await api(gw, 'POST', '/v1/broadcast', { headers: { 'Content-Type': 'text/plain' }, body }), 400, `${what} broadcast`);
    expectError(await api(gw, 'POST', '/v1/users/u/messages', { headers: { 'Content-Type': 'text/plain' }, body }), 400, `${what} to a user`);
    // The same bytes as binary are fine.
    expectJson(await sendTo(gw, a.id, body, 'application/octet-stream'), 202, `${what} as binary`);
    const r = await ca.next();
    assert.equal(r.isBinary, true);
    assert.ok(body.equals(r.data));
  }
  await assertSilent(ca, 300, 'nothing refused was delivered');
  assert.equal(a.ws.readyState, a.ws.OPEN);
});

test('404 for unknown ids and /v1 paths; 405 with Allow for a wrong method', T, async (t) => {
  const gw = await start(t);
  const a = await client(t, gw, '/plain');
  for (const [method, p] of [
    ['GET', `/v1/connections/${UNKNOWN_ID}`], ['DELETE', `/v1/connections/${UNKNOWN_ID}`],
    ['POST', `/v1/connections/${UNKNOWN_ID}/messages`], ['PUT', `/v1/rooms/r/connections/${UNKNOWN_ID}`],
    ['DELETE', `/v1/rooms/r/connections/${UNKNOWN_ID}`],
    ['GET', '/v1/nope'], ['GET', '/v1'], ['GET', '/v1/'], ['POST', '/v1/rooms/r/messages/x'],
    ['GET', `/v1/connections/${a.id}/nope`], ['GET', '/v1/rooms/r/connections/x/y'], ['GET', '/v1/users/u/x'],
    ['POST', '/v1/broadcast/x'], ['GET', '/v2/rooms/r'],
  ]) {
    expectError(await api(gw, method, p, { body: method === 'POST' ? 'x' : undefined }), 404, `${method} ${p}`);
  }

  const allow = (res) => String(res.headers.allow ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const [method, p, must] of [
    ['GET', '/v1/broadcast', ['POST']],
    ['PUT', '/v1/broadcast', ['POST']],
    ['GET', `/v1/connections/${a.id}/messages`, ['POST']],
    ['PUT', `/v1/connections/${a.id}`, ['GET', 'DELETE']],
    ['POST', `/v1/connections/${a.id}`, ['GET', 'DELETE']],
    ['GET', `/v1/rooms/r/connections/${a.id}`, ['PUT', 'DELETE']],
    ['POST', `/v1/rooms/r/connections/${a.id}`, ['PUT', 'DELETE']],
    ['POST', '/v1/rooms/r', ['GET']],
    ['DELETE', '/v1/rooms/r', ['GET']],
    ['GET', '/v1/rooms/r/messages', ['POST']],
    ['GET', '/v1/users/u/messages', ['POST']],
    ['POST', '/v1/rooms/r/connections', ['GET']],
    ['POST', '/v1/users/u', ['GET']],
    ['GET', '/v1/users/u/connections', ['DELETE']],
    ['POST', '/v1/users/u/rooms/r', ['PUT', 'DELETE']],
    ['PATCH', '/v1/broadcast', ['POST']],
  ]) {
    const res = await api(gw, method, p, { body: ['POST', 'PUT', 'PATCH'].includes(method) ? 'x' : undefined,
      headers: { 'Content-Type': 'text/plain' } });
    expectError(res, 405, `${method} ${p}`);
    const got = allow(res);
    for (const m of must) assert.ok(got.includes(m), `${method} ${p}: Allow ${JSON.stringify(res.headers.allow)} lacks ${m}`);
    assert.ok(!got.includes(method), `${method} ${p}: Allow ${JSON.stringify(res.headers.allow)} names the refused method`);
  }
  assert.equal(a.ws.readyState, a.ws.OPEN, 'nothing closed it');
});

test('413 for a body over server.limits.max_message_size (1 KiB), 1 KiB itself is fine', T, async (t) => {
  const gw = await start(t, { limits: 'max_message_size: 1KiB' });
  const a = await client(t, gw, '/chat/lobby');
  const ca = collect(a.ws);
  await waitRoom(gw, 'room:lobby', 1);
  const ok = Buffer.alloc(1024, 0x6b);
  const big = Buffer.alloc(1025, 0x6b);
  const huge = Buffer.alloc(4 * 1024 * 1024, 0x6b);
  const targets = [
    ['connection', (body, type) => sendTo(gw, a.id, body, type)],
    ['connection, wait', (body, type) => sendTo(gw, a.id, body, type, '?wait=written')],
    ['room', (body, type) => publish(gw, 'room:lobby', body, { type })],
    ['broadcast', (body, type) => api(gw, 'POST', '/v1/broadcast', { headers: { 'Content-Type': type }, body })],
    ['user', (body, type) => api(gw, 'POST', '/v1/users/u/messages', { headers: { 'Content-Type': type }, body })],
  ];
  for (const [what, call] of targets) {
    for (const type of ['text/plain', 'application/octet-stream']) {
      expectError(await call(big, type), 413, `1025 bytes (${type}) to ${what}`);
      expectError(await call(huge, type), 413, `4 MiB (${type}) to ${what}`);
    }
  }
  await assertSilent(ca, 300, 'nothing too large was delivered');
  for (const [what, call] of targets) {
    const res = await call(ok, 'text/plain');
    assert.ok(res.status === 200 || res.status === 202, `1024 bytes to ${what}: ${show(res)}`);
  }
  for (let i = 0; i < 4; i++) {  // connection, connection wait, room, broadcast (no user)
    const r = await ca.next();
    assert.equal(r.data.length, 1024, `delivery ${i}`);
  }
  assert.equal(a.ws.readyState, a.ws.OPEN);
});

// ---------------------------------------------------------------- 9. metrics
test('metrics: wsgate_room_publishes_total counts publishes; wsgate_rooms and wsgate_connections{route} follow clients', T, async (t) => {
  const gw = await start(t);
  let m = await metrics(gw);
  const pub0 = publishes(m);
  assert.equal(roomsGauge(m), 0, 'wsgate_rooms at start');
  assert.equal(openOn(m, CHAT), 0);
  const clients = [];
  for (const p of ['/chat/lobby', '/chat/lobby', '/chat/lobby', '/chat/other', '/chat/other', '/plain']) {
    clients.push(await client(t, gw, p));
  }
  const cs = clients.map((x) => collect(x.ws));
  await waitRoom(gw, 'room:lobby', 3);
  await waitRoom(gw, 'room:other', 2);
  m = await metrics(gw);
  assert.equal(openOn(m, CHAT), 5, `wsgate_connections{route="${CHAT}"}`);
  assert.equal(openOn(m, '/plain'), 1, 'wsgate_connections{route="/plain"}');
  assert.equal(roomsGauge(m), 2, 'wsgate_rooms: room:lobby and room:other');

  const K = 7;
  for (let i = 0; i < K; i++) expectJson(await publish(gw, i % 2 ? 'room:other' : 'room:lobby', `p${i}`), 202, `publish ${i}`);
  for (const [i, c] of cs.slice(0, 5).entries()) {
    const want = Array.from({ length: K }, (_, k) => k).filter((k) => (k % 2 ? i >= 3 : i < 3)).map((k) => `p${k}`);
    const gotMsgs = [];
    for (let k = 0; k < want.length; k++) gotMsgs.push((await c.next()).data.toString());
    assert.deepEqual(gotMsgs, want, `client ${i}`);
  }
  m = await metrics(gw);
  assert.equal(publishes(m) - pub0, K, 'wsgate_room_publishes_total grew by the number of publishes');
  // Sends that are not room publishes do not count as such.
  expectJson(await sendTo(gw, clients[5].id, 'direct', 'text/plain'), 202, 'direct send');
  expectJson(await api(gw, 'POST', '/v1/broadcast', { headers: { 'Content-Type': 'text/plain' }, body: 'all' }), 202, 'broadcast');
  m = await metrics(gw);
  assert.equal(publishes(m) - pub0, K, 'direct sends and broadcasts are not room publishes');

  // room:other empties: the gauge drops by one; the route gauge follows the closes.
  for (const i of [3, 4]) { clients[i].ws.close(1000); await cs[i].closed(); }
  await waitForMetric(gw, 'wsgate_connections', { route: CHAT }, (v) => v === 3, 5000);
  await waitForMetric(gw, 'wsgate_rooms', {}, (v) => v === 1, 5000);
  assert.equal(await roomMembers(gw, 'room:other'), 0);
  assert.equal(await roomMembers(gw, 'room:lobby'), 3);
});

// demo_page.test.mjs: `server.demo_page` (issue 20): a browser's plain GET on that path gets the
// built-in page (HTML, no-store, a CSP that allows only inline code and WebSocket connections),
// HEAD gets its length without the body, an upgrade on the same path is still a route's
// business, the page connects to /echo (what a browser does with it: demo_page_browser.test.mjs, in
// Chromium), and without the key the path is a 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { startGateway, echoConfig, rawHttp, upgradeRequest, metrics, metricValue } from './harness.mjs';

const T = { timeout: 60000 };

test('server.demo_page serves the page to a plain GET and HEAD, and only there', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ extraServer: '  demo_page: /\n' }));
  const res = await rawHttp(gw.addr(0), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(res.status, 200, res.raw.toString('latin1').slice(0, 300));
  assert.deepEqual(res.headers['content-type'], ['text/html; charset=utf-8']);
  assert.deepEqual(res.headers['cache-control'], ['no-store']);
  assert.match(res.headers['content-security-policy'][0], /connect-src ws: wss:/);
  const html = res.body.toString('utf8');
  assert.equal(Number(res.headers['content-length'][0]), res.body.length);
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /new WebSocket\(/);
  assert.match(html, /\/echo/, 'connects to /echo by default');

  const head = await rawHttp(gw.addr(0), 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers['content-length'][0]), res.body.length);
  assert.equal(head.body.length, 0);

  const other = await rawHttp(gw.addr(0), 'GET /other HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(other.status, 404);
  const upgrade = await rawHttp(gw.addr(0), upgradeRequest({ path: '/' }));
  assert.equal(upgrade.status, 404, 'an upgrade on the page path is not served the page');
  const post = await rawHttp(gw.addr(0), 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  assert.equal(post.status, 404);
  const m = await metrics(gw);
  assert.equal(metricValue(m, 'wsgate_handshake_failures_total', { reason: 'not_found' }), 3,
    'the page is not a refusal; the three others are');
});

test('without server.demo_page the path is a 404', T, async (t) => {
  const gw = await startGateway(t, echoConfig());
  const res = await rawHttp(gw.addr(0), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(res.status, 404);
});

test('the page can sit on a route path: GET gets the page, an upgrade gets the route', T, async (t) => {
  const gw = await startGateway(t, echoConfig({ extraServer: '  demo_page: /echo\n' }));
  const page = await rawHttp(gw.addr(0), 'GET /echo HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(page.status, 200);
  const up = await rawHttp(gw.addr(0), upgradeRequest({ path: '/echo' }));
  assert.equal(up.status, 101);
});

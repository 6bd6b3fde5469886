import type { us_listen_socket } from 'uWebSockets.js';
import { AssertionError } from 'node:assert';
import test from 'ava';
import { loadUws } from '../../http/uws/load.js';
import { Responder } from '../../http/uws/response.js';

/**
 * The one header writer (Responder) on a real uWS app: a header that could split the response
 * is never written; the writer throws an AssertionError before writing anything, so the caller's
 * error path can still answer (here with a 500, as the server's does).
 */

const uws = loadUws();
let listenSocket: us_listen_socket | null = null;
let port = 0;
const thrown: unknown[] = [];

/** What each path asks the writer to send. */
const ROUTES: Record<string, (res: Responder) => void> = {
  '/split-value': (res) => res.send(200, [['x-a', 'v\r\nSet-Cookie: split=1']], 'ok'),
  '/lf-value': (res) => res.send(200, [['x-a', 'v\nSet-Cookie: split=1']], 'ok'),
  '/nul-value': (res) => res.send(200, [['x-a', 'v\x00']], 'ok'),
  '/bad-name': (res) => res.send(200, [['x-a: b\r\nSet-Cookie', 'split=1']], 'ok'),
  '/stream': (res) => res.beginStream(200, [['content-type', 'a\rb']], 2),
  '/extra': (res) => {
    res.addHeaders([['access-control-expose-headers', 'x\r\nSet-Cookie: split=1']]);
    res.send(200, [], 'ok');
  },
  '/tab': (res) => res.send(200, [['x-a', 'tab\there']], 'ok'),
};

test.before(async () => {
  const app = uws.App();
  app.any('/*', (res, req) => {
    const route = ROUTES[req.getUrl()];
    const responder = new Responder(res, 'T');
    try {
      route?.(responder);
    } catch (error) {
      thrown.push(error);
      responder.send(500, [], 'refused');
    }
  });
  listenSocket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) =>
      socket ? resolve(socket) : reject(new Error('listen')),
    ),
  );
  port = uws.us_socket_local_port(listenSocket);
});
test.after.always(() => {
  if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
});

for (const path of ['/split-value', '/lf-value', '/nul-value', '/bad-name', '/stream', '/extra']) {
  test.serial(`an unsafe header (${path}) is never written: 500 instead`, async (t) => {
    const before = thrown.length;
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    t.is(response.status, 500);
    t.is(await response.text(), 'refused');
    t.is(response.headers.get('set-cookie'), null);
    t.is(response.headers.get('x-a'), null);
    t.is(thrown.length, before + 1);
    t.true(thrown.at(-1) instanceof AssertionError);
  });
}

test.serial('a horizontal tab is a legal header value character', async (t) => {
  const response = await fetch(`http://127.0.0.1:${port}/tab`);
  t.is(response.status, 200);
  t.is(response.headers.get('x-a'), 'tab\there');
  await response.text();
});

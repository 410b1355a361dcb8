/**
 * Attack: an HTTP target (MESH_HTTP_TARGETS, docs/http-targets.md) that answers what no Lambda Invoke
 * answers, from raw sockets on 127.0.0.1 (test/support/raw-http-target.ts), to the real runtime and
 * pipeline over node:http. The caller must get a typed error within its deadline, and a request whose
 * body went out on an edge that is not idempotent must not be sent again:
 * - a redirect to another host: not followed (the deployment names the URL), and not taken for the
 *   answer either. It was: a 3xx classified as a success, and its body (or `undefined`) became the
 *   call's result, as if payments had charged;
 * - held already: a slow body and a storm of 1xx answers end at the deadline; a connection closed
 *   mid-answer, a bare CR in a header and a header past Node's limit end in a typed error, sent once;
 *   a `Set-Cookie` is never sent back.
 */

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { MeshCallError, MeshOutcomeUnknownError } from '../../functions/mesh/errors';
import { crlf, httpTargetCaller, RawTarget, settled } from '../support/raw-http-target';

describe('an HTTP target that answers what Invoke never does', () => {
  it('a redirect to another host is neither followed nor taken for the answer', async () => {
    const elsewhere = await new RawTarget((s) => s.end(crlf('HTTP/1.1 200 OK\nContent-Length: 2\n\n{}'))).start();
    const redirecting = await new RawTarget((s) =>
      s.end(crlf(`HTTP/1.1 307 Temporary Redirect\nLocation: ${elsewhere.url}\nContent-Length: 13\n\n{"charged":1}`)),
    ).start();
    const found = await new RawTarget((s) =>
      s.end(crlf(`HTTP/1.1 302 Found\nLocation: ${elsewhere.url}\nContent-Length: 0\n\n`)),
    ).start();
    try {
      for (const target of [redirecting, found]) {
        const { error } = await settled(httpTargetCaller({ url: target.url, auth: 'none' }).call('payments', { a: 5 }));
        assert.ok(error instanceof MeshCallError, `a typed error, not a result: ${String(error)}`);
        assert.match((error as Error).message, /\b30[27]\b/);
        assert.equal(target.heads.length, 1, 'an answer that is no success is not sent again');
      }
      assert.equal(elsewhere.heads.length, 0, 'nothing reached the host the redirect named');
    } finally {
      await Promise.all([elsewhere.stop(), redirecting.stop(), found.stop()]);
    }
  });

  it('held: a slow body and a storm of 1xx answers end at the deadline, and are not sent again', async () => {
    const slow = await new RawTarget((s) => {
      s.write(crlf('HTTP/1.1 200 OK\nContent-Length: 100000\n\n'));
      const t = setInterval(() => (s.writable ? s.write('a') : clearInterval(t)), 50);
      s.on('close', () => clearInterval(t));
    }).start();
    const storm = await new RawTarget((s) => {
      const t = setInterval(() => (s.writable ? s.write(crlf('HTTP/1.1 102 Processing\n\n')) : clearInterval(t)), 5);
      s.on('close', () => clearInterval(t));
    }).start();
    try {
      for (const target of [slow, storm]) {
        const rt = httpTargetCaller({ url: target.url, auth: 'none' }, { timeoutMs: 800 });
        const { ms, error } = await settled(rt.call('payments', {}));
        assert.ok(error instanceof MeshOutcomeUnknownError, `${String(error)}`);
        assert.match(error.message, /timed out/);
        // The per-try timer aborts the request; 1.7 s of slack for a starved event loop on busy cores.
        assert.ok(ms >= 790 && ms < 2_500, `${ms} ms for a deadline of 800 ms`);
        assert.equal(target.heads.length, 1);
      }
    } finally {
      await Promise.all([slow.stop(), storm.stop()]);
    }
  });

  it('held: a connection closed mid-answer, a bare CR in a header, a header past the limit: a typed error, sent once', async () => {
    const answers = [
      (s: Socket) => {
        s.write(crlf('HTTP/1.1 200 OK\nContent-Length: 100\n\n{"par'));
        setTimeout(() => s.destroy(), 20);
      },
      (s: Socket) => s.end('HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: b\r\nContent-Length: 2\r\n\r\n{}'),
      (s: Socket) => s.end(crlf(`HTTP/1.1 200 OK\nX-A: ${'a'.repeat(100_000)}\nContent-Length: 2\n\n{}`)),
    ];
    for (const answer of answers) {
      const target = await new RawTarget(answer).start();
      try {
        const { error } = await settled(httpTargetCaller({ url: target.url, auth: 'none' }).call('payments', {}));
        assert.ok(error instanceof MeshOutcomeUnknownError, `${String(error)}`);
        assert.equal(
          target.heads.length,
          1,
          'the body went out: an edge that is not idempotent does not send it again',
        );
      } finally {
        await target.stop();
      }
    }
  });

  it('held: a Set-Cookie is never sent back', async () => {
    const target = await new RawTarget((s) =>
      s.end(crlf('HTTP/1.1 200 OK\nSet-Cookie: session=stolen; Path=/\nConnection: close\nContent-Length: 2\n\n{}')),
    ).start();
    try {
      const rt = httpTargetCaller({ url: target.url, auth: 'none' });
      await rt.call('payments', {});
      await rt.call('payments', {});
      assert.equal(target.heads.length, 2);
      assert.doesNotMatch(target.heads[1]!, /^cookie:/im);
    } finally {
      await target.stop();
    }
  });
});

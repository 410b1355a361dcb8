/**
 * Attack: an HTTP target (MESH_HTTP_TARGETS) that answers without end. Lambda's Invoke holds a
 * function's response to 6 MB ("Lambda quotas", AWS Lambda Developer Guide); the HTTP transports read
 * a target's body whole, and over loopback a caller held 120 MB and more within the 1.5 s of a per-try
 * timeout, enough to end a 128 MB sandbox and every call in flight in it. The body is now read up to
 * the same 6 MB, and the call fails as Invoke's would (`Function.ResponseSizeTooLarge`, a function
 * error: the handler ran, so it is not sent again), at once rather than at the deadline. Real runtime
 * and pipeline over node:http, a raw socket on 127.0.0.1 (test/support/raw-http-target.ts).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshRemoteError } from '../../functions/mesh/errors';
import { eventually } from '../support/mesh-cli';
import { crlf, httpTargetCaller, pumpForever, RawTarget, settled } from '../support/raw-http-target';

/** Lambda's synchronous response limit, written out here so a change of the runtime's fails this test. */
const LIMIT = 6 * 1024 * 1024;

describe('an HTTP target whose answer has no end', () => {
  it('is cut at 6 MB: a typed error at once, the connection closed, the call not sent again', async () => {
    const target = await new RawTarget((s) => {
      s.write(crlf('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n'));
      pumpForever(s, `10000\r\n${'a'.repeat(0x10000)}\r\n`);
    }).start();
    const rssBefore = process.memoryUsage().rss;
    try {
      const { ms, error } = await settled(httpTargetCaller({ url: target.url, auth: 'none' }).call('payments', {}));
      assert.ok(error instanceof MeshRemoteError, `${String(error)}`);
      assert.equal(error.errorType, 'Function.ResponseSizeTooLarge');
      assert.match(error.message, new RegExp(`over ${LIMIT} bytes`));
      // Well before the edge's 5 s: the limit ended the attempt, not the deadline.
      assert.ok(ms < 4_000, `${ms} ms`);
      assert.equal(target.heads.length, 1, 'the handler ran: the call is not sent again');
      await eventually('the caller closes the connection it stopped reading', () => target.closed === 1, 5_000);
      // What the caller held: the limit and socket buffers, not the stream (loopback carries ~1 GB a second).
      const grownMb = (process.memoryUsage().rss - rssBefore) / 1e6;
      assert.ok(grownMb < 60, `rss grew ${grownMb.toFixed(0)} MB`);
    } finally {
      await target.stop();
    }
  });

  it('an answer of exactly 6 MB still arrives whole', async () => {
    const body = `"${'b'.repeat(LIMIT - 2)}"`;
    const target = await new RawTarget((s) =>
      s.end(crlf(`HTTP/1.1 200 OK\nContent-Length: ${body.length}\nConnection: close\n\n`) + body),
    ).start();
    try {
      const answer = await httpTargetCaller({ url: target.url, auth: 'none' }).call<string>('payments', {});
      assert.equal(answer.length, LIMIT - 2);
    } finally {
      await target.stop();
    }
  });
});

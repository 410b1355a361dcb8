/**
 * The HTTP/1.1 response reader of the AWS wire client (functions/mesh/aws/http1-exchange.ts): every
 * way a response may be framed, cut at every byte boundary (a socket delivers bytes in any pieces),
 * and the malformed responses it must refuse rather than misread.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Http1Response, requestBytes, responseReader } from '../../functions/mesh/aws/http1-exchange';

/** Feeds `raw` in pieces cut at `cuts`; returns the response and how many bytes went in before it. */
function read(raw: string, cuts: number[] = [], method = 'POST'): { res?: Http1Response; fedUpTo: number } {
  const bytes = Buffer.from(raw, 'latin1');
  const reader = responseReader(method);
  const bounds = [0, ...cuts, bytes.length];
  for (let i = 1; i < bounds.length; i++) {
    const res = reader.push(bytes.subarray(bounds[i - 1], bounds[i]));
    if (res) return { res, fedUpTo: bounds[i]! };
  }
  return { res: reader.end(), fedUpTo: bytes.length };
}

/** The same response read whole and cut at every single position: all must agree. */
function readEverySplit(raw: string): Http1Response {
  const whole = read(raw).res;
  assert.ok(whole, 'read whole');
  for (let cut = 1; cut < raw.length; cut++) {
    const split = read(raw, [cut]).res;
    assert.ok(split, `cut at ${cut}`);
    assert.equal(split.body.toString('latin1'), whole.body.toString('latin1'), `cut at ${cut}`);
    assert.deepEqual(split.headers, whole.headers, `cut at ${cut}`);
  }
  return whole;
}

describe('HTTP/1.1 response reader', () => {
  test('Content-Length: the body exactly, the connection reusable', () => {
    // Act
    const res = readEverySplit(
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}',
    );
    // Assess
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), '{"ok":true}');
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.reusable, true);
  });

  test('chunked: chunks, extensions and trailers, cut anywhere', () => {
    // Prepare: three chunks (one with an extension), then a trailer.
    const raw =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Amz-Executed-Version: 3\r\n\r\n' +
      '5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';
    // Act
    const res = readEverySplit(raw);
    // Assess
    assert.equal(res.body.toString(), 'hello 0123456789');
    assert.equal(res.headers['x-amz-executed-version'], '3');
    assert.equal(res.reusable, true);
  });

  test('a chunked body of binary bytes comes back byte for byte', () => {
    // Prepare: every byte value, CR and LF included, in one chunk.
    const data = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const raw = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n100\r\n'),
      data,
      Buffer.from('\r\n0\r\n\r\n'),
    ]).toString('latin1');
    // Act
    const res = readEverySplit(raw);
    // Assess
    assert.deepEqual(res.body, data);
  });

  test('no length: the body runs to the end of the connection, which is then not reused', () => {
    // Act
    const { res } = read('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', [30]);
    // Assess
    assert.equal(res?.body.toString(), 'until the end');
    assert.equal(res?.reusable, false);
  });

  test('Connection: close, and HTTP/1.0 without keep-alive, end the connection after the response', () => {
    assert.equal(read('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').res?.reusable, false);
    assert.equal(read('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').res?.reusable, false);
    assert.equal(read('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').res?.reusable, true);
  });

  test('no body after 204, 304 or a HEAD request, whatever the headers say', () => {
    assert.equal(read('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n').res?.body.length, 0);
    assert.equal(read('HTTP/1.1 304 Not Modified\r\n\r\n').res?.status, 304);
    assert.equal(read('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', [], 'HEAD').res?.body.length, 0);
  });

  test('an interim 100 Continue is skipped: the final response is the one read', () => {
    // Act
    const res = readEverySplit(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\n{}',
    );
    // Assess
    assert.equal(res.status, 429);
    assert.equal(res.body.toString(), '{}');
  });

  test('repeated headers are joined as node:http joins them; set-cookie is kept as a list', () => {
    // Act
    const { res } = read(
      'HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n',
    );
    // Assess
    assert.equal(res?.headers['x-a'], '1, 2');
    assert.deepEqual(res?.headers['set-cookie'], ['a=1', 'b=2']);
  });

  test('a response cut short is not complete: the caller sees the connection lost', () => {
    // Prepare
    const reader = responseReader('POST');
    // Act
    const partial = reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    // Assess
    assert.equal(partial, undefined);
    assert.equal(reader.end(), undefined, 'ten bytes were promised, three came');
    assert.equal(reader.started(), true);
    assert.equal(responseReader('POST').started(), false);
  });

  test('a malformed response is refused, never misread', () => {
    const bad = [
      'HTTP/2 200\r\n\r\n',
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nextra',
    ];
    for (const raw of bad) assert.throws(() => read(raw), /malformed HTTP response/, JSON.stringify(raw));
  });
});

describe('HTTP/1.1 request bytes', () => {
  test('request line, the headers as given, content-length, then the body', () => {
    // Act
    const bytes = requestBytes('POST', '/2015-03-31/functions/f/invocations?Qualifier=live', { host: 'h' }, 'é');
    // Assess
    assert.equal(
      bytes.toString('utf8'),
      'POST /2015-03-31/functions/f/invocations?Qualifier=live HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n\r\né',
    );
  });

  test('a header value past ASCII goes out in latin1, the body beside it in UTF-8, as bytes or as text', () => {
    // Act
    const text = requestBytes('POST', '/', { 'x-a': 'é' }, 'é');
    const bytes = requestBytes('POST', '/', { host: 'h' }, Buffer.from('é'));
    // Assess
    const head = Buffer.from('POST / HTTP/1.1\r\nx-a: \xe9\r\ncontent-length: 2\r\n\r\n', 'latin1');
    assert.deepEqual(text, Buffer.concat([head, Buffer.from('é')]));
    assert.equal(bytes.toString('utf8'), 'POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n\r\né');
  });

  test('a header node:http would refuse is refused before anything is written (no request splitting)', () => {
    assert.throws(() => requestBytes('POST', '/', { 'x-a': 'v\r\nx-injected: 1' }, ''), /invalid HTTP header/);
    assert.throws(() => requestBytes('POST', '/', { 'x-a\n': 'v' }, ''), /invalid HTTP header/);
    assert.throws(() => requestBytes('POST', '/', { 'x a': 'v' }, ''), /invalid HTTP header/);
    assert.throws(() => requestBytes('POST', '/', { 'x-a': '€' }, ''), /invalid HTTP header/);
    assert.doesNotThrow(() => requestBytes('POST', '/', { 'x-amz-target': 'DynamoDB_20120810.Query', 'x-b': 'é' }, ''));
  });
});

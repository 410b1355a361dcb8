/**
 * One HTTP/1.1 request and its response on a socket of node:net (http) or node:tls (https), written
 * and read here rather than through node:http: loading node:http and its client's first request cost
 * a new sandbox ~3 ms of CPU time more than a socket that writes the request itself
 * (docs/cold-start.md). The request goes out in one write, before the connection is even up; the
 * response is framed by `Content-Length`, by `Transfer-Encoding: chunked`, or by the end of the
 * connection (RFC 9112, "Message Body Length"). The parsing (`responseReader`) is pure: bytes in.
 * Written as closures, not a class: the minifier shortens local names but never property names.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

export interface Http1Response {
  readonly status: number;
  /** Names in lower case; a repeated header's values joined with `, ` (`set-cookie`: each kept). */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The connection may carry another request: the response was framed and did not ask to close. */
  readonly reusable: boolean;
}

/** The request's bytes: request line, headers (`content-length` added), blank line, body. */
export function requestBytes(
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array,
): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const name of Object.keys(headers)) {
    const value = headers[name]!;
    // As node:http checks them: a line break would let a value write headers of its own (request
    // splitting), and a character past latin1 would not go on the wire as it was given.
    if (!/^[!#$%&'*+.^_`|~\w-]+$/.test(name) || /[^\t\x20-\x7e\x80-\xff]/.test(value)) {
      throw new TypeError(`invalid HTTP header ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    }
    head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength}\r\n\r\n`;
  // A head in ASCII (as AWS's headers are) is the same bytes in UTF-8 as in latin1: one Buffer of one
  // string. With a response's head and body in one chunk, a first request then compiles no Buffer.concat.
  if (typeof body === 'string' && Buffer.byteLength(head) === head.length) return Buffer.from(head + body);
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]);
}

export interface ResponseReader {
  /** Feeds bytes; returns the response once it is complete. Throws on a malformed response. */
  push(data: Buffer): Http1Response | undefined;
  /** The connection ended: a response framed by its end is complete then; any other is cut short. */
  end(): Http1Response | undefined;
  /** Whether a byte of the response has arrived (a reset before one: the request may never have run). */
  started(): boolean;
}

const bad = (what: string) => Object.assign(new Error(`malformed HTTP response: ${what}`), { code: 'HPE_INVALID' });

/** A response's status line and headers, and how its body ends (RFC 9112, section 6.3). */
interface Head {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The connection ends after this response. */
  readonly close: boolean;
  readonly body: 'length' | 'chunked' | 'close' | 'none';
  /** The body's length, with `length`. */
  readonly length: number;
}

/** The head of a response (its text up to the blank line), or undefined for an interim 1xx one. */
function parseHead(text: string, method: string): Head | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/.exec(lines[0]!);
  if (!m) throw bad('status line');
  const status = Number(m[2]);
  // An interim response (100 Continue): the final one follows.
  if (status < 200) return undefined;
  const headers = parseHeaders(lines);
  const connection = String(headers.connection).toLowerCase();
  const close = m[1] === '0' ? connection !== 'keep-alive' : connection === 'close';
  const te = headers['transfer-encoding'];
  const length = headers['content-length'];
  const head = { status, headers, close, length: 0 };
  if (method === 'HEAD' || status === 204 || status === 304) return { ...head, body: 'none' };
  if (te !== undefined) return { ...head, body: /(?:^|,)\s*chunked\s*$/i.test(te) ? 'chunked' : 'close' };
  if (length === undefined) return { ...head, body: 'close' };
  if (!/^\d{1,15}$/.test(length)) throw bad('content-length');
  return { ...head, body: 'length', length: Number(length) };
}

/**
 * A chunked body's decoder (RFC 9112, section 7.1): chunk sizes, data, the CRLF after it, the trailers.
 * Takes bytes as they come, puts the data in `body`; true once the last chunk and trailers are read.
 */
function chunkedDecoder(body: Buffer[]): (data: Buffer) => boolean {
  // Bytes left of this chunk's data; 0: the CRLF after it; -1: a size line; -2: the trailers.
  let left = -1;
  let line = '';
  let done = false;
  return (data) => {
    let i = 0;
    while (i < data.length && !done) {
      if (left > 0) {
        const n = Math.min(left, data.length - i);
        body.push(data.subarray(i, i + n));
        i += n;
        left -= n;
        continue;
      }
      const nl = data.indexOf(10, i);
      const upto = nl < 0 ? data.length : nl + 1;
      line += data.subarray(i, upto).toString('latin1');
      i = upto;
      if (line.length > 8192) throw bad('chunk line');
      if (nl < 0) continue;
      const text = line.replace(/\r?\n$/, '');
      line = '';
      if (left === 0) {
        if (text !== '') throw bad('chunk longer than its size');
        left = -1;
      } else if (left === -2) done = text === '';
      else {
        const size = /^([0-9a-fA-F]{1,8})(?:[\t ]*;.*)?$/.exec(text);
        if (!size) throw bad('chunk size');
        left = Number.parseInt(size[1]!, 16) || -2;
      }
    }
    if (i < data.length) throw bad('bytes after the last chunk');
    return done;
  };
}

/** Reads one response to a `method` request from the bytes a socket delivers, chunk after chunk. */
export function responseReader(method: string): ResponseReader {
  /** The head's bytes so far, until it is complete. */
  let pending: Buffer | undefined = Buffer.alloc(0);
  let head: Head | undefined;
  const body: Buffer[] = [];
  // Made for the first chunked body only: AWS answers a small request with a Content-Length, and a
  // first call should not compile a decoder it does not use.
  let chunked: ((data: Buffer) => boolean) | undefined;
  let left = 0;
  let done = false;
  const response = (): Http1Response => ({
    status: head!.status,
    headers: head!.headers,
    body: body.length === 1 ? body[0]! : Buffer.concat(body),
    reusable: head!.body !== 'close' && !head!.close,
  });
  /** The body's bytes; true once the body is complete. */
  const take = (data: Buffer): boolean => {
    if (head!.body === 'chunked') {
      chunked ??= chunkedDecoder(body);
      return chunked(data);
    }
    body.push(data);
    if (head!.body !== 'length') return false;
    if (data.length > left) throw bad('more bytes than its content-length');
    left -= data.length;
    return left === 0;
  };
  return {
    push(data) {
      let rest = data;
      while (pending) {
        const buf = pending.length ? Buffer.concat([pending, rest]) : rest;
        // Searched as text, which the head is read as anyway: Buffer's indexOf is Node's, compiled on first use.
        const text = buf.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > 65_536) throw bad('headers over 64 KB');
          pending = buf;
          return undefined;
        }
        rest = buf.subarray(end + 4);
        head = parseHead(text.slice(0, end), method);
        pending = head ? undefined : Buffer.alloc(0);
        left = head?.length ?? 0;
        done = head?.body === 'none' || (head?.body === 'length' && left === 0);
      }
      if (!done && (rest.length || head!.body === 'chunked')) done = take(rest);
      return done ? response() : undefined;
    },
    end: () => (head?.body === 'close' ? response() : undefined),
    started: () => head !== undefined || (pending?.length ?? 0) > 0,
  };
}

/** Header lines (after the status line) to Node's shape: lower-case names, repeats joined. */
function parseHeaders(lines: string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad('header line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers[name];
    if (name === 'set-cookie') headers[name] = [...((had as string[] | undefined) ?? []), value];
    else headers[name] = had === undefined ? value : `${had}, ${value}`;
  }
  return headers;
}

export interface ExchangeOptions {
  readonly signal?: AbortSignal;
  /** Fail after this long without a byte, with the error `onTimeout` makes. */
  readonly timeoutMs?: number;
  readonly onTimeout: () => Error;
}

/**
 * Writes `request` on `socket` and resolves with the response. The socket is destroyed on any error,
 * on an abort and on a timeout, and after a response that cannot be followed by another; the
 * exchange's listeners are removed when it ends, so a kept-alive socket carries none into the next.
 * A connection lost before the whole response rejects with ECONNRESET, as node:http does ("socket hang
 * up" before a byte of it, "aborted" after).
 */
export function exchange(socket: Socket, method: string, request: Buffer, o: ExchangeOptions): Promise<Http1Response> {
  return new Promise<Http1Response>((resolve, reject) => {
    const reader = responseReader(method);
    const finish = (err: Error | undefined, res?: Http1Response) => {
      socket.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError).off('timeout', onTimeout);
      o.signal?.removeEventListener('abort', onAbort);
      if (o.timeoutMs !== undefined) socket.setTimeout(0);
      if (!res?.reusable) socket.destroy();
      if (res) resolve(res);
      else reject(err);
    };
    const onData = (d: Buffer) => {
      try {
        const res = reader.push(d);
        if (res) finish(undefined, res);
      } catch (err) {
        finish(err as Error);
      }
    };
    const onError = (err: NodeJS.ErrnoException) => {
      // Before a byte of the answer, a dropped connection is named as the AWS SDK's HTTP handler names
      // it, so both paths classify alike: a timeout, its outcome unknown.
      if (!reader.started() && /^(?:ECONNRESET|EPIPE|ETIMEDOUT)$/.test(err.code ?? '')) err.name = 'TimeoutError';
      finish(err);
    };
    const onEnd = () => {
      const res = reader.end();
      if (res) finish(undefined, { ...res, reusable: false });
      else onError(Object.assign(new Error(reader.started() ? 'aborted' : 'socket hang up'), { code: 'ECONNRESET' }));
    };
    const onTimeout = () => finish(o.onTimeout());
    const onAbort = () =>
      finish(
        Object.assign(new Error('The operation was aborted', { cause: o.signal?.reason }), {
          name: 'AbortError',
          code: 'ABORT_ERR',
        }),
      );
    if (o.signal?.aborted) return onAbort();
    socket.on('data', onData).once('end', onEnd).once('close', onEnd).on('error', onError);
    // Not `once`: `finish` removes it, and the options object costs a first call more to read.
    o.signal?.addEventListener('abort', onAbort);
    if (o.timeoutMs !== undefined) socket.setTimeout(o.timeoutMs).once('timeout', onTimeout);
    socket.write(request);
  });
}

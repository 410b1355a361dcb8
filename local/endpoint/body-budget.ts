/**
 * The bytes of request bodies the endpoint holds at once, across every connection. A body is read whole
 * before its request is served, up to its operation's cap (an Invoke's 7 MB, DynamoDB's 16 MB, 70 MB for
 * Lambda's other operations), and kept until the answer is written; a client that sends all but the last
 * byte keeps its share until Node's requestTimeout (300 s) ends its request. Without a bound across
 * connections, 60 such Invokes held 362 MB of the local mesh's memory, and a few thousand would end it.
 * Past the bound a request is throttled, as AWS throttles a caller (its SDK retries), and nothing it sends
 * is kept.
 */
export class BodyBudget {
  private held = 0;

  constructor(readonly capacity: number) {}

  /** Takes `bytes` for one request's body; false, taking nothing, when they do not fit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.capacity) return false;
    this.held += bytes;
    return true;
  }

  /** Gives back what `take` took, once the request's answer is written or its connection gone. */
  give(bytes: number): void {
    this.held -= bytes;
  }
}

/**
 * The share of the budget a request's body may use: what its Content-Length declares, at most `cap` (a
 * body past its cap is answered 413, and what is past it is not kept); `cap` when it declares none
 * (a chunked body may run to it).
 */
export function bodyShare(contentLength: string | undefined, cap: number): number {
  const declared = contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : cap;
  return Math.min(declared, cap);
}

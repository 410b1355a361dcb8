/**
 * A loopback Lambda that answers every Invoke at once with `answer` and then, when `holdUntil` is set,
 * keeps this process's event loop busy until then (busy-loop.ts): the answer waits on the caller's
 * socket while the caller's timers come due, as on a crowded sandbox.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { busyUntil } from './busy-loop';

export class LateAnswerLambda {
  /** Epoch ms until which the loop is held after each answer; 0 holds nothing. */
  holdUntil = 0;
  private readonly server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '1' });
      res.end(JSON.stringify(this.answer));
      busyUntil(this.holdUntil);
    });
  });

  constructor(private readonly answer: unknown) {}

  /** Listens on 127.0.0.1; resolves with the endpoint URL. */
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): void {
    this.server.close();
  }
}

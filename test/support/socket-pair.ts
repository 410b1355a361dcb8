/**
 * Loopback TCP connections whose two ends are both in this process: a test writes on one end (`client`,
 * a worker's or a server's side) and the code under test waits on the other (`accepted`), so an answer
 * travels through the kernel as it would from another process.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SocketPair {
  readonly client: Socket;
  readonly accepted: Socket;
}

export class SocketPairs {
  private readonly server: Server = createServer();
  private readonly open: Socket[] = [];

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
  }

  /** A connection of its own, both ends connected. */
  async pair(): Promise<SocketPair> {
    const client = connect((this.server.address() as AddressInfo).port, '127.0.0.1');
    const [[accepted]] = (await Promise.all([once(this.server, 'connection'), once(client, 'connect')])) as [
      [Socket],
      unknown,
    ];
    this.open.push(client, accepted);
    return { client, accepted };
  }

  close(): void {
    for (const s of this.open) s.destroy();
    this.server.close();
  }
}

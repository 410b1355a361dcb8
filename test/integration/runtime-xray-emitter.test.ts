/**
 * The runtime's X-Ray emitter on a real UDP socket on loopback: each segment is one datagram in the
 * daemon's format (a JSON header line, then the document), sent to AWS_XRAY_DAEMON_ADDRESS.
 */

import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { type SegmentDoc, XrayEmitter } from '../../functions/mesh/telemetry/xray-emitter';

describe('X-Ray emitter (UDP)', () => {
  let daemon: Socket;
  let port = 0;
  const received: string[] = [];
  let arrived: (() => void) | undefined;

  before(async () => {
    daemon = createSocket('udp4');
    daemon.on('message', (m) => {
      received.push(m.toString('utf8'));
      arrived?.();
    });
    await new Promise<void>((r) => daemon.bind(0, '127.0.0.1', () => r()));
    port = daemon.address().port;
  });
  after(() => daemon.close());

  const next = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram within 10 s')), 10_000);
      arrived = () => {
        clearTimeout(timer);
        resolve(received.shift()!);
      };
    });
  const doc = (name: string): SegmentDoc => ({
    trace_id: '1-5759e988-bd862e3fe1be46a994272793',
    id: '53995c3f42cd8ad8',
    name,
    start_time: 1,
    end_time: 2,
  });

  for (const address of ['127.0.0.1:PORT', 'udp:127.0.0.1:PORT', 'tcp:127.0.0.1:2000 udp:127.0.0.1:PORT']) {
    it(`sends one datagram per segment to ${address}`, async () => {
      const emitter = new XrayEmitter(address.replace('PORT', String(port)));
      try {
        const got = next();
        emitter.send(doc(address));
        const [header, body] = (await got).split('\n');
        assert.deepEqual(JSON.parse(header!), { format: 'json', version: 1 });
        assert.deepEqual(JSON.parse(body!), doc(address));
      } finally {
        emitter.close();
      }
    });
  }
});

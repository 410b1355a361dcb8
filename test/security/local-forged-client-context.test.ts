/**
 * Attack: an Invoke on the local mesh's AWS endpoint whose ClientContext carries a forged `custom.mesh`
 * of the wrong shape, as anyone can send with the aws CLI (`--client-context`). Lambda checks only that
 * a ClientContext is base64 of a JSON object and hands it to the function, whose wrapper drops what is
 * malformed (functions/mesh/metadata.ts). The local mesh reads the metadata itself too, for the caller
 * it shows and the trace it starts, and read it unchecked: a `trc` that was no string threw a TypeError
 * in the invoker (`text.split is not a function`), so the Invoke failed with a 500 where Lambda runs the
 * function, and a `src` that was no service name (an object, a string with a NUL or markup) was shown
 * as the caller of the invocation. Each is now read as Lambda's wrapper reads it: a malformed field is
 * no field. Real workers, the real endpoint and the real Lambda SDK client on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { FunctionRegistry } from '../../local/registry/function-registry';
import type { InvocationRecord } from '../../local/runtime/invoker';
import { startWorkerEndpoint, type WorkerEndpoint } from '../support/worker-endpoint';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

describe('attack: a forged custom.mesh of the wrong shape on the local endpoint', () => {
  let dir: string;
  let workers: WorkerEndpoint;
  let lambda: LambdaClient;
  const records: InvocationRecord[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forged-client-context-'));
    const code = join(dir, 'code');
    mkdirSync(code);
    writeFileSync(join(code, 'echo.js'), 'exports.handler = async (e, c) => ({ ran: true, cc: c.clientContext });');
    const registry = new FunctionRegistry();
    registry.putFunction({
      name: 'echo',
      codeDir: code,
      handler: 'echo.handler',
      runtime: 'nodejs20.x',
      timeout: 20,
      memorySize: 256,
      environment: {},
      layerDirs: [],
      codeSha256: 'echo',
    });
    workers = await startWorkerEndpoint(registry, dir);
    workers.invoker.onInvocation((r) => records.push(r));
    lambda = workers.lambda;
  });
  after(() => workers?.stop());

  /** What is forged, the ClientContext, and the caller the local mesh shows for it. */
  const forged: [string, unknown, string?][] = [
    ['a trc that is a number', { custom: { mesh: { v: 1, src: 'orders', trc: 5 } } }, 'orders'],
    ['a trc that is an object', { custom: { mesh: { v: 1, src: 'orders', trc: { Root: 1 } } } }, 'orders'],
    ['a trc that is an array, in a stringified mesh', { custom: { mesh: JSON.stringify({ v: 1, trc: ['x'] }) } }],
    ['a src that is an object', { custom: { mesh: { v: 1, src: { name: 'orders' } } } }],
    ['a src with a NUL', { custom: { mesh: { v: 1, src: 'orders\u0000payments' } } }],
    ['a src of markup', { custom: { mesh: { v: 1, src: '<img src=x onerror=alert(1)>' } } }],
    ['a src of 2,000 characters', { custom: { mesh: { v: 1, src: 'a'.repeat(2_000) } } }],
  ];

  for (const [what, cc, caller = 'external'] of forged) {
    it(`${what}: the function runs as Lambda runs it, and the caller shown is ${caller}`, async () => {
      const before = records.length;
      const r = await lambda.send(
        new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}'), ClientContext: b64(cc) }),
      );
      assert.equal(r.StatusCode, 200);
      assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
      const body = JSON.parse(Buffer.from(r.Payload ?? []).toString()) as { ran: boolean; cc: unknown };
      assert.equal(body.ran, true);
      // The function still gets the ClientContext as it was sent: Lambda does not rewrite it.
      assert.deepEqual(body.cc, cc);
      const [record] = records.slice(before);
      assert.equal(record?.source, caller);
    });
  }

  it('a well-formed src is still shown as the caller', async () => {
    const before = records.length;
    const cc = { custom: { mesh: { v: 1, src: 'orders' } } };
    await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}'), ClientContext: b64(cc) }));
    assert.equal(records.slice(before)[0]?.source, 'orders');
  });
});

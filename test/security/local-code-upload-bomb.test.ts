/**
 * Attack: a deployment package whose zip directory understates what its entries unpack to, sent to the
 * local mesh's AWS endpoint (UpdateFunctionCode's ZipFile) by any local process. The endpoint checked
 * Lambda's unzipped limit (250 MB) against the sizes the central directory declares, then inflated each
 * entry whole, however far past its declared size the data ran: a 50 MB upload of deflated zeros
 * declaring a few bytes unpacks to some 50 GB, held in memory at once, which ends the local mesh. An
 * entry must unpack to exactly the size it declares; one that runs past it is refused as Lambda refuses
 * a package it cannot unzip, nothing installed. The real endpoint and the real Lambda SDK on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { TestInvoker, TestRegistry } from '../integration/local-endpoint-fixture';
import { clientConfig } from '../support/example-assembly';
import { type ZipEntry, zipEntries } from '../support/zip-writer';

/** A zip of these entries, each declaring the size it is given rather than the one it has. */
const zipDeclaring = (entries: readonly (ZipEntry & { declared: number; deflate: boolean })[]) => zipEntries(entries);

const handler = Buffer.from('exports.handler = async () => "bomb";\n');
const cannotUnzip = (e: Error) =>
  e.name === 'InvalidParameterValueException' && /^Could not unzip uploaded file/.test(e.message);

describe('attack: a code upload that unpacks past what it declares', () => {
  let ep: Endpoint;
  let lambda: LambdaClient;
  const registry = new TestRegistry();

  before(async () => {
    registry.add('orders', async () => 'orders v1');
    ep = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry), log: () => undefined });
    lambda = new LambdaClient(clientConfig(ep.url));
  });

  after(async () => {
    lambda.destroy();
    await ep.close();
  });

  /** Sends the package; it must be refused, $LATEST's code as before and nothing left on disk for it. */
  async function refused(zip: Buffer): Promise<void> {
    const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));
    await assert.rejects(
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders', ZipFile: zip })),
      cannotUnzip,
    );
    const now = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));
    assert.equal(now.CodeSha256, before.CodeSha256);
    assert.equal(now.RevisionId, before.RevisionId);
  }

  it('refuses a deflated entry that unpacks to 4 MB where it declares 1 KB', async () => {
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    await refused(
      zipDeclaring([
        { name: 'index.js', data: handler, declared: handler.length, deflate: true },
        { name: 'padding.bin', data: zeros, declared: 1024, deflate: true },
      ]),
    );
  });

  it('refuses a stored entry whose data runs past its declared size', async () => {
    await refused(
      zipDeclaring([{ name: 'index.js', data: Buffer.alloc(1024 * 1024, 0x20), declared: 16, deflate: false }]),
    );
  });

  it('refuses an entry that unpacks to less than it declares', async () => {
    await refused(zipDeclaring([{ name: 'index.js', data: handler, declared: handler.length + 100, deflate: true }]));
  });

  it('leaves no unpacked files of a refused upload, and installs an honest one', async () => {
    const zeros = Buffer.alloc(2 * 1024 * 1024);
    await refused(zipDeclaring([{ name: 'big.bin', data: zeros, declared: 10, deflate: true }]));
    const honest = zipDeclaring([
      { name: 'index.js', data: handler, declared: handler.length, deflate: true },
      { name: 'zeros.bin', data: zeros, declared: zeros.length, deflate: true },
    ]);
    const out = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders', ZipFile: honest }));
    assert.equal(out.LastUpdateStatus, 'InProgress');
    const codeDir = registry.getSpec('orders')!.codeDir;
    assert.deepEqual(readdirSync(codeDir).sort(), ['index.js', 'zeros.bin']);
    // The refused uploads' folders (siblings of the installed one) are gone.
    const root = codeDir.slice(0, codeDir.lastIndexOf('/'));
    assert.deepEqual(
      readdirSync(root).filter((d) => `${root}/${d}` !== codeDir),
      [],
    );
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'orders' }));
    assert.equal(answer.StatusCode, 200);
  });
});

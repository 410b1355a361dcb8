/**
 * Logs what it got (`received <json>`, one line per record of a batch, each with the sender the mesh
 * verified and the invocation's request id) and fails when asked to (`fail: true`).
 */
import { mesh } from 'lambda-mesh/runtime';

interface SqsRecord {
  readonly body: string;
  readonly messageAttributes?: Record<string, unknown>;
}

export async function handler(
  event: { Records?: SqsRecord[]; fail?: boolean },
  context: { awsRequestId: string },
): Promise<unknown> {
  const records = event.Records ?? [{ body: JSON.stringify(event) }];
  for (const r of records) {
    const p = JSON.parse(r.body) as { fail?: boolean };
    const attributes = Object.keys(r.messageAttributes ?? {});
    const request = context.awsRequestId;
    console.log(`received ${JSON.stringify({ from: mesh.context()?.source, payload: p, attributes, request })}`);
    if (p.fail) throw new Error('asked to fail');
  }
  return { ok: true };
}

/**
 * One loopback endpoint standing in for the three AWS APIs a mesh function's first call touches, so
 * the mesh and the SDK clients it is measured against reach the same server: Lambda Invoke (answers
 * the callee's result at once), Secrets Manager GetSecretValue (the given secrets), DynamoDB Query
 * (the given policy items of the queried partition) and GetItem (the item at the key, as the policy
 * version poll reads it). Told apart as AWS tells them: the path, then
 * X-Amz-Target. No signature check: this measures the callers, not the server. Over TLS when given a
 * certificate, as every AWS endpoint is: a client's first request then pays for Node's TLS stack too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { marshallItem } from '../../shared/attribute-value';

export interface AwsStandIn {
  readonly url: string;
  /** Requests served, by API (`lambda`, `secretsmanager`, `dynamodb`). */
  readonly served: Record<string, number>;
  close(): Promise<void>;
}

export interface AwsStandInOptions {
  /** SecretId -> SecretString. */
  readonly secrets?: Record<string, string>;
  /** Policy items (plain JSON), answered by partition (Query) and by key (GetItem). */
  readonly items?: readonly Record<string, unknown>[];
  /** What an invoked function answers. */
  readonly answer?: (functionName: string, payload: string) => unknown;
  /** Serve HTTPS with this certificate (PEM, leaf then its issuer) and key; the clients must trust its CA. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export async function startAwsStandIn(options: AwsStandInOptions = {}): Promise<AwsStandIn> {
  const served: Record<string, number> = {};
  const json = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    if (invoke) {
      served.lambda = (served.lambda ?? 0) + 1;
      const fn = decodeURIComponent(invoke[1]!);
      res.setHeader('x-amz-executed-version', '1');
      return json(res, 200, options.answer ? options.answer(fn, body) : { ok: true });
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (target === 'secretsmanager.GetSecretValue') {
      served.secretsmanager = (served.secretsmanager ?? 0) + 1;
      const value = options.secrets?.[String(input.SecretId)];
      if (value === undefined) {
        return json(res, 400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      }
      return json(res, 200, { ARN: input.SecretId, Name: input.SecretId, SecretString: value, VersionId: 'v1' });
    }
    if (target === 'DynamoDB_20120810.Query') {
      served.dynamodb = (served.dynamodb ?? 0) + 1;
      const pk = (input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[':pk']?.S;
      const items = (options.items ?? []).filter((i) => i.pk === pk).map((i) => marshallItem(i));
      return json(res, 200, { Items: items, Count: items.length }, 'application/x-amz-json-1.0');
    }
    if (target === 'DynamoDB_20120810.GetItem') {
      served.dynamodb = (served.dynamodb ?? 0) + 1;
      const key = input.Key as Record<string, { S?: string }>;
      const item = (options.items ?? []).find((i) => i.pk === key.pk?.S && i.sk === key.sk?.S);
      return json(res, 200, item ? { Item: marshallItem(item) } : {}, 'application/x-amz-json-1.0');
    }
    json(res, 400, { __type: 'UnknownOperationException', message: `no ${req.method} ${req.url} ${target}` });
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => onRequest(req, res, Buffer.concat(chunks).toString('utf8')));
  };
  const server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`,
    served,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

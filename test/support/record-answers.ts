/** An SDK client's answers, byte for byte, kept before the SDK parses them (it folds `Message` into `message`). */
import { Readable } from 'node:stream';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface RawResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}
type Handle = (request: unknown, options?: unknown) => Promise<{ response: RawResponse }>;

/** Wraps the client's own HTTP handler so each answer's bytes are kept before the SDK reads them. */
export function recordAnswers<C extends { config: { requestHandler: unknown } }>(
  client: C,
  recorder: { last?: Answer },
): C {
  const handler = client.config.requestHandler as { handle: Handle };
  const handle = handler.handle.bind(handler);
  handler.handle = async (request, options) => {
    const out = await handle(request, options);
    const chunks: Buffer[] = [];
    for await (const chunk of out.response.body as Readable) chunks.push(Buffer.from(chunk));
    const body = Buffer.concat(chunks);
    recorder.last = { status: out.response.statusCode, headers: out.response.headers, body: body.toString('utf8') };
    out.response.body = Readable.from([body]);
    return out;
  };
  return client;
}

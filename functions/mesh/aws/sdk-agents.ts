/**
 * The node:http(s) agents of the runtime's AWS SDK clients (the paths the wire client does not take:
 * aws/wire-or-sdk.ts), which, as the wire client does, do not reuse a kept-alive socket after it sat
 * idle for `IDLE_RESET_MS`. The SDK's own agents reuse one however long it waited: a server closes idle
 * connections, and a Lambda sandbox thawed after a freeze holds sockets whose close it has not read.
 * A request written into one fails with ECONNRESET, which cannot tell "never arrived" from "ran and
 * then lost"; the runtime's clients make one attempt, so such a call would end "outcome unknown".
 *
 * The check is made as a request asks for a socket (`addRequest`, node:http's hook for it; a timer
 * per socket would not do: a thawed sandbox serves the invocation before its timers run). A stale socket
 * is destroyed and the request waits for it to close, so the agent's own books drop it first.
 */
import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { IDLE_RESET_MS } from './aws-wire-client';

/** An agent's hooks: `keepSocketAlive` (documented) stamps a socket as it is freed; `addRequest` gives a request its socket. */
type Hooked = Agent & { [hook: string]: (...args: never[]) => unknown };
type Freed = Socket & { freedAt?: number };

/** `requestHandler` options for an SDK client: both agents, kept-alive, fresh after an idle spell. */
export function sdkRequestHandler(now: () => number = Date.now, idleMs = IDLE_RESET_MS) {
  const agent = (http: typeof import('node:http')): Agent => {
    const a = new http.Agent({ keepAlive: true }) as Hooked;
    const { addRequest, keepSocketAlive } = a;
    a.keepSocketAlive = (socket: Freed) => {
      socket.freedAt = now();
      return keepSocketAlive.call(a, socket as never);
    };
    a.addRequest = (...args: never[]) => {
      const stale = (Object.values(a.freeSockets).flat() as Freed[]).filter((s) => s.freedAt! < now() - idleMs);
      // Each stale socket leaves the agent's books as it closes: only then may the request pick one.
      const closed = stale.map((s) => new Promise((resolve) => s.destroy().once('close', resolve)));
      void Promise.all(closed).then(() => addRequest.apply(a, args));
    };
    return a;
  };
  return { httpAgent: agent(require('node:http')), httpsAgent: agent(require('node:https')) };
}

/**
 * Loopback names: the only hosts the local listeners answer (the local mesh's AWS endpoint and each
 * sandbox's MESH_ENDPOINT) and the only ones an HTTP target may use plain http with. A request whose
 * Host header names anything else reached a loopback socket under a foreign name: DNS rebinding, a
 * browser page that resolved its own domain to 127.0.0.1. A page of another local web server
 * (another port: another origin) is refused too: these listeners send no CORS headers, so such a page
 * could only fire blind "simple" POSTs at them, never read an answer.
 *
 * No imports: the sandbox listener checks every request with it.
 */

/** `127.0.0.1`, `localhost` or `[::1]` (as `URL.hostname` spells them), any letter case. */
const HOSTNAME = String.raw`(?:127\.0\.0\.1|localhost|\[::1\])`;
const HOSTNAME_ONLY = new RegExp(`^${HOSTNAME}$`, 'i');
const HOST_HEADER = new RegExp(`^${HOSTNAME}(?::(?<port>[0-9]{1,5}))?$`, 'i');
const ORIGIN = new RegExp(`^(?<scheme>https?)://${HOSTNAME}(?::(?<port>[0-9]{1,5}))?$`, 'i');

/** A URL's hostname is a loopback name. */
export function isLoopbackHostname(hostname: string): boolean {
  return HOSTNAME_ONLY.test(hostname);
}

/** A Host header names this machine by a loopback name, with or without a port. Absent = refused. */
export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && HOST_HEADER.test(host);
}

/**
 * A request may be served by a loopback-only listener: its Host is a loopback name and, when a
 * browser sent it (Origin present), the page came from this listener: a loopback origin on the Host's
 * port (`Origin: null`, a sandboxed or file page, is refused). Tools (the AWS SDK, the `aws` CLI,
 * curl) send no Origin.
 */
export function isLoopbackRequest(headers: { host?: string; origin?: string | string[] }): boolean {
  const host = headers.host === undefined ? null : HOST_HEADER.exec(headers.host);
  if (!host) return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  const page = typeof origin === 'string' ? ORIGIN.exec(origin) : null;
  if (!page) return false;
  const pagePort = page.groups?.port ?? (page.groups?.scheme?.toLowerCase() === 'https' ? '443' : '80');
  // The listeners speak plain http: a Host without a port names port 80.
  return Number(pagePort) === Number(host.groups?.port ?? '80');
}

/**
 * Headless Chromium for the browser tests on a machine with nothing but Node and npm. On Linux x64 it
 * is the headless build that @sparticuz/chromium ships inside its npm package (brotli files, no install
 * script, so npm's policy of not running install scripts changes nothing); elsewhere a system Chromium
 * (Debian's /usr/bin/chromium) when there is one.
 *
 * The package unpacks into os.tmpdir(), shared by every run on the machine and trusted as soon as a
 * file of the right name exists. Here it unpacks into a fresh staging folder that is then renamed into
 * node_modules/.cache in one step: a parallel run never starts half a binary, and later runs reuse it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface HeadlessChromium {
  readonly executablePath: string;
  /** Environment for the browser process (the bundled NSS libraries when the system lacks them). */
  readonly env: Record<string, string>;
  /** Where the browser came from, for messages. */
  readonly source: string;
}

export async function headlessChromium(): Promise<HeadlessChromium> {
  if (process.platform === 'linux' && process.arch === 'x64') return fromNpm();
  if (existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, env: {}, source: SYSTEM_CHROMIUM };
  throw new Error(
    `no headless Chromium for ${process.platform}-${process.arch}: @sparticuz/chromium ships linux-x64 only, ` +
      `and ${SYSTEM_CHROMIUM} is missing (install Chromium there, e.g. \`apt-get install -y chromium\`)`,
  );
}

async function fromNpm(): Promise<HeadlessChromium> {
  // The package exports no ./package.json: its folder is two levels above its CommonJS entry.
  const pkgDir = join(dirname(require.resolve('@sparticuz/chromium')), '..', '..');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const cacheRoot = join(pkgDir, '..', '..', '.cache', 'lambda-mesh-chromium');
  const dir = join(cacheRoot, version);
  if (!existsSync(join(dir, 'chromium'))) await unpack(cacheRoot, dir);
  const executablePath = join(dir, 'chromium');
  // The build links NSS and expat dynamically; the package carries them for systems that lack them.
  const missing = execFileSync('ldd', [executablePath], { encoding: 'utf8' }).includes('not found');
  return {
    executablePath,
    env: missing ? { LD_LIBRARY_PATH: join(dir, 'al2023', 'lib') } : {},
    source: `@sparticuz/chromium ${version}`,
  };
}

async function unpack(cacheRoot: string, dir: string): Promise<void> {
  mkdirSync(cacheRoot, { recursive: true });
  const staging = mkdtempSync(join(cacheRoot, 'staging-'));
  // The package unpacks into os.tmpdir() (TMPDIR) and adds the NSS libraries only where it believes it
  // runs on Amazon Linux 2023: both are steered for the length of this one call.
  const saved = { TMPDIR: process.env.TMPDIR, AWS_LAMBDA_JS_RUNTIME: process.env.AWS_LAMBDA_JS_RUNTIME };
  try {
    const { default: chromium } = await import('@sparticuz/chromium');
    process.env.TMPDIR = staging;
    process.env.AWS_LAMBDA_JS_RUNTIME = 'nodejs20.x';
    const path = await chromium.executablePath();
    if (path !== join(staging, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${path}, not ${staging}`);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  try {
    renameSync(staging, dir);
  } catch (err) {
    // Another run renamed its copy first: use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, 'chromium'))) throw err;
  }
}

/** A headless browser with a profile of its own, and how to close both. */
export interface HeadlessBrowser {
  readonly browser: BrowserContext;
  close(): Promise<void>;
}

/** Launches the headless Chromium above with a fresh profile, removed again by `close`. */
export async function launchHeadless(viewport?: { width: number; height: number }): Promise<HeadlessBrowser> {
  const binary = await headlessChromium();
  const profile = mkdtempSync(join(tmpdir(), 'mesh-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: binary.executablePath,
    env: { ...process.env, ...binary.env },
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-sync', '--no-first-run'],
    ...(viewport ? { viewport } : {}),
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

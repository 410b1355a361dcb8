/**
 * `npm start` (scripts/start.js): synthesize the example app's two releases, run the
 * local mesh on release 1, drive demo traffic, then deploy release 2 under that traffic: payments'
 * new version goes out as a gated canary (a local CodeDeploy deployment, `--deployment-speed` times
 * faster than CodeDeploy), which its alarms roll back. A live view runs until Ctrl-C. With `--watch`,
 * every edit of the app's sources is synthesized again and deployed into the running mesh (local/watch).
 *   npm start -- [--port 4566] [--host 127.0.0.1] [--no-traffic] [--rps 20] [--deployment-speed 5] [--watch] [--no-iam]
 *                [--assembly <cdk.out> ...]
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ENV, LIVE_ALIAS } from '../shared/names';
import { didYouMean } from '../shared/suggest';
import { printable } from '../shared/terminal-text';
import { deploymentLines, deploymentViews } from './codedeploy/deployment-view';
import { liveAliases } from './dashboard/mesh-view';
import { terminalLog } from './endpoint/terminal-log';
import { liveRows, renderLiveView } from './live-view';
import { checkLocalMeshFlags, LOCAL_MESH_FLAGS, type LocalMeshFlags } from './local-flags';
import { type LocalMesh, startLocalMesh } from './mesh-local';
import { startTraffic, type Traffic, type TrafficRequest } from './traffic';
import { synthApp } from './watch/app-synth';
import type { BundleIndex } from './watch/bundle-index';
import { synthForWatch, watchApp } from './watch/watch-app';
import type { Watch } from './watch/watch-loop';

const ROOT = join(__dirname, '..');
const SOURCES = ['infra', 'functions', 'shared', 'cdk.json', 'package.json'];
const VIEW_WINDOW_MS = 10_000;

export interface StartArgs extends LocalMeshFlags {
  readonly port: number;
  readonly host: string;
  readonly traffic: boolean;
  readonly rps: number;
}

const USAGE =
  'usage: npm start -- [--port 4566] [--host 127.0.0.1] [--no-traffic] [--rps 20] [--deployment-speed 5] [--watch] [--no-iam] [--assembly <cdk.out dir>]...';

const START_FLAGS = {
  ...LOCAL_MESH_FLAGS,
  host: { type: 'string' },
  'no-traffic': { type: 'boolean' },
  rps: { type: 'string' },
} as const;

/** Pure: `npm start -- <flags>` -> what to run; a bad flag names the value and the fix. */
export function parseStartArgs(argv: readonly string[]): StartArgs {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof START_FLAGS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: [...argv], options: START_FLAGS, strict: true }));
  } catch (err) {
    throw new Error(`${flagProblem(err as Error & { code?: string })}; try npm start -- --help`);
  }
  if (values.help) throw new Error(USAGE);
  const rps = values.rps === undefined ? 20 : Number(values.rps);
  if (!(rps > 0)) throw new Error(`--rps ${JSON.stringify(values.rps)} must be a positive number, e.g. --rps 20`);
  // A 5-minute canary bakes 60 s at 5x, with 12 s alarm periods: the rollback shows within a minute.
  // At 10x a 6 s period holds so few of the canary's calls when a busy machine slows the traffic down
  // that two breaching periods in a row may never come, and the failing canary is promoted.
  const shared = checkLocalMeshFlags(values, 'the example app', 5);
  return {
    ...shared,
    port: shared.port ?? 4566,
    host: values.host ?? '127.0.0.1',
    traffic: values['no-traffic'] !== true,
    rps,
  };
}

/** What parseArgs refused, in the words `mesh` uses for the same mistakes. */
function flagProblem(err: Error & { code?: string }): string {
  const token = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${token}${didYouMean(
      token,
      Object.keys(START_FLAGS).map((f) => `--${f}`),
    )}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = token.split(' ')[0];
    return `${flag} needs a value, e.g. ${flag} <value>`;
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${token}`;
  return err.message;
}

/** Newest modification time under the app's sources (ms). */
function newestSource(): number {
  let newest = 0;
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const n of readdirSync(p)) if (n !== 'node_modules' && n !== 'dist') walk(join(p, n));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const s of SOURCES) walk(join(ROOT, s));
  return newest;
}

/** How the example app is synthesized (app-synth.ts gives it the local mesh's account and region). */
function exampleApp(release: number) {
  return { root: ROOT, context: { release: String(release) } };
}

/**
 * Synthesizes one release into `outdir` unless it is newer than the sources. For watch mode, release 2
 * is always synthesized, recorded, so that the first code edit can be hotswapped (watch-app.ts).
 */
async function synth(
  release: number,
  outdir: string,
  say: (l: string) => void,
  forWatch = false,
): Promise<BundleIndex | undefined> {
  const manifest = join(ROOT, outdir, 'manifest.json');
  if (!forWatch && existsSync(manifest) && statSync(manifest).mtimeMs > newestSource()) {
    say(`release ${release}: ${outdir} is newer than the sources, not synthesizing again`);
    return undefined;
  }
  say(`release ${release}: synthesizing the app (-c release=${release}) into ${outdir} ...`);
  const started = Date.now();
  const ticker = setInterval(
    () => say(`release ${release}: still synthesizing (${Math.round((Date.now() - started) / 1000)} s)`),
    5000,
  );
  try {
    const target = join(ROOT, outdir);
    const index = forWatch ? await synthForWatch(exampleApp(release), target) : undefined;
    if (!forWatch) await synthApp(exampleApp(release), target);
    say(`release ${release}: synthesized in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return index;
  } catch (err) {
    throw new Error(`release ${release}: ${(err as Error).message}`);
  } finally {
    clearInterval(ticker);
  }
}

/** Function names by mesh service (MESH_SERVICE): no hand-copied names. */
function servicesOf(mesh: LocalMesh): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of mesh.registry.listFunctions()) {
    const svc = f.Environment?.Variables?.[ENV.service];
    if (svc) out.set(svc, f.FunctionName);
  }
  return out;
}

/**
 * The demo's traffic: external checkouts through frontend, and frontend trying to charge payments
 * itself (`pay-direct`), an edge the policy does not declare: frontend's own mesh refuses it (fail
 * fast, denied_total), so the live view shows a policy denial, not a forged caller.
 */
export function demoPlan(services: ReadonlyMap<string, string>): TrafficRequest[] {
  const frontend = services.get('frontend') ?? 'shop-frontend';
  return [
    {
      label: 'checkout',
      functionName: `${frontend}:${LIVE_ALIAS}`,
      payload: { action: 'checkout', sku: 'sku-1', quantity: 1 },
      weight: 9,
    },
    {
      label: 'frontend -> payments (policy denies)',
      functionName: `${frontend}:${LIVE_ALIAS}`,
      payload: { action: 'pay-direct' },
      weight: 1,
    },
  ];
}

/** Versions the `live` alias routes to, per mesh function. */
function liveVersions(
  mesh: LocalMesh,
  services: ReadonlyMap<string, string>,
): { functionName: string; version: string }[] {
  const out: { functionName: string; version: string }[] = [];
  for (const fn of services.values()) {
    const a = mesh.registry.getAlias(fn, LIVE_ALIAS);
    if (!a) continue;
    for (const v of new Set([a.FunctionVersion, ...Object.keys(a.RoutingConfig?.AdditionalVersionWeights ?? {})]))
      out.push({ functionName: fn, version: v });
  }
  return out;
}

/**
 * Before the traffic loops start: checkouts through the whole chain, one at a time until every live
 * version has a warm environment (the canary is drawn by its weight, so it may take a few), then a
 * few concurrent rounds so each function has as many environments as the loops need. ~20 cold starts
 * at once under load would otherwise time out the first calls.
 */
async function preWarm(
  mesh: LocalMesh,
  services: ReadonlyMap<string, string>,
  concurrency: number,
  say: (l: string) => void,
): Promise<void> {
  const frontend = services.get('frontend');
  if (!frontend) return;
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({
    endpoint: mesh.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const wanted = liveVersions(mesh, services);
  const warm = () => {
    const have = new Set(mesh.invoker.workers().map((w) => `${w.functionName}:${w.version}`));
    return wanted.filter((w) => have.has(`${w.functionName}:${w.version}`)).length;
  };
  const checkout = () =>
    client
      .send(
        new InvokeCommand({
          FunctionName: `${frontend}:${LIVE_ALIAS}`,
          Payload: Buffer.from(JSON.stringify({ action: 'warm-up', sku: 'sku-1', quantity: 1 })),
        }),
      )
      .catch(() => undefined);
  const started = Date.now();
  try {
    say(
      `pre-warming ${wanted.length} live versions (${wanted.map((w) => `${w.functionName}:${w.version}`).join(', ')}) ...`,
    );
    let last = -1;
    for (let i = 0; i < 40 && warm() < wanted.length; i++) {
      await checkout();
      if (warm() === last) continue;
      last = warm();
      say(`pre-warming: ${last}/${wanted.length} live versions warm (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    for (let n = 2; n <= concurrency; n++) {
      await Promise.all(Array.from({ length: n }, checkout));
      say(
        `pre-warming: ${n} concurrent checkouts, ${mesh.invoker.workers().length} environments warm (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    client.destroy();
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const args = parseStartArgs(argv);
  const say = terminalLog('start');
  const { assemblies, index } = await exampleAssemblies(args, say);
  const log = openLog(say);
  // The last release is deployed once traffic flows (below), so its gated canary is judged on it.
  const later = assemblies.length > 1 ? assemblies[assemblies.length - 1] : undefined;
  const mesh = await startMesh(args, later ? assemblies.slice(0, -1) : assemblies, log);
  const services = servicesOf(mesh);
  const concurrency = 4;
  if (args.traffic) await preWarm(mesh, services, concurrency, say);
  const traffic = args.traffic
    ? startTraffic({ url: mesh.url, plan: demoPlan(services), rps: args.rps, concurrency })
    : undefined;
  if (later) await deployUnderTraffic(mesh, later, args.deploymentSpeed, say);
  const watching = args.watch ? watchExample(mesh, assemblies, index, log) : undefined;
  const view = startLiveView(mesh, services, traffic, watching);
  await stopped(say, async () => {
    view.stop();
    await watching?.watch.close();
    await traffic?.stop();
    await mesh.stop();
    log.end();
  });
}

/**
 * Release 2 under traffic: payments' new version goes out as a gated canary (a local CodeDeploy
 * deployment) that its alarms judge on the demo's traffic.
 */
async function deployUnderTraffic(mesh: LocalMesh, dir: string, speed: number, say: (l: string) => void) {
  say(`release 2: deploying ${dir} under traffic (deployments ${speed}x CodeDeploy's pace) ...`);
  try {
    const report = await mesh.apply(dir);
    for (const d of report.deployments) {
      say(
        `release 2: CodeDeploy deployment ${d.deploymentId} shifts ${d.functionName}:${d.alias} v${d.from} -> v${d.to}`,
      );
    }
  } catch (err) {
    say(`release 2 did not deploy: ${(err as Error).message}`);
  }
}

/** The assemblies to serve: those given, or the example's two releases (release 2 recorded for watch). */
async function exampleAssemblies(
  args: StartArgs,
  say: (l: string) => void,
): Promise<{ assemblies: string[]; index?: BundleIndex }> {
  if (args.assemblies.length > 0) return { assemblies: [...args.assemblies] };
  if (!existsSync(join(ROOT, 'infra/app.ts'))) {
    throw new Error(
      'the example app (infra/app.ts) is not in this tree yet; pass --assembly <cdk.out dir> to serve another assembly',
    );
  }
  await synth(1, 'cdk.out.release1', say);
  const index = await synth(2, 'cdk.out', say, args.watch);
  return { assemblies: [join(ROOT, 'cdk.out.release1'), join(ROOT, 'cdk.out')], index };
}

/** `.mesh/local-mesh.log`: the mesh's, the workers' and watch's lines, each also said on stderr where it says so. */
interface StartLog {
  readonly file: string;
  write(line: string): void;
  /** Says `line` and keeps it in the file with `tag`. */
  say(tag: string, line: string): void;
  end(): void;
}

function openLog(say: (l: string) => void): StartLog {
  mkdirSync(join(ROOT, '.mesh'), { recursive: true });
  const file = join(ROOT, '.mesh/local-mesh.log');
  const stream = createWriteStream(file, { flags: 'a' });
  return {
    file,
    write: (line) => stream.write(line),
    say: (tag, line) => {
      say(tag === 'mesh' ? line : `${tag}: ${line}`);
      stream.write(`[${tag}] ${line}\n`);
    },
    end: () => stream.end(),
  };
}

async function startMesh(args: StartArgs, assemblies: string[], log: StartLog): Promise<LocalMesh> {
  log.say('mesh', `starting the local mesh on ${args.host}:${args.port} (function logs: ${log.file})`);
  try {
    return await startLocalMesh({
      assemblies,
      deploymentSpeed: args.deploymentSpeed,
      enforceIam: args.enforceIam,
      port: args.port,
      host: args.host,
      log: (l) => log.say('mesh', l),
      onLog: (fn, v, line) => log.write(`${fn}:${v} ${line}\n`),
    });
  } catch (err) {
    log.end();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `port ${args.port} is in use (LocalStack or another mesh?): stop it or run npm start -- --port <free port>`,
      );
    }
    throw err;
  }
}

/** Watch mode: release 2 (what cdk.out serves) synthesized again and deployed on every edit. */
interface Watching {
  readonly watch: Watch;
  /** The live view's line about the last round. */
  lastRound(): string;
}

function watchExample(mesh: LocalMesh, assemblies: string[], index: BundleIndex | undefined, log: StartLog): Watching {
  let last = '';
  const watch = watchApp({
    ...exampleApp(2),
    outdir: assemblies[assemblies.length - 1]!,
    index,
    apply: (dir, options) => mesh.apply(dir, options),
    log: (l) => log.say('watch', l),
  });
  watch.onRound((r) => {
    last = r.error
      ? `  watch: the last edit did not build (${r.files.join(', ')}); see .mesh/local-mesh.log`
      : `  watch: ${r.files.join(', ')} deployed (${r.mode}) in ${(r.totalMs / 1000).toFixed(1)} s${r.changed.length ? `, changed ${r.changed.join(', ')}` : ''}`;
  });
  return { watch, lastRound: () => last || '  watch: waiting for edits of infra/, functions/, shared/' };
}

/** The lines above the live view: where the mesh is and how to call it. */
function viewHeader(mesh: LocalMesh, services: ReadonlyMap<string, string>): string[] {
  const frontend = services.get('frontend') ?? 'shop-frontend';
  const others = mesh.registry.functionNames().length - services.size;
  return [
    `Lambda Mesh, local: ${mesh.url}   (Ctrl-C stops everything)`,
    // The home region: the tables, functions and secrets the CLI finds without --region (services are regional).
    `  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=${mesh.regions.home} AWS_REGION=${mesh.regions.home}`,
    // AWS CLI v1 sends a string payload as is; v2 needs --cli-binary-format raw-in-base64-out too.
    `  aws --endpoint-url ${mesh.url} lambda invoke --function-name ${frontend} --qualifier ${LIVE_ALIAS} --payload '{"action":"checkout"}' out.json`,
    `  services: ${[...services].map(([svc, fn]) => `${svc} (${fn})`).join(', ')}` +
      (others > 0 ? `  + ${others} control-plane functions` : ''),
  ];
}

/** The commands to try, under the live view (and printed once when stdout is not a terminal). */
function tryLines(mesh: LocalMesh, services: ReadonlyMap<string, string>): string[] {
  const canaryService =
    [...services.keys()].find((svc) => {
      const a = mesh.registry.getAlias(services.get(svc)!, LIVE_ALIAS);
      return a && Object.keys(a.RoutingConfig?.AdditionalVersionWeights ?? {}).length > 0;
    }) ?? 'payments';
  return [
    '  try (in another terminal):',
    `    npx mesh status --endpoint-url ${mesh.url}          (a deployment in progress: its step and alarms)`,
    `    npx mesh rollback ${canaryService} --endpoint-url ${mesh.url}   (stops a deployment in progress)`,
    `    npx mesh shift ${canaryService} 50 --endpoint-url ${mesh.url}`,
    `    npx mesh rollout ${canaryService} --steps 25,50,100 --interval 10s --endpoint-url ${mesh.url}`,
    `    npx mesh stat --endpoint-url ${mesh.url}`,
    `    npx mesh trace --last --endpoint-url ${mesh.url}`,
    `    dashboard: ${mesh.url}/_mesh/`,
  ];
}

/** The lines under the live view's table: workers, traffic, watch, then the commands to try. */
function viewFooter(mesh: LocalMesh, traffic: Traffic | undefined, watching: Watching | undefined, tries: string[]) {
  const c = mesh.invoker.counters;
  const trafficLine = traffic
    ? `  traffic: ${Object.entries(traffic.counters)
        .map(([k, v]) =>
          v.denied > 0 ? `${k}: ${v.denied}/${v.sent} refused by frontend's mesh` : `${k} ${v.ok}/${v.sent} ok`,
        )
        .join('   ')}`
    : '  traffic generator off (--no-traffic)';
  return [
    `  workers ${mesh.invoker.workers().length}  cold starts ${c.coldStarts}  timeouts ${c.timeouts}  crashes ${c.crashes}  throttles ${c.throttles}`,
    trafficLine,
    ...deploymentLines(deploymentViews(mesh.codeDeploy, mesh.alarms, Date.now()), Date.now()),
    ...(watching ? [watching.lastRound()] : []),
    '',
    ...tries,
  ];
}

/** Redraws the live view every second on a terminal; elsewhere, one summary line every 5 s. */
function startLiveView(
  mesh: LocalMesh,
  services: ReadonlyMap<string, string>,
  traffic: Traffic | undefined,
  watching: Watching | undefined,
): { stop(): void } {
  const header = viewHeader(mesh, services);
  const tries = tryLines(mesh, services);
  const tty = process.stdout.isTTY;
  if (!tty) process.stdout.write(`${[...header, ...tries].join('\n')}\n`);
  let ticks = 0;
  const render = () => {
    ticks++;
    const rows = liveRows(
      mesh.store.stats({ windowMs: VIEW_WINDOW_MS }),
      mesh.recentInvocations(),
      Date.now(),
      VIEW_WINDOW_MS,
    );
    const footer = viewFooter(mesh, traffic, watching, tries);
    if (tty) process.stdout.write(`\x1b[H\x1b[2J${renderLiveView(rows, header, footer, liveAliases(mesh.registry))}\n`);
    else if (ticks % 5 === 0)
      process.stdout.write(
        `${new Date().toISOString()} ${printable(rows.edges.map((e) => `${e.source}->${e.destination}@${e.version} ${e.rps.toFixed(1)}rps ${e.successRate === null ? '-' : Math.round(e.successRate * 100)}%`).join(' | ') || 'no traffic')}\n`,
      );
  };
  const timer = setInterval(render, 1000);
  return { stop: () => clearInterval(timer) };
}

/** Resolves once the first SIGINT or SIGTERM has stopped everything (`stop`). */
function stopped(say: (l: string) => void, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      say(`${signal}: stopping traffic, workers and servers ...`);
      await stop();
      say('stopped; no processes left behind');
      resolve();
    };
    process.once('SIGINT', () => void onSignal('SIGINT'));
    process.once('SIGTERM', () => void onSignal('SIGTERM'));
  });
}

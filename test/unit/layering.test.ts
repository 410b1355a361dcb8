/**
 * The map of docs/architecture.md holds: which folder may import which, as the dependency-cruiser rules
 * in .dependency-cruiser.cjs, over the real sources. Each rule is also shown to catch the import it
 * forbids, in a small tree written for the purpose, and to be named in the document.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

const REPO = join(__dirname, '..', '..');
const config = require(join(REPO, '.dependency-cruiser.cjs')) as {
  forbidden: { name: string }[];
  options: Record<string, unknown>;
};

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

async function violations(baseDir: string, roots: readonly string[], options = config.options): Promise<Violation[]> {
  const { cruise } = await import('dependency-cruiser');
  const result = await cruise([...roots], {
    ...options,
    baseDir,
    ruleSet: { forbidden: config.forbidden },
    validate: true,
  } as never);
  return (result.output as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layering', () => {
  it('the sources keep to the map', async () => {
    const found = await violations(REPO, ['functions', 'shared', 'infra', 'cli', 'local']);
    assert.deepEqual(
      found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
      [],
      'imports the map in docs/architecture.md forbids',
    );
  });

  it('every rule is named in docs/architecture.md', () => {
    const doc = readFileSync(join(REPO, 'docs', 'architecture.md'), 'utf8');
    for (const rule of config.forbidden) assert.ok(doc.includes(`\`${rule.name}\``), `${rule.name} is not in the map`);
  });

  describe('each rule catches the import it forbids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambda-mesh-layering-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (files: Record<string, string>) => {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
    };
    // One forbidden import per rule; each target exists, so it resolves as in the real tree.
    const cases: [rule: string, from: string, to: string][] = [
      ['shared-is-the-base', 'shared/names.js', 'cli/args.js'],
      ['cdk-only-in-infra', 'functions/mesh/client.js', 'node_modules/aws-cdk-lib/index.js'],
      ['runtime-stands-alone', 'functions/mesh/wrapper.js', 'functions/control/issuer.js'],
      ['control-reads-runtime-identity-only', 'functions/control/rotation.js', 'functions/mesh/client.js'],
      ['demo-uses-the-public-runtime', 'functions/demo/orders.js', 'functions/mesh/wrapper.js'],
      ['infra-never-imports-code-it-deploys', 'infra/mesh.js', 'functions/mesh/wrapper.js'],
      ['cli-uses-the-local-mesh-entry-only', 'cli/commands/stat.js', 'local/telemetry/telemetry-store.js'],
      ['cli-deploys-nothing', 'cli/commands/status.js', 'infra/mesh.js'],
      ['local-never-imports-the-cli', 'local/live-view.js', 'cli/args.js'],
      ['local-runs-what-would-deploy', 'local/runtime/invoker.js', 'functions/mesh/metadata.js'],
      ['local-endpoint-and-telemetry-are-leaves', 'local/endpoint/server.js', 'local/dashboard/routes.js'],
      ['no-tests-in-sources', 'local/traffic.js', 'test/support/fixture.js'],
      ['no-cycles', 'cli/a.js', 'cli/b.js'],
    ];
    const files: Record<string, string> = {};
    for (const [, from, to] of cases) {
      const rel = to.startsWith('node_modules/')
        ? 'aws-cdk-lib'
        : `./${join(
            ...from
              .split('/')
              .slice(0, -1)
              .map(() => '..'),
            to,
          )}`;
      files[from] = `${files[from] ?? ''}require('${rel}');\n`;
      files[to] ??= '';
    }
    files['cli/b.js'] = "require('./a.js');\n";
    files['node_modules/aws-cdk-lib/package.json'] = '{"name":"aws-cdk-lib","main":"index.js"}';
    write(files);

    it('on a tree with one forbidden import per rule', async () => {
      const found = await violations(dir, ['functions', 'shared', 'infra', 'cli', 'local'], {
        doNotFollow: { path: 'node_modules' },
      });
      const byRule = new Map<string, string[]>();
      for (const v of found) byRule.set(v.rule.name, [...(byRule.get(v.rule.name) ?? []), `${v.from} -> ${v.to}`]);
      for (const [rule, from, to] of cases) {
        const seen = byRule.get(rule) ?? [];
        assert.ok(
          seen.some((s) => s.startsWith(`${from} -> `) && (s.endsWith(to) || rule === 'no-cycles')),
          `${rule} did not catch ${from} -> ${to}; it found: ${JSON.stringify(seen)}`,
        );
      }
      assert.deepEqual(
        config.forbidden.map((r) => r.name).filter((name) => !cases.some(([rule]) => rule === name)),
        [],
        'a rule without a case here',
      );
    });
  });
});

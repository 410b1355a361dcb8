/**
 * A cloud assembly of one stack `S` holding `resources`, written into a new temporary folder: what a
 * test of the local deployment needs when the example app would be too much.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function oneStackAssembly(prefix: string, resources: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      version: '36.0.0',
      artifacts: {
        S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.template.json', stackName: 'S' } },
      },
    }),
  );
  writeFileSync(join(dir, 'S.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

/**
 * A temporary directory that is gone when the test file's process exits: for what a test hands to
 * code that keeps writing there while the file runs (a CDK app's outdir), where removing it after each
 * test would race that code. Each test file runs in its own process, so nothing outlives its file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new directory under the OS's temporary directory, named `<prefix>XXXXXX`, removed at exit. */
export function tempDir(prefix: string): string {
  if (made.length === 0) process.once('exit', () => removeAll());
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function removeAll(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

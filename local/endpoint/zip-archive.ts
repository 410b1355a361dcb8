/**
 * Reads a .zip deployment package (UpdateFunctionCode's ZipFile) into a directory: stored and deflated
 * entries (what every zip tool writes for Lambda), unix modes kept, Lambda's unzipped limit enforced
 * before anything is written. No entry may leave the directory (`..`, absolute paths). Zip64 archives
 * are refused with an error naming the reason; Lambda's 50 MB upload cap keeps packages far below 4 GB.
 * The limit is checked on the sizes the central directory declares, so each entry must unpack to exactly
 * its declared size, and is inflated no further: deflated zeros unpack to about a thousand times their
 * size, and a 50 MB upload declaring a few bytes would otherwise be held in memory as some 50 GB.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipError extends Error {}

interface Entry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly mode: number;
  readonly localOffset: number;
}

/** The central directory's entries; throws ZipError when `buf` is no zip archive this reader takes. */
export function zipEntries(buf: Buffer): Entry[] {
  const eocd = findEndOfCentralDirectory(buf);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (p === 0xffffffff || count === 0xffff) throw new ZipError('zip64 archives are not supported');
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL) throw new ZipError('corrupt central directory');
    const nameLength = buf.readUInt16LE(p + 28);
    entries.push({
      method: buf.readUInt16LE(p + 10),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      mode: buf.readUInt32LE(p + 38) >>> 16,
      localOffset: buf.readUInt32LE(p + 42),
      name: buf.toString('utf8', p + 46, p + 46 + nameLength),
    });
    p += 46 + nameLength + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return entries;
}

/**
 * Writes the archive's files under `dir`; returns the unzipped size. Over `maxUnzipped`: nothing is
 * written. An entry refused part-way leaves the ones before it written: the caller removes `dir`.
 */
export function extractZip(buf: Buffer, dir: string, maxUnzipped: number): number {
  const entries = zipEntries(buf);
  const total = entries.reduce((n, e) => n + e.size, 0);
  if (total > maxUnzipped) throw new ZipError(`unzipped size ${total} over ${maxUnzipped}`);
  for (const e of entries) {
    const target = safePath(dir, e.name);
    if (e.name.endsWith('/')) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, contents(buf, e));
    if (e.mode & 0o777) chmodSync(target, e.mode & 0o777);
  }
  return total;
}

function contents(buf: Buffer, e: Entry): Buffer {
  const p = e.localOffset;
  if (p + 30 > buf.length || buf.readUInt32LE(p) !== LOCAL) throw new ZipError(`corrupt local header for ${e.name}`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const data = buf.subarray(start, start + e.compressedSize);
  const out = e.method === 0 ? data : e.method === 8 ? inflated(data, e) : undefined;
  if (!out) throw new ZipError(`${e.name} uses compression method ${e.method}; use stored or deflate`);
  if (out.length !== e.size) throw sizeMismatch(e);
  return out;
}

/** The entry's data inflated, one byte past its declared size at most (so a longer one shows). */
function inflated(data: Buffer, e: Entry): Buffer {
  try {
    return inflateRawSync(data, { maxOutputLength: e.size + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw sizeMismatch(e);
    throw new ZipError(`${e.name} is not valid deflate data (${(err as Error).message})`);
  }
}

function sizeMismatch(e: Entry): ZipError {
  return new ZipError(`${e.name} does not unpack to the ${e.size} bytes its header declares`);
}

function safePath(dir: string, name: string): string {
  const clean = normalize(name);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) {
    throw new ZipError(`entry ${JSON.stringify(name)} points outside the package`);
  }
  return join(dir, clean);
}

function findEndOfCentralDirectory(buf: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
  for (let p = buf.length - 22; p >= Math.max(0, buf.length - 22 - 0xffff); p--) {
    if (buf.readUInt32LE(p) === EOCD) return p;
  }
  throw new ZipError('not a zip archive (no end of central directory)');
}

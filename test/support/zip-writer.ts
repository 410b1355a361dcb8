/**
 * A .zip writer for tests: stored (uncompressed) entries, what a deployment package needs to be valid;
 * or, for attacks on the unzipper, deflated entries whose headers declare another size than they hold.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  /** The bytes the entry really unpacks to. */
  readonly data: Buffer;
  /** The unpacked size its headers declare (default: the true one). */
  readonly declared?: number;
  /** Deflated (method 8) instead of stored (method 0). */
  readonly deflate?: boolean;
}

export function zipFiles(files: Record<string, string | Buffer>): Buffer {
  return zipEntries(
    Object.entries(files).map(([name, content]) => ({
      name,
      data: Buffer.isBuffer(content) ? content : Buffer.from(content),
    })),
  );
}

export function zipEntries(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.deflate ? deflateRawSync(e.data, { level: 9 }) : e.data;
    const nameBytes = Buffer.from(e.name);
    const [method, crc, size] = [e.deflate ? 8 : 0, crc32(e.data), e.declared ?? e.data.length];
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by unix, so the mode below counts
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

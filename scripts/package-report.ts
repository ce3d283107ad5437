/**
 * After `serverless package`: prints each function's bundle size and records a digest of the sources the
 * package was built from (`.serverless/sources.sha256`), so the template tests can refuse a stale package.
 *
 * Usage: tsx scripts/package-report.ts
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..');
export const PACKAGE_DIR = join(ROOT, '.serverless');
export const DIGEST_PATH = join(PACKAGE_DIR, 'sources.sha256');

/** Everything that changes what `npm run package` produces. */
const SOURCES = [
  'serverless.yml',
  'package-lock.json',
  'esbuild-plugins.cjs',
  'tsconfig.json',
  'nag-acknowledgements.yml',
  'functions',
  'lib',
];

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

/** SHA-256 over the path and content of every source file, in a fixed order. */
export function sourceDigest(root = ROOT): string {
  const hash = createHash('sha256');
  for (const file of SOURCES.flatMap((source) => filesUnder(join(root, source)))) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  /** Where the entry's local header starts. */
  offset: number;
}

/** Lists a zip's files with their uncompressed sizes, read from the central directory (no extraction). */
export function zipEntries(path: string): ZipEntry[] {
  const zip = readFileSync(path);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${path} is not a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${i}`);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({
      name,
      size,
      compressedSize: zip.readUInt32LE(offset + 20),
      offset: zip.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Every file of a zip (stored or deflated, as the framework writes them), by name. */
export function unzip(path: string): Map<string, Buffer> {
  const zip = readFileSync(path);
  const files = new Map<string, Buffer>();
  for (const entry of zipEntries(path)) {
    if (entry.name.endsWith('/')) continue;
    const at = entry.offset;
    if (zip.readUInt32LE(at) !== 0x04034b50) throw new Error(`${path}: bad local header for ${entry.name}`);
    const method = zip.readUInt16LE(at + 8);
    const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
    // The central directory's sizes are the ones to trust (the local header may defer them).
    const data = zip.subarray(start, start + entry.compressedSize);
    files.set(entry.name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
  }
  return files;
}

/** Bytes of JavaScript in a function's zip (what a cold start loads). */
export const bundleBytes = (zip: string): number =>
  zipEntries(zip)
    .filter((entry) => /\.[cm]?js$/.test(entry.name))
    .reduce((sum, entry) => sum + entry.size, 0);

function main(): void {
  const zips = readdirSync(PACKAGE_DIR).filter((name) => name.endsWith('.zip'));
  console.log('bundle sizes (minified JS, uncompressed):');
  for (const zip of zips.sort()) {
    const kb = (bundleBytes(join(PACKAGE_DIR, zip)) / 1024).toFixed(1);
    console.log(`  ${zip.replace(/\.zip$/, '').padEnd(24)} ${kb.padStart(8)} KB`);
  }
  writeFileSync(DIGEST_PATH, `${sourceDigest()}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();

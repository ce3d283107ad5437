import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { readFunctions } from '../../../lib/local/routes.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const plugins = createRequire(import.meta.url)(join(root, 'esbuild-plugins.cjs')) as Plugin[];
const httpFunctions = readFunctions(join(root, 'serverless.yml')).filter((fn) => fn.http.length > 0);

/** The function bundled as serverless.yml bundles it, but with nothing left external but what Lambda never loads. */
async function bundle(file: string) {
  const result = await build({
    entryPoints: [join(root, `${file}.ts`)],
    bundle: true,
    minify: true,
    write: false,
    metafile: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    external: ['pg-native', '@electric-sql/pglite'],
    plugins,
    logLevel: 'silent',
  });
  return {
    inputs: Object.keys(result.metafile.inputs),
    bytes: result.outputFiles[0]!.contents.length,
    text: result.outputFiles[0]!.text,
  };
}

/** serverless.yml's banner: the one ESM import of a built-in (node:module, cheap), giving the bundle `require`. */
const BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

/** An ESM import of one of Node's own modules, as esbuild writes it (`from"node:http"`, `import"node:fs"`). */
const BUILTIN_IMPORT = new RegExp(
  `(?:from|import)\\s*["'](?:node:)?(?:${builtinModules.map((name) => name.replace(/[/]/g, '\\/')).join('|')})["']`,
);

/** `source` as an entry bundled as the functions are (plugins and banner), handed to `check` as a file. */
async function withBundle(source: string, check: (out: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'builtins-'));
  try {
    const entry = join(dir, 'entry.mjs');
    const out = join(dir, 'out.mjs');
    writeFileSync(entry, source);
    await build({
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'esm',
      banner: { js: BANNER },
      plugins,
      logLevel: 'silent',
    });
    await check(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('HTTP function bundles', () => {
  it.each(httpFunctions.map((fn) => [fn.name, fn.file]))(
    '%s carries no AWS SDK (queueing and secrets use lib/aws)',
    async (_name, file) => {
      // Act
      const { inputs } = await bundle(file);

      // Assess
      expect(inputs.filter((path) => path.includes('@aws-sdk/') || path.includes('@smithy/'))).toEqual([]);
    },
  );

  it.each(httpFunctions.map((fn) => [fn.name, fn.file]))(
    '%s loads Node’s own modules through require, never by an ESM import (37 ms for node:http on Node 24)',
    async (_name, file) => {
      // Act
      const { text } = await bundle(file);

      // Assess
      expect(text.match(BUILTIN_IMPORT)).toBeNull();
      expect(text).toMatch(/\("node:crypto"\)/);
    },
  );

  it('keeps every form of import of a built-in working: named, default, namespace, with and without node:', async () => {
    // Prepare: an entry using each form, bundled as the functions are
    await withBundle(
      `import { createHash } from 'node:crypto';
       import http from 'node:http';
       import * as path from 'path';
       import { EventEmitter } from 'events';
       export const answers = [
         createHash('sha1').update('x').digest('hex'),
         http.STATUS_CODES[404],
         path.posix.join('a', 'b'),
         typeof new EventEmitter().on,
       ];`,
      async (out) => {
        // Act
        const { answers } = (await import(pathToFileURL(out).href)) as { answers: unknown[] };
        // Assess
        expect(answers).toEqual(['11f6ad8ec52a2984abaafd7c3b516503785c2072', 'Not Found', 'a/b', 'function']);
        expect(readFileSync(out, 'utf8').slice(BANNER.length).match(BUILTIN_IMPORT)).toBeNull();
      },
    );
  });

  it('loads the modules of response streaming (middy) only when first used', async () => {
    // Prepare: a bundle that imports them at the top, as middy does, and reads one only when asked
    await withBundle(
      `import { ReadableStream } from 'node:stream/web';
       import { pipeline } from 'node:stream/promises';
       const loaded = () => process.moduleLoadList.filter((name) => name.includes('webstreams/readablestream')).length;
       const before = loaded();
       const stream = ReadableStream;
       export const answers = [before, loaded(), stream === (await import('node:stream/web')).ReadableStream, typeof pipeline];`,
      async (out) => {
        // Act: in a process of its own, where nothing else has loaded web streams
        const script = `const m = await import(${JSON.stringify(pathToFileURL(out).href)}); console.log(JSON.stringify(m.answers));`;
        const answers = JSON.parse(
          execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
        );
        // Assess: not loaded at import, loaded when read, the real thing
        expect(answers).toEqual([0, 1, true, 'function']);
      },
    );
  });
});

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  return { inputs: Object.keys(result.metafile.inputs), bytes: result.outputFiles[0]!.contents.length };
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
});

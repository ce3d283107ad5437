// esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins; bench/ uses them too).
// Parts of `pg` (and of this code) that a Lambda never uses are replaced by what they amount to there:
// - `./native` (the libpq binding) is reached only through `pg.native`, which this code never touches;
// - `pgpass` reads ~/.pgpass when the connection string has no password; a Lambda has no such file, so the
//   stub answers "no password found", exactly what the real module answers there;
// - `./stream` picks Node sockets or Cloudflare ones; to tell, on Node 20 (no `navigator`) it builds a
//   `Response`, which loads Node's whole fetch client (~20 ms at import): a Lambda is Node, so its Node half;
// - `pg-types`' binary parsers: `pg` asks for binary results only when a query says `binary: true`, which no
//   query here does (lib/db/pg.ts sends text-format queries only);
// - the local durable queues (lib/queue/local.ts, files under .data/): on Lambda every queue URL is required
//   (lib/config.ts) and lib/queue/index.ts refuses an unconfigured queue before it would reach them.
const stubs = {
  'pg-stream': {
    filter: /^\.\/stream$/,
    from: /[\\/]pg[\\/]lib$/,
    contents:
      "module.exports = { getStream: () => new (require('net').Socket)(), getSecureStream: (options) => require('tls').connect(options) };",
  },
  'pg-binary-parsers': {
    filter: /^\.\/lib\/binaryParsers$/,
    from: /[\\/]pg-types$/,
    contents: 'module.exports = { init() {} };',
  },
  'local-queues': {
    filter: /^\.\/local\.js$/,
    from: /[\\/]lib[\\/]queue$/,
    contents:
      "const absent = () => { throw new Error('local queues are not part of a Lambda bundle'); };" +
      'export const localQueues = new Proxy({}, { get: () => absent });',
    loader: 'js',
  },
  'pg-native': { filter: /^\.\/native$/, from: /[\\/]pg[\\/]lib$/, contents: 'module.exports = {};' },
  pgpass: { filter: /^pgpass$/, from: /[\\/]pg[\\/]lib$/, contents: 'module.exports = (_params, done) => done();' },
};

// Node's own modules are loaded through `require` (the banner's createRequire), never by an ESM import: an ESM
// import of a built-in builds its namespace, which reads every export, lazy ones included. On Node 24 (the Lambda
// runtime) that costs `node:http` 37 ms instead of 4, `node:crypto` 6 ms instead of 0.1, at every cold start. Each
// imported built-in becomes a one-line CommonJS module; esbuild's interop then reads an export only when used.
// The modules of middy's response streaming, which no function here uses, load on first use instead (4 ms on 24).
const { builtinModules } = require('node:module');
const builtins = new Set(builtinModules);
const isBuiltin = (path) => path.startsWith('node:') || builtins.has(path);
const LOADED_ON_FIRST_USE = new Set(['stream/web', 'stream/promises']);

function builtinShim(path) {
  const name = JSON.stringify(path);
  if (!LOADED_ON_FIRST_USE.has(path.replace(/^node:/, ''))) return `module.exports = require(${name});`;
  // The names are read here, at build time; each getter loads the module when first read.
  const names = JSON.stringify(Object.keys(require(path)).join(' '));
  return (
    `let loaded; const load = () => (loaded ??= require(${name}));\n` +
    `module.exports = Object.defineProperties({}, Object.fromEntries(${names}.split(' ').map((key) =>` +
    ' [key, { get: () => load()[key], enumerable: true }])));'
  );
}

const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    if (build.initialOptions.format !== 'esm') return;
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      (args.kind === 'import-statement' || args.kind === 'dynamic-import') && isBuiltin(args.path)
        ? { path: args.path, namespace: 'builtin-require' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin-require' }, (args) => ({
      contents: builtinShim(args.path),
      loader: 'js',
    }));
  },
};

module.exports = [
  builtinsThroughRequire,
  {
    name: 'lambda-stubs',
    setup(build) {
      for (const [name, stub] of Object.entries(stubs)) {
        build.onResolve({ filter: stub.filter }, (args) =>
          stub.from.test(args.resolveDir) ? { path: name, namespace: 'lambda-stub' } : undefined,
        );
      }
      build.onLoad({ filter: /.*/, namespace: 'lambda-stub' }, (args) => ({
        contents: stubs[args.path].contents,
        loader: 'js',
      }));
    },
  },
];

// esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins; bench/ uses them too).
// Two optional parts of `pg` that a Lambda never uses are replaced by what they amount to there:
// - `./native` (the libpq binding) is reached only through `pg.native`, which this code never touches;
// - `pgpass` reads ~/.pgpass when the connection string has no password; a Lambda has no such file, so the
//   stub answers "no password found", exactly what the real module answers there.
const stubs = {
  'pg-native': { filter: /^\.\/native$/, from: /[\\/]pg[\\/]lib$/, contents: 'module.exports = {};' },
  pgpass: { filter: /^pgpass$/, from: /[\\/]pg[\\/]lib$/, contents: 'module.exports = (_params, done) => done();' },
};

module.exports = [
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

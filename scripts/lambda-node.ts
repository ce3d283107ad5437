import { execFileSync } from 'node:child_process';

/**
 * The Node.js binary of the Lambda runtime's major version (24), from the npm registry with `npx -p node@24`
 * (cached by npx after the first run). Cold starts are measured and bundles run on it: module loading differs
 * between majors (on 24 an ESM import of `node:http` costs 37 ms, on 20 under 2).
 */
export function lambdaNode(): string {
  const path = execFileSync('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`expected Node 24 from npx, got ${version} at ${path}`);
  return path;
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// package.json declares "sideEffects": false, so a bundle leaves out every module whose exports its function never
// uses. That holds only while no module is imported for what it does when loaded.
const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('modules the Lambda bundles are built from', () => {
  it('are never imported for their effect alone (package.json declares no side effects)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { sideEffects?: unknown };
    expect(pkg.sideEffects).toBe(false);
    const bare = sources('lib')
      .concat(sources('functions'))
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/^\s*import\s+['"][^'"]+['"]/gm)].map(
          (match) => `${file.slice(root.length)}: ${match[0].trim()}`,
        ),
      );
    expect(bare).toEqual([]);
  });
});

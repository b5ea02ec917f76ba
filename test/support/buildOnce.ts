import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Vitest global setup: the package's own build, once before any test file,
 * as `npm install` runs it (`prepare`), so tests that spawn the compiled CLI
 * never race a rebuild. tsc emits even past a type error elsewhere (the type
 * check is `tsc --noEmit`); what counts is that this build wrote the CLI.
 */
export default function buildOnce(): void {
  const root = join(__dirname, '..', '..');
  const started = Date.now();
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  for (const file of ['main.js', join('run', 'vcpu.js')].map((f) => join(root, 'dist', 'cli', f))) {
    if (!existsSync(file) || statSync(file).mtimeMs < started - 1000) {
      throw new Error(`the build did not write ${file}:\n${build.stdout}${build.stderr}`);
    }
  }
}

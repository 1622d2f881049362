/**
 * How long a CLI process takes to start (`npm run bench -- --only cli`): `virtualghost ps --json` from a
 * fresh process, as bin/virtualghost.js runs it (the bundle with its code cache, src/host/cli/bundle-loader.ts)
 * against the same command run as tsc's ES modules (VIRTUALGHOST_CLI_BUNDLE=0), alternated in one run.
 * `ps` reads a few files and spawns nothing, so what is measured is Node's start and the CLI's load.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI_BUNDLE_ENV } from '../config/other-env.js';
import { packageRoot } from '../image/project-files.js';
import { summarize, type BenchRow } from './stats.js';

function psMs(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(packageRoot(), 'bin', 'virtualghost.js'), 'ps', '--json'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...env },
    });
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`virtualghost ps --json exited with ${code}`)),
    );
  });
}

export async function cliRows(rows: BenchRow[], runs: number, log: (m: string) => void): Promise<void> {
  log(`cli: ${runs} × \`ps --json\` as the bundle and as ES modules, alternated`);
  await psMs({}); // makes the bundle's code cache for `ps`, if this is its first run
  const bundle: number[] = [];
  const modules: number[] = [];
  for (let i = 0; i < runs; i++) {
    bundle.push(await psMs({}));
    modules.push(await psMs({ [CLI_BUNDLE_ENV]: '0' }));
  }
  rows.push({
    figure: 'CLI process start → exit (`ps --json`), bundle + code cache',
    unit: 'ms',
    value: summarize(bundle),
    baseline: { name: 'ES modules', value: summarize(modules) },
  });
}

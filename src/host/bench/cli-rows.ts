/**
 * How long a CLI process takes to start (`npm run bench -- --only cli`): `virtualghost ps --json` from a
 * fresh process, as bin/virtualghost.js runs it (the bundle with its code cache, src/host/cli/bundle-loader.ts)
 * against the same command run as tsc's ES modules (VIRTUALGHOST_CLI_BUNDLE=0), alternated in one run.
 * `ps` reads a few files and spawns nothing, so what is measured is Node's start and the CLI's load.
 */
import { CLI_BUNDLE_ENV } from '../config/other-env.js';
import { summarize, type BenchRow } from './stats.js';
import { cliRunMs } from './warm-figures.js';

const psMs = (env: NodeJS.ProcessEnv): Promise<number> => cliRunMs(['ps', '--json'], { env });

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

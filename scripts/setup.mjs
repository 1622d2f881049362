#!/usr/bin/env node
// Brings a fresh Debian machine to "ready": the Debian packages VirtualGhost needs (it says which and
// why), npm dependencies, the compiled CLI + agent bundle and, with --image or --for-tests, the guest
// image. Plain Node with no dependencies, so it runs before `npm ci`. Never leaves a half-installed
// state: without root it changes nothing and prints the exact command to run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const forTests = args.has('--for-tests');
const quiet = args.has('--quiet');
const say = (msg) => {
  if (!quiet) process.stderr.write(`setup: ${msg}\n`);
};

// One home for what the host needs, shared with `virtualghost doctor`: [command or file, Debian package, why].
const { packages } = JSON.parse(readFileSync(join(root, 'host-packages.json'), 'utf8'));
const row = (p) => [p.command ?? p.path, p.package, p.why];
const NEEDED = packages.filter((p) => p.command && p.need !== 'test').map(row);
const TEST_NEEDED = packages.filter((p) => p.command && p.need === 'test').map(row);
const FILES = packages.filter((p) => p.path).map(row);

const have = (cmd) =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], {
    stdio: 'ignore',
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` },
  }).status === 0;

function missingPackages() {
  const list = [...NEEDED, ...(forTests ? TEST_NEEDED : [])].filter(([cmd]) => !have(cmd));
  for (const file of FILES) if (!existsSync(file[0])) list.push(file);
  return list;
}

function aptListsEmpty() {
  try {
    return (
      readdirSync('/var/lib/apt/lists').filter((f) => f.endsWith('_Packages') || f.includes('Packages')).length === 0
    );
  } catch {
    return true;
  }
}

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    process.stderr.write(`setup: \`${cmd} ${cmdArgs.join(' ')}\` failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
}

function ensurePackages() {
  const missing = missingPackages();
  const needUpdate = aptListsEmpty();
  if (missing.length === 0 && !needUpdate) return;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  for (const [cmd, pkg, why] of missing) say(`missing ${cmd} (Debian package ${pkg}): ${why}`);
  if (needUpdate) say('apt has no package lists yet: the guest kernel and packages come from them');
  const isRoot = process.getuid?.() === 0;
  const cmd = [
    needUpdate || pkgs.length ? 'apt-get update' : '',
    pkgs.length ? `apt-get install -y --no-install-recommends ${pkgs.join(' ')}` : '',
  ].filter(Boolean);
  if (!isRoot) {
    process.stderr.write(
      `setup: installing these needs root. Run:\n\n  sudo sh -c '${cmd.join(' && ')}'\n\nthen run this command again.\n`,
    );
    process.exit(77);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  say(`running: ${cmd.join(' && ')}`);
  run('apt-get', ['update', '-q'], { env });
  if (pkgs.length) run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env });
  const still = missingPackages();
  if (still.length) {
    process.stderr.write(`setup: still missing after install: ${still.map(([c]) => c).join(', ')}\n`);
    process.exit(1);
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing npm dependencies (npm ci)');
  // node-pty and ssh2 build native code against Node's headers. Without an npm setting for them, node-gyp
  // downloads them from nodejs.org, which a machine that reaches only the npm registry cannot; Debian's
  // nodejs ships them in /usr/include/node (seen: a fresh HOME without the machine's ~/.npmrc failed here).
  const env = { ...process.env };
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  run('npm', ['ci', '--no-audit', '--no-fund'], { env });
}

function ensureBuilt() {
  const stamp = join(root, 'dist', '.build-stamp');
  const sources = Math.max(
    newestMtime(join(root, 'src')),
    newestMtime(join(root, 'scripts')),
    statSync(join(root, 'package-lock.json')).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  say('building (tsc -b + agent and CLI bundles)');
  run('npx', ['tsc', '-b']);
  run('node', ['scripts/bundle-agent.mjs']);
  run('node', ['scripts/bundle-cli.mjs']);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

ensurePackages();
ensureNodeModules();
ensureBuilt();
if (forTests || args.has('--image')) {
  say('checking the guest image (built once, then cached)');
  run('node', ['bin/virtualghost.js', 'image', 'build']);
}

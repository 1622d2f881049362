#!/usr/bin/env node
// `npm run package [-- --no-image]`: dist/virtualghost, the single executable for linux-x64 (a Node SEA).
// It holds the host CLI (bundled with esbuild), the guest's files (agent bundle, helper source, init
// scripts, node-pty, the plain node that becomes the guest's runtime), host-packages.json and, unless
// --no-image, the guest image of the current recipe (built first if the cache lacks it), appended after
// the SEA blob (src/host/sea/image-archive.ts says why). `npm run build` has run before this.
// `--out FILE` writes it elsewhere (the test writes into its run's dir).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
let opts;
try {
  ({ values: opts } = parseArgs({ options: { 'no-image': { type: 'boolean' }, out: { type: 'string' } } }));
} catch (err) {
  process.stderr.write(`package: ${err.message}; usage: npm run package [-- --no-image] [--out FILE]\n`);
  process.exit(64);
}
const withImage = !opts['no-image'];
const say = (msg) => process.stderr.write(`package: ${msg}\n`);
const dist = join(root, 'dist');
const out = resolve(opts.out ?? join(dist, 'virtualghost'));
const work = `${out}.work-${process.pid}`;
// The one home of the guest's files and their layout (also what the image recipe hashes).
const { projectFiles, isShippedNodePtyFile } = await import(join(dist, 'host', 'image', 'project-files.js'));
const { GUEST_NODE_PATH, SEA_MANIFEST_ASSET } = await import(join(dist, 'host', 'sea', 'embedded.js'));
const started = Date.now();

// The work dir goes however this ends (a failed build, Ctrl-C); a half-written executable too.
let writing = false;
let done = false;
process.on('exit', () => {
  rmSync(work, { recursive: true, force: true });
  if (writing && !done) rmSync(out, { force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
mkdirSync(join(work, 'assets'), { recursive: true });

say('bundling the host CLI');
await build({
  stdin: {
    contents: [
      "import { main } from './dist/host/cli/main.js';",
      'main(process.argv).then(',
      '  (code) => { process.exitCode = code; },',
      '  (err) => { process.stderr.write(`virtualghost: internal error: ${err?.stack ?? err}\\n`); process.exitCode = 70; },',
      ');',
    ].join('\n'),
    resolveDir: root,
    sourcefile: 'sea-main.js',
  },
  outfile: join(work, 'main.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // ssh2's optional native crypto and cpu-features: it falls back to Node's crypto when they are missing.
  // They become modules that throw, as a missing one would: the SEA's require() would warn on each.
  plugins: [
    {
      name: 'absent-native',
      setup(b) {
        b.onResolve({ filter: /^cpu-features$|\.node$/ }, (a) => ({ path: a.path, namespace: 'absent-native' }));
        b.onLoad({ filter: /.*/, namespace: 'absent-native' }, (a) => ({
          contents: `throw new Error(${JSON.stringify(`${a.path} is not in the single executable`)});`,
        }));
      },
    },
  ],
  // The SEA main script is CommonJS; the few import.meta.url users resolve relative to the executable.
  banner: { js: "const __vgImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__vgImportMetaUrl' },
  logLevel: 'warning',
  legalComments: 'none',
});

// [path in the assets dir, source file, gzip?]
const files = projectFiles(root);
// Every single file projectFiles() names, at its place under the package root: a guest file added there is
// carried without a second list to keep in step (the agent's loader was once missing from such a list).
const notSingleFiles = new Set(['nodePtyDir', 'nodeRuntime']); // walked below / stored at GUEST_NODE_PATH
const sources = [
  ...Object.entries(files)
    .filter(([key]) => !notSingleFiles.has(key))
    .map(([, f]) => [relative(root, f), f]),
  ['host-packages.json', join(root, 'host-packages.json')],
  ...walk(files.nodePtyDir)
    .filter((f) => {
      const rel = relative(files.nodePtyDir, f);
      return (
        rel === 'package.json' ||
        rel === 'build/Release/pty.node' ||
        (rel.startsWith('lib/') && isShippedNodePtyFile(f))
      );
    })
    .map((f) => [`node_modules/node-pty/${relative(files.nodePtyDir, f)}`, f]),
  [GUEST_NODE_PATH, files.nodeRuntime, true],
];

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

const assets = {};
const manifestFiles = sources.map(([path, src, gzip = false], i) => {
  const data = readFileSync(src);
  const asset = `f${i}`;
  const stored = join(work, 'assets', asset);
  writeFileSync(stored, gzip ? gzipSync(data, { level: 6 }) : data);
  assets[asset] = stored;
  const mode = statSync(src).mode & 0o755;
  return { path, asset, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length, mode, gzip };
});
const assetsId = createHash('sha256')
  .update(JSON.stringify(manifestFiles.map((f) => [f.path, f.sha256, f.mode])))
  .digest('hex')
  .slice(0, 16);

let image = null;
const archive = join(work, 'image.vgimg');
if (withImage) {
  const { ensureImage } = await import(join(dist, 'host', 'image', 'build.js'));
  const { ghostPaths } = await import(join(dist, 'host', 'store', 'paths.js'));
  const { writeImageArchive } = await import(join(dist, 'host', 'sea', 'image-archive.js'));
  say('finding (or building) the guest image of the current recipe');
  const img = await ensureImage({
    imagesDir: ghostPaths().imagesDir,
    onProgress: (p) => p.detail === 'done' && say(`image: ${p.title} done`),
    onNotice: say,
  });
  say(`compressing image ${img.id} (${img.manifest.kernelRelease})`);
  const { bytes, sha256 } = await writeImageArchive(img.dir, img.id, archive);
  image = { id: img.id, kernelRelease: img.manifest.kernelRelease, archiveBytes: bytes, archiveSha256: sha256 };
}

const manifest = { format: 1, assetsId, nodeVersion: process.version, files: manifestFiles, image };
writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
assets[SEA_MANIFEST_ASSET] = join(work, 'manifest.json');
writeFileSync(
  join(work, 'sea-config.json'),
  JSON.stringify({
    main: join(work, 'main.cjs'),
    output: join(work, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets,
  }),
);

const run = (cmd, argv) => {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    say(`${cmd} ${argv.join(' ')} failed (status ${r.status ?? r.signal})`);
    process.exit(1);
  }
};
say('writing the SEA blob');
run(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')]);
writing = true;
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
say('injecting it into a copy of node');
run(process.execPath, [
  join(root, 'node_modules', 'postject', 'dist', 'cli.js'),
  out,
  'NODE_SEA_BLOB',
  join(work, 'sea-prep.blob'),
  '--sentinel-fuse',
  'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
]);
if (image) {
  say('appending the image');
  await pipeline(createReadStream(archive), createWriteStream(out, { flags: 'a' }));
}
done = true;
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
say(
  `wrote ${relative(process.cwd(), out) || out}: ${mb(statSync(out).size)}, ${image ? `image ${image.id} (${mb(image.archiveBytes)})` : 'no image'}, assets ${assetsId}, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);

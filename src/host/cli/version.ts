/**
 * `virtualghost version [--json]`: what a bug report needs — our version, Node's, the QEMU found (if any),
 * the image id the current recipe gives, and the backends this build supports. `--version` stays the
 * bare version number.
 */
import { dirname } from 'node:path';
import { CONTROL_PROTOCOL_VERSION, PRODUCT_VERSION } from '../../shared/version.js';
import { currentRecipe } from '../image/build.js';
import { recipeId } from '../image/recipe.js';
import { QemuFactory } from '../vm/qemu/factory.js';
import { loadConfig } from '../config/load.js';
import { CONFIG_KEYS } from '../config/schema.js';
import { ghostPaths } from '../store/paths.js';
import { installForm, type InstallForm } from '../install/form.js';
import { embeddedReport } from '../sea/embedded.js';
import { cliLoadReport, type CliLoadReport } from './bundle-loader.js';

export const SUPPORTED_BACKENDS = ['qemu', 'firecracker'] as const;

export interface VersionReport {
  version: string;
  node: string;
  controlProtocol: number;
  /** How this copy was installed (doctor says what each form still needs). */
  installForm: InstallForm;
  /** First line of `qemu-system-x86_64 --version`, or null when QEMU is not found. */
  qemu: string | null;
  /** The id `image build` would give now, or null (with the reason) when the recipe cannot be resolved here. */
  imageRecipeId: string | null;
  imageRecipeError?: string;
  backends: readonly string[];
  /** The single executable's embedded assets and image, with their ids; null for any other install form. */
  embedded: ReturnType<typeof embeddedReport>;
  /** How this process loaded the CLI: the bundle (with its code cache's state) or tsc's modules. */
  cli: CliLoadReport;
}

export async function versionReport(): Promise<VersionReport> {
  // A broken config file must not stop a bug report: fall back to the default QEMU binary name.
  const paths = ghostPaths();
  let qemuBin: string = CONFIG_KEYS['qemu.bin'].default;
  try {
    qemuBin = loadConfig(paths.configFile).values['qemu.bin'];
  } catch {
    /* reported by every other verb */
  }
  const qemu = await new QemuFactory(qemuBin).version().catch(() => null);
  let imageRecipeId: string | null = null;
  let imageRecipeError: string | undefined;
  try {
    imageRecipeId = recipeId(await currentRecipe(dirname(paths.imagesDir)));
  } catch (err) {
    imageRecipeError = (err as Error).message.split('\n')[0] ?? String(err);
  }
  return {
    version: PRODUCT_VERSION,
    node: process.version,
    controlProtocol: CONTROL_PROTOCOL_VERSION,
    installForm: installForm(),
    qemu,
    imageRecipeId,
    ...(imageRecipeError !== undefined ? { imageRecipeError } : {}),
    backends: SUPPORTED_BACKENDS,
    embedded: embeddedReport(),
    cli: cliLoadReport(),
  };
}

export async function versionCommand(opts: { json?: boolean }): Promise<number> {
  const r = await versionReport();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  }
  const rows: Array<[string, string]> = [
    ['virtualghost', r.version],
    ['node', r.node],
    ['install', r.installForm],
    ['qemu', r.qemu ?? 'not found'],
    ['image recipe', r.imageRecipeId ?? `unknown (${r.imageRecipeError ?? 'no recipe'})`],
    ['backends', r.backends.join(', ')],
    ['protocol', String(r.controlProtocol)],
    [
      'cli',
      r.cli.form === 'bundle' ? `bundle, code cache ${r.cli.codeCache}` : `modules (${r.cli.reason ?? 'default'})`,
    ],
    ...(r.embedded
      ? ([
          ['assets', r.embedded.assetsId],
          ['embedded image', r.embedded.image ? `${r.embedded.image.id} (${r.embedded.image.kernelRelease})` : 'none'],
        ] as Array<[string, string]>)
      : []),
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(14)}${v}\n`);
  return 0;
}

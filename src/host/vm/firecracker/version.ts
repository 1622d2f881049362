/**
 * Firecracker version handling.
 *
 * Minimum supported version: 1.8.0. From 1.8 on, Firecracker describes its virtio-mmio devices to an x86_64
 * guest through ACPI tables, which is how our stock Debian kernel finds them (it lacks
 * VIRTIO_MMIO_CMDLINE_DEVICES, the older `virtio_mmio.device=` command-line mechanism). Older versions boot
 * the kernel but the guest never sees its disk or vsock. Tested against the v1.16.1 API spec.
 */
export interface FirecrackerVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export const MIN_FIRECRACKER_VERSION: FirecrackerVersion = { major: 1, minor: 8, patch: 0 };
export const SPEC_FIRECRACKER_VERSION: FirecrackerVersion = { major: 1, minor: 16, patch: 1 };

/** Parses `firecracker --version` output ("Firecracker v1.16.1" followed by other lines). */
export function parseFirecrackerVersion(output: string): FirecrackerVersion | undefined {
  const m = /Firecracker v(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function compareVersions(a: FirecrackerVersion, b: FirecrackerVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatVersion(v: FirecrackerVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** Runs `<bin> --version`; rejects if the output has no version (the probe has said why before this). */
export async function readFirecrackerVersion(bin: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      bin,
      ['--version'],
      { timeout: 3_000, env: env ?? process.env, encoding: 'utf8' },
      (err, stdout, stderr) => (err ? reject(err) : resolve(stdout + stderr)),
    ),
  );
  const v = parseFirecrackerVersion(out);
  if (!v) throw new Error(`${bin} --version printed no "Firecracker vX.Y.Z": ${JSON.stringify(out.slice(0, 120))}`);
  return formatVersion(v);
}

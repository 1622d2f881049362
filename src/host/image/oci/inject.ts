/**
 * Puts our guest side into an image converted from OCI, under /opt/ghostly only (INJECTED): the agent
 * and helper from the same payload as the Debian image, the host's Node with the libraries `ldd` says it
 * and node-pty need plus the loader itself, a static busybox (init.sh's shell and tools) and tini (PID 1),
 * and OpenSSH's sftp-server. The image's own files are not touched, whatever its libc.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { downloadPackage } from '../apt.js';
import { ImageBuildError } from '../errors.js';
import { INJECTED } from '../injected-paths.js';
import { assemblePayload } from '../payload.js';
import { projectFiles } from '../project-files.js';
import { runTool } from '../run-tool.js';

/** The busybox applets init.sh uses. */
const APPLETS = ['sh', 'mount', 'umount', 'mkdir', 'ln', 'ip', 'sed', 'sleep', 'cat', 'echo', 'rm'];

/** `ldd`'s answer for each binary: every library by its soname, resolved on this host. */
function sharedLibraries(binaries: readonly string[]): Map<string, string> {
  const libs = new Map<string, string>();
  for (const bin of binaries) {
    const out = execFileSync('ldd', [bin], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const m = /^\s*(\S+) => (\S+) \(/.exec(line);
      if (m) libs.set(m[1] as string, m[2] as string);
      else if (/not found/.test(line))
        throw new ImageBuildError(`${bin} needs a library this host lacks: ${line.trim()}`);
    }
  }
  return libs;
}

async function unpackDeb(pkg: string, work: string, signal?: AbortSignal): Promise<string> {
  const deb = await downloadPackage(pkg, work, signal);
  const dir = join(work, basename(deb, '.deb'));
  await runTool('dpkg-deb', ['-x', deb, dir], { pkg: 'dpkg' });
  return dir;
}

/** `optDir` is the image's /opt/ghostly on the host (its parents already resolved inside the rootfs). */
export async function injectGuestSide(optDir: string, work: string, signal?: AbortSignal): Promise<void> {
  rmSync(optDir, { recursive: true, force: true });
  const payload = join(work, 'payload');
  await assemblePayload(payload);
  cpSync(join(payload, 'opt', 'ghostly'), optDir, { recursive: true });
  const bin = join(optDir, 'bin');
  const lib = join(optDir, 'lib');
  mkdirSync(bin, { recursive: true });
  mkdirSync(lib, { recursive: true });
  copyFileSync(process.execPath, join(bin, 'node'));
  copyFileSync(realpathSync('/lib64/ld-linux-x86-64.so.2'), join(optDir, INJECTED.loader.slice(INJECTED.root.length)));

  const busybox = await unpackDeb('busybox-static', work, signal);
  copyFileSync(join(busybox, 'bin', 'busybox'), join(bin, 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(bin, applet));
  const tini = await unpackDeb('tini', work, signal);
  copyFileSync(join(tini, 'usr', 'bin', 'tini-static'), join(bin, 'tini'));
  const sftp = await unpackDeb('openssh-sftp-server', work, signal);
  const sftpBin = join(sftp, 'usr', 'lib', 'openssh', 'sftp-server');
  const pty = join(projectFiles().nodePtyDir, 'build', 'Release', 'pty.node');
  for (const [soname, path] of sharedLibraries([process.execPath, pty, sftpBin]))
    copyFileSync(realpathSync(path), join(lib, soname));
  copyFileSync(sftpBin, join(optDir, INJECTED.sftpServer.slice(INJECTED.root.length)));
  for (const f of ['node', 'busybox', 'tini', 'sftp-server']) chmodSync(join(bin, f), 0o755);
  chmodSync(join(optDir, INJECTED.loader.slice(INJECTED.root.length)), 0o755);
}

/** How the agent runs sftp-server in such an image. */
export const INJECTED_SFTP_ARGV = [INJECTED.loader, '--library-path', INJECTED.lib, INJECTED.sftpServer];

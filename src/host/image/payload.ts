/**
 * The tree this project adds to the Debian root filesystem: ghostly-agent (bundled), its native node-pty,
 * the native helper (compiled here, static), the guest init, and the host's own Node runtime (the
 * agent's node-pty addon is built against it; Debian 12's nodejs is an older major).
 */
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_NET, NET_KERNEL_PARAM } from '../../shared/guest-net.js';
import {
  GUEST_SOCKET_DIR,
  GUEST_SOCKETS,
  SSH_POOL_PORT_NAMES,
  VIRTIO_PORT_NAMES,
  VSOCK_PORTS,
} from '../../shared/ports.js';
import { ImageBuildError } from './errors.js';
import { INJECTED } from './injected-paths.js';
import { isShippedNodePtyFile, projectFiles } from './project-files.js';
import { runTool } from './run-tool.js';

/** init.sh names the ports and sockets through placeholders, so ports.ts stays the one source of truth. */
export function renderGuestInit(template: string): string {
  const values: Record<string, string> = {
    SOCKET_DIR: GUEST_SOCKET_DIR,
    SSH_PORT_NAME: VIRTIO_PORT_NAMES.ssh,
    CONTROL_PORT_NAME: VIRTIO_PORT_NAMES.control,
    SSH_POOL_PORT_NAMES: SSH_POOL_PORT_NAMES.join(' '),
    SSH_SOCKET: GUEST_SOCKETS.ssh,
    CONTROL_SOCKET: GUEST_SOCKETS.control,
    SSH_VSOCK_PORT: String(VSOCK_PORTS.ssh),
    CONTROL_VSOCK_PORT: String(VSOCK_PORTS.control),
    NET_KERNEL_PARAM,
    NET_IFACE: GUEST_NET.iface,
    NET_ADDRESS: `${GUEST_NET.address}/${GUEST_NET.prefixLength}`,
    NET_GATEWAY: GUEST_NET.gateway,
    NET_DNS: GUEST_NET.dns,
    NET_HOST_NAME: GUEST_NET.hostName,
    GHOSTLY_BIN: INJECTED.bin,
    GHOSTLY_LIB: INJECTED.lib,
    GHOSTLY_LOADER: INJECTED.loader,
  };
  return template.replace(/@([A-Z_]+)@/g, (whole, key: string) => {
    const v = values[key];
    if (v === undefined) throw new ImageBuildError(`guest-image/init.sh uses an unknown placeholder ${whole}`);
    return v;
  });
}

export async function assemblePayload(dir: string): Promise<void> {
  const files = projectFiles();
  const opt = join(dir, 'opt', 'ghostly');
  mkdirSync(join(opt, 'node_modules', 'node-pty'), { recursive: true });
  try {
    copyFileSync(files.agentBundle, join(opt, 'ghostly-agent.cjs'));
  } catch (err) {
    throw new ImageBuildError(`the agent bundle ${files.agentBundle} is missing: run \`npm run build\` first`, {
      cause: err,
    });
  }
  writeFileSync(join(opt, 'init.sh'), renderGuestInit(readFileSync(files.guestInit, 'utf8')), { mode: 0o755 });
  await runTool('cc', ['-O2', '-Wall', '-static', '-o', join(opt, 'ghostly-helper'), files.helperSource], {
    pkg: 'gcc libc6-dev',
  });
  const pty = join(opt, 'node_modules', 'node-pty');
  copyFileSync(join(files.nodePtyDir, 'package.json'), join(pty, 'package.json'));
  cpSync(join(files.nodePtyDir, 'lib'), join(pty, 'lib'), {
    recursive: true,
    filter: isShippedNodePtyFile,
  });
  mkdirSync(join(pty, 'build', 'Release'), { recursive: true });
  copyFileSync(join(files.nodePtyDir, 'build', 'Release', 'pty.node'), join(pty, 'build', 'Release', 'pty.node'));
  mkdirSync(join(dir, 'usr', 'local', 'bin'), { recursive: true });
  copyFileSync(files.nodeRuntime, join(dir, 'usr', 'local', 'bin', 'node'));
  chmodSync(join(dir, 'usr', 'local', 'bin', 'node'), 0o755);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'hostname'), 'ghost\n');
  writeFileSync(
    join(dir, 'etc', 'hosts'),
    '127.0.0.1\tlocalhost\n127.0.1.1\tghost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  );
}

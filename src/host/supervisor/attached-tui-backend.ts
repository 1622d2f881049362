/**
 * Ghostly Term attached to a supervised VM: tabs are the supervisor's persistent shells (existing ones
 * come back with their screens), the status line is refreshed from the supervisor once a second, and
 * prefix-d detaches.
 */
import type { ShellStream, StatusInfo, TuiBackend } from '../tui/index.js';
import { openRemoteShell, request, type RemoteShell } from './client.js';
import type { StatusReply } from './protocol.js';
import { shortPort, validPorts } from '../ports/spec.js';

export interface AttachedBackend extends TuiBackend {
  /** Stops the status refresh (call when the TUI ends). */
  dispose(): void;
  /** Whether any shell connection ended without its shell exiting while the supervisor was unreachable. */
  readonly lost: boolean;
  /** Why the VM died, if the supervisor said so on any of the shells (then every tab has ended). */
  readonly vmLost: string | undefined;
}

export async function attachedTuiBackend(socket: string): Promise<AttachedBackend> {
  let last = await request<StatusReply & Record<string, unknown>>(socket, { op: 'status' });
  let connection: StatusInfo['connection'] = 'connected';
  const refresh = setInterval(() => {
    request<StatusReply & Record<string, unknown>>(socket, { op: 'status' }).then(
      (s) => {
        last = s;
        connection = 'connected';
      },
      () => {
        connection = 'lost';
      },
    );
  }, 1000);
  refresh.unref();
  const shells: RemoteShell[] = [];
  const opened = (shell: RemoteShell): RemoteShell => {
    shells.push(shell);
    return shell;
  };
  return {
    detachable: true,
    get lost() {
      return connection === 'lost';
    },
    get vmLost() {
      return shells.find((sh) => sh.vmLost !== undefined)?.vmLost;
    },
    dispose: () => clearInterval(refresh),
    runningProcessCount: async () => (await request<{ count: number }>(socket, { op: 'processes' })).count,
    openShell: async (size): Promise<ShellStream> => opened(await openRemoteShell(socket, size)),
    existingShells: async (size) =>
      await Promise.all(last.tabs.map(async (t) => opened(await openRemoteShell(socket, { tab: t.id, ...size })))),
    statusInfo: (): StatusInfo => ({
      name: last.name,
      backend: last.backend,
      accel: last.accel,
      vcpus: last.vcpus,
      memoryMiB: last.memoryMiB,
      readyMs: last.readyMs,
      startedAt: last.startedAt,
      connection,
      ports: validPorts(last.ports).map(shortPort),
      ...(last.guestCpuPercent !== undefined ? { guestCpuPercent: last.guestCpuPercent } : {}),
      ...(last.guestMemUsedBytes !== undefined ? { guestMemUsedBytes: last.guestMemUsedBytes } : {}),
      ...(last.guestMemTotalBytes !== undefined ? { guestMemTotalBytes: last.guestMemTotalBytes } : {}),
    }),
  };
}

/**
 * `virtualghost proxy NAME`: joins stdin/stdout to a running named VM's SSH relay, for OpenSSH's
 * ProxyCommand (see ssh-config). Every proxy is its own SSH connection to the guest agent; OpenSSH does
 * the authentication and host-key check end to end. Ends when either side does.
 */
import { findNamedVm } from '../store/named-vm-files.js';
import { ghostPaths } from '../store/paths.js';
import { connectRelay } from '../ssh/relay-socket.js';

export async function proxy(name: string): Promise<number> {
  const sock = await connectRelay(findNamedVm(ghostPaths(), name));
  let answered = false;
  sock.once('data', () => (answered = true));
  await new Promise<void>((resolve) => {
    const done = (): void => {
      sock.destroy();
      resolve();
    };
    sock.on('error', done);
    sock.once('close', done);
    process.stdin.once('error', done);
    process.stdout.once('error', done); // EPIPE: OpenSSH went away
    // OpenSSH closes our stdin when it is finished: pipe() passes the EOF on, then the relay closes.
    process.stdin.pipe(sock);
    sock.pipe(process.stdout, { end: false });
  });
  process.stdin.unpipe(sock);
  process.stdin.destroy(); // a pending read on stdin would keep us alive
  // OpenSSH only says "Connection closed by UNKNOWN port 65535": say why when the guest never spoke.
  if (!answered)
    process.stderr.write(
      `virtualghost: VM ${name}'s relay closed the connection before the guest answered (every SSH stream of the VM busy, or the VM stopping); \`virtualghost logs ${name}\` shows which\n`,
    );
  return 0;
}

/**
 * Child process for orphan.test.ts: boots a VM through the real driver against the stand-in, prints the
 * VMM pid, then idles until it is SIGKILLed (so no exit handler of ours can run).
 * argv: <instance dir> <kernel> <initrd> <rootfs> <fake firecracker> [net profile]
 * With a net profile it also prints the network namespace's helpers (holder, pasta).
 */
import { join } from 'node:path';
import type { NetProfile } from '../../src/shared/guest-net.js';
import { FirecrackerDriverFactory } from '../../src/host/vm/firecracker/driver.js';

const [dirPath, kernelPath, initrdPath, rootfsPath, bin, net] = process.argv.slice(2);
if (!dirPath || !kernelPath || !initrdPath || !rootfsPath || !bin)
  throw new Error('usage: orphan-child <dir> <kernel> <initrd> <rootfs> <bin>');
const factory = new FirecrackerDriverFactory({ bin, kvmCheck: false });
const vm = factory.create(
  {
    name: 'orphan-test',
    vcpus: 1,
    memoryMiB: 128,
    kernelPath,
    initrdPath,
    rootfsPath,
    ...(net ? { net: net as NetProfile } : {}),
  },
  { path: dirPath, file: (f) => join(dirPath, f) },
  'kvm',
);
await vm.start(AbortSignal.timeout(10_000));
process.stdout.write(`${JSON.stringify({ vmmPid: vm.pid, helperPids: vm.helperPids })}\n`);
setInterval(() => undefined, 1_000);

/** `virtualghost doctor [--json]`: for each backend, can it run here, exactly why not, and what to do. */
import { kvmCanRunGuest } from '../vm/firecracker/index.js';
import { FIRECRACKER_NET_MISSING, firecrackerFactory } from '../vm/select.js';
import { findExecutable } from '../vm/which.js';
import { QemuFactory } from '../vm/qemu/factory.js';
import { cliContext } from './context.js';

export async function doctor(opts: { json?: boolean }): Promise<number> {
  const { config } = cliContext();
  const v = config.values;
  const qemu = await new QemuFactory(v['qemu.bin']).probe();
  const kvm = await kvmCanRunGuest({ qemuBin: v['qemu.bin'] });
  const fc = await (await firecrackerFactory(v)).probe();
  const report = {
    qemu: qemu.ok ? { ok: true, accel: kvm.ok ? 'kvm' : 'tcg', ...(kvm.ok ? {} : { note: `KVM unusable: ${kvm.reason}` }) } : { ok: false, reason: qemu.reason, remedy: qemu.remedy },
    firecracker: fc.ok ? { ok: true } : { ok: false, reason: fc.reason, remedy: fc.remedy },
    configured: { backend: v.backend, accel: v.accel, net: v['net.mode'], hostAccess: v['net.host_access'] },
    // What `--net` needs per backend: QEMU's NAT is passt; Firecracker has none yet.
    net: { qemu: netOnQemu(), firecracker: { ok: false, reason: FIRECRACKER_NET_MISSING } },
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const line = (name: string, r: { ok: boolean; reason?: string; remedy?: string; accel?: string; note?: string }): string =>
      r.ok ? `${name.padEnd(12)} available${r.accel ? ` (${r.accel})` : ''}${r.note ? `\n${' '.repeat(13)}${r.note}` : ''}` : `${name.padEnd(12)} unavailable: ${r.reason}\n${' '.repeat(13)}→ ${r.remedy}`;
    const netLine = (name: string, r: { ok: boolean; passt?: string; reason?: string; remedy?: string }): string =>
      `${name.padEnd(12)} ${r.ok ? `available (passt ${r.passt ?? ''})` : `unavailable: ${r.reason}${r.remedy ? `\n${' '.repeat(13)}→ ${r.remedy}` : ''}`}`;
    process.stdout.write(`${line('qemu', report.qemu)}\n${line('firecracker', report.firecracker)}\n`);
    process.stdout.write(`--net\n${netLine('  qemu', report.net.qemu)}\n${netLine('  firecracker', report.net.firecracker)}\n`);
    process.stdout.write(`configured   backend = "${v.backend}", accel = "${v.accel}", net.mode = "${v['net.mode']}", net.host_access = ${v['net.host_access']}\n`);
  }
  return qemu.ok || fc.ok ? 0 : 69;
}

function netOnQemu(): { ok: boolean; passt?: string; reason?: string; remedy?: string } {
  const passt = findExecutable('passt');
  return passt ? { ok: true, passt } : { ok: false, reason: 'passt (the user-mode NAT) is not on PATH', remedy: 'apt-get install passt' };
}

/** `virtualghost doctor [--json]`: for each backend, can it run here, exactly why not, and what to do. */
import { kvmCanRunGuest } from '../vm/firecracker/index.js';
import { FIRECRACKER_NET_MISSING, firecrackerFactory } from '../vm/select.js';
import { findExecutable } from '../vm/which.js';
import { QemuFactory } from '../vm/qemu/factory.js';
import { cliContext } from './context.js';
import { INSTALL_FORM_NAMES, installForm } from '../install/form.js';
import { installAdvice, type HostPackage, type InstallAdvice } from '../install/host-packages.js';
import { packageRoot } from '../image/project-files.js';

export async function doctor(opts: { json?: boolean }): Promise<number> {
  const { config } = cliContext();
  const v = config.values;
  const qemu = await new QemuFactory(v['qemu.bin']).probe();
  const kvm = await kvmCanRunGuest({ qemuBin: v['qemu.bin'] });
  const fc = await (await firecrackerFactory(v)).probe();
  const form = installForm();
  const advice = installAdvice(form);
  const report = {
    install: {
      form,
      root: form === 'single-executable' ? process.execPath : packageRoot(),
      missing: advice.missing,
      aptListsEmpty: advice.aptListsEmpty,
      command: advice.command,
    },
    qemu: qemu.ok
      ? { ok: true, accel: kvm.ok ? 'kvm' : 'tcg', ...(kvm.ok ? {} : { note: `KVM unusable: ${kvm.reason}` }) }
      : { ok: false, reason: qemu.reason, remedy: qemu.remedy },
    firecracker: fc.ok ? { ok: true } : { ok: false, reason: fc.reason, remedy: fc.remedy },
    configured: { backend: v.backend, accel: v.accel, net: v['net.mode'], hostAccess: v['net.host_access'] },
    // What `--net` needs per backend: QEMU's NAT is passt; Firecracker has none yet.
    net: { qemu: netOnQemu(), firecracker: { ok: false, reason: FIRECRACKER_NET_MISSING } },
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const line = (
      name: string,
      r: { ok: boolean; reason?: string; remedy?: string; accel?: string; note?: string },
    ): string =>
      r.ok
        ? `${name.padEnd(12)} available${r.accel ? ` (${r.accel})` : ''}${r.note ? `\n${' '.repeat(13)}${r.note}` : ''}`
        : `${name.padEnd(12)} unavailable: ${r.reason}\n${' '.repeat(13)}→ ${r.remedy}`;
    const netLine = (name: string, r: { ok: boolean; passt?: string; reason?: string; remedy?: string }): string =>
      `${name.padEnd(12)} ${r.ok ? `available (passt ${r.passt ?? ''})` : `unavailable: ${r.reason}${r.remedy ? `\n${' '.repeat(13)}→ ${r.remedy}` : ''}`}`;
    process.stdout.write(installLines(INSTALL_FORM_NAMES[form], report.install.root, form === 'checkout', advice));
    process.stdout.write(`${line('qemu', report.qemu)}\n${line('firecracker', report.firecracker)}\n`);
    process.stdout.write(
      `--net\n${netLine('  qemu', report.net.qemu)}\n${netLine('  firecracker', report.net.firecracker)}\n`,
    );
    process.stdout.write(
      `configured   backend = "${v.backend}", accel = "${v.accel}", net.mode = "${v['net.mode']}", net.host_access = ${v['net.host_access']}\n`,
    );
  }
  return qemu.ok || fc.ok ? 0 : 69;
}

function netOnQemu(): { ok: boolean; passt?: string; reason?: string; remedy?: string } {
  const passt = findExecutable('passt');
  return passt
    ? { ok: true, passt }
    : { ok: false, reason: 'passt (the user-mode NAT) is not on PATH', remedy: 'apt-get install passt' };
}

const INDENT = ' '.repeat(13);
const NEED_NAMES: Record<HostPackage['need'], string> = {
  run: 'every VM',
  image: 'building the guest image',
  net: '--net',
  test: 'npm test',
};

/** The install form, what the host lacks for it (and why), and the one command that fixes it. */
function installLines(formName: string, root: string, checkout: boolean, advice: InstallAdvice): string {
  const out = [`${'install'.padEnd(12)} ${formName} (${root})`];
  if (advice.command === null) {
    out.push(`${'host'.padEnd(12)} has every Debian package this install needs`);
  } else {
    const first = (i: number): string => (i === 0 ? 'host'.padEnd(12) : INDENT.slice(1));
    advice.missing.forEach((p, i) =>
      out.push(
        `${first(i)} missing ${p.command ?? p.path ?? p.package} (Debian package ${p.package}, needed for ${NEED_NAMES[p.need]}): ${p.why}`,
      ),
    );
    if (advice.aptListsEmpty)
      out.push(
        `${first(advice.missing.length)} apt has no package lists: the guest kernel and packages are resolved from them`,
      );
    out.push(`${INDENT}→ ${advice.command}`);
    if (checkout) out.push(`${INDENT}  (or \`npm start\`, whose scripts/setup.mjs runs it when started as root)`);
  }
  return `${out.join('\n')}\n`;
}

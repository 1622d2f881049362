/**
 * A suspended VM's saved state without a VM (saved-state.ts): what makes a state unusable is found before
 * anything is loaded — a meta missing or invalid, a state file of another size, a disk changed since the
 * save — and a damage of the same size is found by the hash. And the resume layout a state is bound to
 * changes with the VM's size and network (qemuResumeLayout).
 */
import { closeSync, mkdtempSync, openSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { prepareKept } from '../../src/host/supervisor/kept.js';
import {
  readSavedState,
  recordSavedState,
  removeSavedState,
  savedStateBytes,
  savedStatePaths,
  verifyStateHash,
} from '../../src/host/supervisor/saved-state.js';
import { generateClientKey } from '../../src/host/ssh/keys.js';
import { qemuResumeLayout } from '../../src/host/vm/qemu/snapshot-layout.js';

const root = mkdtempSync(join(tmpdir(), 'vg-saved-state-'));
const paths = ghostPaths({ HOME: root, XDG_STATE_HOME: join(root, 'state'), XDG_RUNTIME_DIR: join(root, 'run') });
const NAME = 'sus';
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function save(): Promise<ReturnType<typeof savedStatePaths>> {
  const kept = prepareKept(paths, { name: NAME, vcpus: 1, memoryMiB: 512, imageId: 'img' });
  writeFileSync(kept.disk, Buffer.alloc(64 * 1024, 1), { mode: 0o600 });
  const f = savedStatePaths(paths, NAME);
  writeFileSync(f.state, Buffer.alloc(3 * 1024 * 1024, 7), { mode: 0o600 });
  const key = generateClientKey();
  await recordSavedState(paths, NAME, {
    backend: 'qemu',
    identity: 'QEMU emulator version 7.2 layout x',
    imageId: 'img',
    vcpus: 1,
    memoryMiB: 512,
    net: 'none',
    clientPrivateKey: key.privateKey,
    clientPublicKey: key.publicOpenSsh,
    hostKey: generateClientKey().publicOpenSsh.split(' ').slice(0, 2).join(' '),
  });
  return f;
}

describe('saved state', () => {
  it('is usable as saved, and its hash verifies', async () => {
    await save();
    const found = readSavedState(paths, NAME);
    expect(found.state).toBe('ok');
    if (found.state !== 'ok') return;
    await expect(verifyStateHash(found.saved)).resolves.toBeUndefined();
    expect(savedStateBytes(paths, NAME)).toBe(3 * 1024 * 1024);
  });

  it('same-size damage is found by the hash', async () => {
    const f = await save();
    const fd = openSync(f.state, 'r+');
    writeSync(fd, Buffer.from('damaged'), 0, 7, 1024 * 1024);
    closeSync(fd);
    const found = readSavedState(paths, NAME);
    if (found.state !== 'ok') throw new Error(`expected ok before the hash, got ${found.state}`);
    await expect(verifyStateHash(found.saved)).rejects.toThrow(/saved-state\.bin is damaged: its SHA-256/);
  });

  it('a truncated state, a changed disk, a bad or missing meta are unusable, each saying why', async () => {
    let f = await save();
    writeFileSync(f.state, 'short');
    expect(readSavedState(paths, NAME)).toEqual({
      state: 'unusable',
      why: `saved-state.bin is 5 bytes; ${3 * 1024 * 1024} were saved`,
    });

    f = await save();
    utimesSync(f.disk, new Date(), new Date(Date.now() + 5000));
    expect(readSavedState(paths, NAME)).toEqual({
      state: 'unusable',
      why: 'its disk disk.qcow2 has changed since the state was saved',
    });

    f = await save();
    writeFileSync(f.meta, '{"format": 1, "backend": "qemu"}');
    expect(readSavedState(paths, NAME)).toMatchObject({ state: 'unusable', why: /saved-state\.json is invalid at/ });
    writeFileSync(f.meta, 'not json');
    expect(readSavedState(paths, NAME)).toEqual({ state: 'unusable', why: 'saved-state.json is not JSON' });
    rmSync(f.meta);
    expect(readSavedState(paths, NAME)).toEqual({ state: 'unusable', why: 'saved-state.json is missing' });

    removeSavedState(paths, NAME);
    expect(readSavedState(paths, NAME)).toEqual({ state: 'none' });
    expect(savedStateBytes(paths, NAME)).toBeUndefined();
  });

  it('the resume layout depends on the VM size and network, and not on anything else', () => {
    const base = qemuResumeLayout({ vcpus: 1, memoryMiB: 512, net: 'none' }, 'tcg');
    expect(qemuResumeLayout({ vcpus: 1, memoryMiB: 512, net: 'none' }, 'tcg')).toBe(base);
    expect(qemuResumeLayout({ vcpus: 2, memoryMiB: 512, net: 'none' }, 'tcg')).not.toBe(base);
    expect(qemuResumeLayout({ vcpus: 1, memoryMiB: 1024, net: 'none' }, 'tcg')).not.toBe(base);
    expect(qemuResumeLayout({ vcpus: 1, memoryMiB: 512, net: 'nat' }, 'tcg')).not.toBe(base);
    expect(qemuResumeLayout({ vcpus: 1, memoryMiB: 512, net: 'none' }, 'kvm')).not.toBe(base);
  });
});

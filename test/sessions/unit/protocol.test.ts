/** The supervisor's wire format: frames split anywhere reassemble exactly; bad frames are refused. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  FRAME,
  ShellFrameDecoder,
  MAX_FRAME,
  encodeShellFrame,
  lostPayload,
  parseLost,
  readLine,
  resizePayload,
} from '../../../src/host/supervisor/protocol.js';

describe('supervisor frames', () => {
  it('reassemble byte-exact whatever the chunking', () => {
    const payloads = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0, 1, 2, 255]), Buffer.alloc(70_000, 7)];
    const wire = Buffer.concat([
      ...payloads.map((p) => encodeShellFrame(FRAME.DATA, p)),
      encodeShellFrame(FRAME.RESIZE, resizePayload(132, 43)),
    ]);
    for (const step of [1, 3, 4096, wire.length]) {
      const got: Array<[number, Buffer]> = [];
      const dec = new ShellFrameDecoder();
      for (let i = 0; i < wire.length; i += step)
        dec.push(wire.subarray(i, i + step), (t, p) => got.push([t, Buffer.from(p)]));
      expect(got.slice(0, 4).map(([t, p]) => [t, p.toString('hex')])).toEqual(
        payloads.map((p) => [FRAME.DATA, p.toString('hex')]),
      );
      const [type, resize] = got[4]!;
      expect(type).toBe(FRAME.RESIZE);
      expect([resize.readUInt16BE(0), resize.readUInt16BE(2)]).toEqual([132, 43]);
    }
  });

  it('carries DROP (why the supervisor disconnects a client) as UTF-8 text', () => {
    const got: Array<[number, string]> = [];
    new ShellFrameDecoder().push(
      encodeShellFrame(FRAME.DROP, Buffer.from('you fell too far behind — re-attach', 'utf8')),
      (t, p) => got.push([t, p.toString('utf8')]),
    );
    expect(got).toEqual([[FRAME.DROP, 'you fell too far behind — re-attach']]);
  });

  it('refuses an unknown frame type and an oversized length before buffering it', () => {
    expect(() => new ShellFrameDecoder().push(Buffer.from([9, 0, 0, 0, 1, 0]), () => {})).toThrow(
      /unknown frame type 9/,
    );
    const huge = Buffer.alloc(5);
    huge.writeUInt8(FRAME.DATA, 0);
    huge.writeUInt32BE(MAX_FRAME + 1, 1);
    expect(() => new ShellFrameDecoder().push(huge, () => {})).toThrow(/exceeds/);
  });

  it('reads the request line and keeps what follows it for the frames', async () => {
    const s = new PassThrough();
    const line = readLine(s);
    s.write('{"op":"sta');
    s.write(`tus"}\n${'\x01'}rest`);
    const { line: text, rest } = await line;
    expect(text).toBe('{"op":"status"}');
    expect(rest.toString()).toBe('\x01rest');
  });

  it('rejects a line that never ends within the limit', async () => {
    const s = new PassThrough();
    const line = readLine(s, 16);
    s.write('x'.repeat(17));
    await expect(line).rejects.toThrow(/longer than 16 bytes/);
  });

  it('rejects an over-long line even when its newline arrives in the same read', async () => {
    const s = new PassThrough();
    const line = readLine(s, 16);
    s.write(`${'x'.repeat(17)}\n`);
    await expect(line).rejects.toThrow(/longer than 16 bytes/);
  });

  it('LOST carries why the VM died; a malformed one still says the VM is gone', () => {
    const got: Array<[number, Buffer]> = [];
    new ShellFrameDecoder().push(
      encodeShellFrame(
        FRAME.LOST,
        lostPayload('the VM k2 died: its qemu process exited unexpectedly (killed by SIGKILL)'),
      ),
      (t, p) => got.push([t, p]),
    );
    expect(got.map(([t]) => t)).toEqual([FRAME.LOST]);
    expect(parseLost(got[0]![1])).toBe('the VM k2 died: its qemu process exited unexpectedly (killed by SIGKILL)');
    for (const bad of ['', 'not json', '{"message": 7}', '{"message": ""}', 'null'])
      expect(parseLost(Buffer.from(bad))).toBe('the VM died (the supervisor gave no reason)');
  });
});

// A hostile SFTP v3 server for the guest (run by the guest's Node in place of OpenSSH's sftp-server).
// It serves a made-up tree described by a JSON spec (argv[2]) and says whatever the spec says: names
// with "/", "..", NUL or escape sequences, lying types and sizes, setuid modes, one name listed twice.
// Only what a downloading client needs: INIT, LSTAT/STAT/FSTAT, OPENDIR/READDIR, OPEN/READ/CLOSE,
// READLINK, REALPATH. Spec: { paths: { "/abs/path": Entry } } where Entry is
//   { type: "dir"|"file"|"symlink"|"socket", mode?: permission bits, mtime?, atime?, size?: claimed size,
//     data?: file content, list?: [name | { name, key?, as? }], target?: symlink text,
//     fill?: size of a file of "x" bytes (instead of data), delayMs?: wait before each READ reply,
//     openError?: [status code, message] }
// A listed name's attributes come from paths[key ?? posix.join(dir, name)], with `as` overriding the type.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, socket: 0o140000 };
const T = 1_600_000_000;

const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const u64 = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
};
const str = (s) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  return Buffer.concat([u32(b.length), b]);
};
const send = (type, ...parts) => {
  const body = Buffer.concat([Buffer.from([type]), ...parts]);
  process.stdout.write(Buffer.concat([u32(body.length), body]));
};
const status = (id, code, msg = '') => send(101, u32(id), u32(code), str(msg), str(''));

const lookup = (p) => spec.paths[p] ?? spec.paths[posix.normalize(p)];
const dataOf = (e) =>
  (e.bytes ??= e.fill !== undefined ? Buffer.alloc(e.fill, 'x') : Buffer.from(e.data ?? '', 'utf8'));
const attrs = (e, as) => {
  const size = e.size ?? dataOf(e).length;
  const perm = TYPE_BITS[as ?? e.type] | (e.mode ?? 0o644);
  return Buffer.concat([
    u32(1 | 2 | 4 | 8),
    u64(size),
    u32(0),
    u32(0),
    u32(perm),
    u32(e.atime ?? T),
    u32(e.mtime ?? T),
  ]);
};

const handles = new Map();
let nextHandle = 1;
const newHandle = (h) => {
  const id = String(nextHandle++);
  handles.set(id, h);
  return str(id);
};

function listing(dir, e) {
  return (e.list ?? []).map((item) => {
    const it = typeof item === 'string' ? { name: item } : item;
    const target = lookup(it.key ?? posix.join(dir, it.name)) ?? { type: 'file' };
    return Buffer.concat([str(it.name), str(it.name), attrs(target, it.as)]);
  });
}

function handle(pkt) {
  let o = 0;
  const type = pkt[o++];
  const rd32 = () => ((o += 4), pkt.readUInt32BE(o - 4));
  const rd64 = () => ((o += 8), Number(pkt.readBigUInt64BE(o - 8)));
  const rdStr = () => {
    const n = rd32();
    o += n;
    return pkt.subarray(o - n, o).toString('utf8');
  };
  if (type === 1) return send(2, u32(3));
  const id = rd32();
  switch (type) {
    case 3: {
      const p = rdStr();
      const e = lookup(p);
      if (e?.openError) return status(id, e.openError[0], e.openError[1]);
      if (!e || e.type !== 'file') return status(id, 2, 'No such file');
      return send(102, u32(id), newHandle({ e }));
    }
    case 4:
      handles.delete(rdStr());
      return status(id, 0, 'Success');
    case 5: {
      const h = handles.get(rdStr());
      const off = rd64();
      const len = rd32();
      const data = h?.e ? dataOf(h.e) : Buffer.alloc(0);
      const reply = () =>
        off >= data.length ? status(id, 1, 'End of file') : send(103, u32(id), str(data.subarray(off, off + len)));
      return h?.e?.delayMs ? void setTimeout(reply, h.e.delayMs) : reply();
    }
    case 7:
    case 17: {
      const e = lookup(rdStr());
      return e ? send(105, u32(id), attrs(e)) : status(id, 2, 'No such file');
    }
    case 8: {
      const h = handles.get(rdStr());
      return h?.e ? send(105, u32(id), attrs(h.e)) : status(id, 4, 'Failure');
    }
    case 11: {
      const p = rdStr();
      const e = lookup(p);
      if (!e?.list) return status(id, 2, 'No such file');
      return send(102, u32(id), newHandle({ items: listing(p, e) }));
    }
    case 12: {
      const h = handles.get(rdStr());
      if (!h?.items || h.items.length === 0) return status(id, 1, 'End of file');
      const items = h.items.splice(0);
      return send(104, u32(id), u32(items.length), ...items);
    }
    case 16: {
      const p = rdStr();
      const abs = posix.normalize(p.startsWith('/') ? p : `/root/${p}`);
      return send(104, u32(id), u32(1), str(abs), str(abs), u32(0));
    }
    case 19: {
      const e = lookup(rdStr());
      if (e?.target === undefined) return status(id, 2, 'No such file');
      return send(104, u32(id), u32(1), str(e.target), str(e.target), u32(0));
    }
    default:
      return status(id, 8, 'Operation unsupported');
  }
}

let pending = Buffer.alloc(0);
process.stdin.on('data', (d) => {
  pending = Buffer.concat([pending, d]);
  while (pending.length >= 4) {
    const n = pending.readUInt32BE(0);
    if (pending.length < 4 + n) break;
    const pkt = pending.subarray(4, 4 + n);
    pending = pending.subarray(4 + n);
    handle(pkt);
  }
});
process.stdin.on('end', () => process.exit(0));

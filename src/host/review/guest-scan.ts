/**
 * The program the guest runs at the end of a review session: it lists the workspace (never following a
 * link) with each file's sha256 and writes the listing where the host then fetches it over SFTP. It is
 * host code run in the guest with the guest's Node (sent on stdin, nothing added to the image); a guest
 * that replaces Node or the SFTP server can report anything, so the host treats the listing as untrusted
 * input (listing.ts).
 */
export const LISTING_PATH = '/run/virtualghost-review.json';

export const GUEST_SCAN_SOURCE = String.raw`
const fs = require('fs'), crypto = require('crypto');
const [root, out] = process.argv.slice(2);
const entries = [];
const types = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink' };
const buf = Buffer.allocUnsafe(1 << 20);
// In chunks: a file larger than the guest's memory is hashed too.
function hash(abs) {
  const h = crypto.createHash('sha256'), fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
function walk(rel) {
  for (const name of fs.readdirSync(rel ? root + '/' + rel : root).sort()) {
    const p = rel ? rel + '/' + name : name, abs = root + '/' + p;
    const st = fs.lstatSync(abs);
    const t = types[st.mode & 0o170000] || 'other';
    const e = { p, t, m: st.mode & 0o7777, s: st.size };
    if (t === 'file') e.h = hash(abs);
    if (t === 'symlink') e.l = fs.readlinkSync(abs);
    entries.push(e);
    if (t === 'dir') walk(p);
  }
}
walk('');
fs.writeFileSync(out, JSON.stringify({ v: 1, entries }), { mode: 0o600 });
`;

/**
 * Where an image converted from OCI gets its own userland for our processes: a static busybox and tini,
 * the host's Node with its libraries and its loader (run as `LOADER --library-path LIB node`, so no
 * process of the image inherits them), and OpenSSH's sftp-server the same way.
 */
export const INJECTED = {
  root: '/opt/ghostly',
  bin: '/opt/ghostly/bin',
  lib: '/opt/ghostly/lib',
  loader: '/opt/ghostly/lib/ld-linux-x86-64.so.2',
  sftpServer: '/opt/ghostly/bin/sftp-server',
} as const;

/**
 * Joins one forwarded SSH channel to one guest socket, both ways, with backpressure and half-close, and
 * tears both down together.
 *
 * Backpressure: pipe() in each direction. A slow socket stops the channel being read, so ssh2 stops
 * opening the SSH window and the peer stops sending; a slow peer (no window) stops the channel's writes,
 * so the socket is no longer read. Nothing is buffered beyond the streams' high-water marks.
 *
 * Half-close: ssh2 server-side channels send CLOSE together with EOF when their writable side ends,
 * which would throw away whatever the peer still sends (a request whose answer ended first). So the
 * socket's end becomes a bare EOF on the channel once all queued data is written, and the channel is
 * closed only when the socket is finished both ways. The socket must be made with allowHalfOpen.
 */
import type { Socket } from 'node:net';
import type { ServerChannel } from 'ssh2';

/** How long bytes the peer sent before closing may take to reach a guest program that does not read. */
const DRAIN_AFTER_CLOSE_MS = 30_000;

/** Returns a function that tears both down at once (the connection is gone). */
export function joinChannel(channel: ServerChannel, socket: Socket): () => void {
  let done = false;
  const teardown = (): void => {
    if (done) return;
    done = true;
    socket.destroy();
    channel.destroy(); // end + close; a no-op on a channel that is already closed
  };
  socket.on('error', teardown);
  channel.on('error', teardown);

  // The peer closed the channel (or the connection went away): what it sent is still delivered to the
  // socket, then the socket goes. ssh2 emits 'close' only after the channel's last data was read.
  channel.once('close', () => {
    if (done) return;
    const timer = setTimeout(teardown, DRAIN_AFTER_CLOSE_MS).unref();
    socket.end(() => {
      clearTimeout(timer);
      teardown();
    });
  });

  let readEnded = false;
  let eofSent = false;
  let socketClosed = false;
  const closeWhenFinished = (): void => {
    if (eofSent && socketClosed && !done) {
      done = true;
      channel.end(); // EOF is out already: this sends CLOSE
    }
  };
  socket.once('close', (hadError) => {
    socketClosed = true;
    if (hadError || !readEnded) teardown();
    else closeWhenFinished();
  });

  channel.pipe(socket); // the peer's EOF ends the socket's writing side (shutdown(SHUT_WR))
  socket.pipe(channel, { end: false });
  socket.once('end', () => {
    readEnded = true;
    // An empty write's callback runs after every queued write has gone out: the EOF follows the last byte.
    channel.write(Buffer.alloc(0), () => {
      channel.eof();
      eofSent = true;
      closeWhenFinished();
    });
  });
  return teardown;
}

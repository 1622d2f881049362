/*
 * ghostly-helper: the few things ghostly-agent (Node) cannot do itself inside the guest.
 *
 *   ghostly-helper bridge PORT_NAME UNIX_SOCKET [--control]
 *       Joins the virtio-serial port named PORT_NAME to the agent's Unix socket. Node cannot stream a
 *       char device (ERR_INVALID_FD_TYPE) and its fs.read path caps near 11 MB/s; this poll() loop
 *       does ~60 MB/s under TCG. One agent connection per host connection, so nothing crosses from one
 *       host client to the next:
 *         - the port is non-blocking: a blocking write made while the host is away would be delivered
 *           to the *next* host client (stale bytes);
 *         - when the host goes away we drop both buffers and the agent connection;
 *         - while no host is connected the port polls POLLIN|POLLHUP forever, so we sleep in
 *           sigtimedwait() for the SIGIO the driver raises on host open/close (no busy loop).
 *       Because the bridge may miss a quick disconnect + reconnect (it sees the hangup only if it polls
 *       in between), each host connection starts with HOST_HELLO: everything before it belongs to an
 *       earlier client and is dropped, and a fresh agent connection is opened. The bridge answers with
 *       GUEST_HELLO, so the host can drop whatever an earlier connection left queued towards it.
 *       (The same two lines live in src/shared/ports.ts; a unit test keeps them equal.)
 *       With --control, if the agent dies while a host is connected we tell the host with an
 *       `agent-exited` frame and join the restarted agent to the same host connection.
 *   ghostly-helper reseed          reads entropy from stdin, credits it (RNDADDENTROPY), forces a CRNG reseed
 *   ghostly-helper settime SEC NSEC [MONO_NS]   sets CLOCK_REALTIME to SEC.NSEC, plus the CLOCK_MONOTONIC time
 *       elapsed since MONO_NS (when the agent received the host's time: spawning us can take a while)
 *   ghostly-helper serve           long-lived: reads `session SEC NSEC MONO_NS ENTROPY_HEX` lines on stdin,
 *       credits + reseeds with the entropy, *then* sets the clock (so nothing can draw from the CRNG
 *       between the clock step and the reseed), and answers `ok` or `error: ...` on stdout. The agent
 *       starts it once, before a snapshot is taken, so a restored clone applies its session without a
 *       fork + exec (each costs ~0.1-0.5 s of cold code under TCG right after a restore).
 *       `mount9p TAG ro|rw PATH_HEX OPTIONS` lines mount a 9p shared folder (src/guest/mounts.ts): the
 *       agent forking /bin/mount took ~2.4 s on a restored clone, this mount(2) milliseconds.
 *   ghostly-helper poweroff | reboot  sync and power off / reboot (there is no init system to ask)
 *   ghostly-helper bench-sink|bench-source UNIX_SOCKET BYTES   for the channel bench (npm run bench): listens
 *       on UNIX_SOCKET where the agent would, takes one connection (the bridge's) and reads BYTES then
 *       answers `done`, or writes BYTES of zeros; 256 KiB per syscall, so the figure is the channel's and
 *       not the sink's (socat + head cost more guest CPU per MB than the bridge itself under TCG).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024)
/* The guest virtio_console driver queues 4 KiB receive buffers and hands out at most one per read(). */
#define PORT_BUF_SIZE 4096
static const char AGENT_EXITED[] = "{\"type\":\"agent-exited\"}\n";
static const char HOST_HELLO[] = "\001ghostly-host-hello\002\n";
static const char GUEST_HELLO[] = "\001ghostly-guest-hello\002\n";

struct buf { char data[BUF_SIZE]; size_t start, end; };
static struct buf to_agent, to_host;
static void die(const char *what) { fprintf(stderr, "ghostly-helper: %s: %s\n", what, strerror(errno)); exit(1); }
static size_t buf_len(const struct buf *b) { return b->end - b->start; }
static void buf_reset(struct buf *b) { b->start = b->end = 0; }
static void buf_compact(struct buf *b) {
  if (b->start == 0) return;
  memmove(b->data, b->data + b->start, buf_len(b));
  b->end -= b->start; b->start = 0;
}
/* Room at the end, moving the data down only when the tail runs short: compacting before every read
 * memmove()d up to BUF_SIZE per 4 KiB received whenever the agent lagged. */
static size_t buf_room(struct buf *b) {
  if (b->start == b->end) buf_reset(b);
  else if (BUF_SIZE - b->end < BUF_SIZE / 4) buf_compact(b);
  return BUF_SIZE - b->end;
}

/* Resolve the port by name: without udev there is no /dev/virtio-ports/<name>, and vportNpM numbering
 * varies between boots. */
static int find_port(const char *name, char *dev, size_t devlen) {
  DIR *d = opendir("/sys/class/virtio-ports");
  if (!d) return -1;
  struct dirent *e;
  int found = -1;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[512], got[256] = {0};
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    if (fgets(got, sizeof got, f)) got[strcspn(got, "\n")] = 0;
    fclose(f);
    if (strcmp(got, name) == 0) { snprintf(dev, devlen, "/dev/%s", e->d_name); found = 0; break; }
  }
  closedir(d);
  return found;
}

static int host_connected(int port) {
  struct pollfd p = { .fd = port, .events = POLLIN };
  if (poll(&p, 1, 0) < 0) die("poll port");
  return !(p.revents & POLLHUP);
}

static void wait_for_host(int port, const sigset_t *sigio) {
  /* Nothing is discarded here: a new client may already have sent its HOST_HELLO, and bytes before a
   * hello are dropped by the pump anyway. */
  while (!host_connected(port)) {
    struct timespec t = { .tv_sec = 1, .tv_nsec = 0 }; /* belt and braces should a SIGIO be missed */
    sigtimedwait(sigio, NULL, &t);
  }
}

static int connect_agent(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) die("socket");
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  /* connect() on a non-blocking AF_UNIX stream socket completes or fails at once (EAGAIN = backlog full). */
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { close(s); return -1; }
  return s;
}

/*
 * Reads into b from fd until it would block or b is full; returns bytes read, 0 on EOF, -1 if nothing
 * was ready. Reading on while data is queued, instead of one read per poll(), cuts the syscalls and
 * wake-ups per MB (which dominate under TCG) and lets the other side get one large write instead of many
 * small ones. For the port, readv() with one 4 KiB segment per driver buffer: the driver has no
 * read_iter, so the kernel calls its read() once per segment and we take up to 64 buffers per syscall
 * (it stops at the first short one).
 */
static ssize_t fill(int fd, struct buf *b, int is_port) {
  ssize_t total = 0;
  while (buf_room(b) > 0) {
    ssize_t n;
    if (is_port) {
      struct iovec iov[64];
      int k = 0;
      for (size_t at = b->end; at < BUF_SIZE && k < 64; at += PORT_BUF_SIZE, k++) {
        iov[k].iov_base = b->data + at;
        iov[k].iov_len = BUF_SIZE - at < PORT_BUF_SIZE ? BUF_SIZE - at : PORT_BUF_SIZE;
      }
      n = readv(fd, iov, k);
    } else {
      n = read(fd, b->data + b->end, BUF_SIZE - b->end);
    }
    if (n > 0) { b->end += (size_t)n; total += n; continue; }
    if (n == 0) return total > 0 ? total : 0; /* EOF after data: reported by the next call */
    if (errno == EAGAIN || errno == EINTR) break;
    return total > 0 ? total : 0;
  }
  return total > 0 ? total : -1;
}

/* Writes from b to fd until b is empty or fd would block; returns 0, or -1 if fd is gone. */
static int drain(int fd, struct buf *b) {
  while (buf_len(b) > 0) {
    ssize_t n = write(fd, b->data + b->start, buf_len(b));
    if (n > 0) { b->start += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    return -1;
  }
  buf_reset(b);
  return 0;
}

static void push_text(struct buf *b, const char *s) {
  size_t n = strlen(s);
  if (buf_room(b) >= n) { memcpy(b->data + b->end, s, n); b->end += n; }
}

static int bridge(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: ghostly-helper bridge PORT_NAME UNIX_SOCKET [--control]\n"); return 2; }
  const char *name = argv[2], *sock = argv[3];
  int control = argc > 4 && strcmp(argv[4], "--control") == 0;
  signal(SIGPIPE, SIG_IGN);

  char dev[300];
  for (int tries = 0; find_port(name, dev, sizeof dev) != 0; tries++) {
    if (tries > 600) { fprintf(stderr, "ghostly-helper: no virtio port named %s\n", name); return 1; }
    usleep(50 * 1000);
  }
  int port = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (port < 0) die(dev);

  sigset_t sigio;
  sigemptyset(&sigio);
  sigaddset(&sigio, SIGIO);
  sigprocmask(SIG_BLOCK, &sigio, NULL);
  if (fcntl(port, F_SETOWN, getpid()) < 0 || fcntl(port, F_SETFL, fcntl(port, F_GETFL) | O_ASYNC) < 0) die("O_ASYNC");

  const size_t hello_len = strlen(HOST_HELLO);
  for (;;) {
    wait_for_host(port, &sigio);
    buf_reset(&to_agent);
    buf_reset(&to_host);
    int agent = -1, agent_done = 0, session = 0;
    for (;;) {
      if (session && agent < 0 && !agent_done) {
        agent = connect_agent(sock);
        /* Agent not (yet / again) listening: keep the host and retry shortly (the poll below times out). */
      }
      struct pollfd p[2] = {
        { .fd = port, .events = (buf_room(&to_agent) > 0 ? POLLIN : 0) | (buf_len(&to_host) ? POLLOUT : 0) },
        { .fd = agent, .events = (buf_room(&to_host) > 0 ? POLLIN : 0) | (buf_len(&to_agent) ? POLLOUT : 0) },
      };
      int waiting_for_agent = session && agent < 0 && !agent_done;
      if (poll(p, agent >= 0 ? 2 : 1, waiting_for_agent ? 50 : -1) < 0) { if (errno == EINTR) continue; die("poll"); }
      if (p[0].revents & POLLHUP) break; /* host went away */
      if (p[0].revents & POLLIN) {
        size_t scan_from = to_agent.end; /* only the new bytes, and the hello's length before them */
        ssize_t n = fill(port, &to_agent, 1);
        if (n == 0) break;
        /* fill() may have moved the data down: new bytes start n bytes before the end. */
        if (n > 0) scan_from = to_agent.end - (size_t)n;
        size_t from = scan_from >= to_agent.start + hello_len - 1 ? scan_from - (hello_len - 1) : to_agent.start;
        char *hit = NULL;
        /* memchr for the hello's first byte, then compare: cheaper than memmem on bulk data under TCG. */
        for (char *c = to_agent.data + from, *end = to_agent.data + to_agent.end; c < end && (c = memchr(c, HOST_HELLO[0], (size_t)(end - c))) != NULL; c++) {
          /* Several quick reconnects can land in one fill: only the last hello starts the live client. */
          if ((size_t)(end - c) >= hello_len && memcmp(c, HOST_HELLO, hello_len) == 0) hit = c;
        }
        if (hit != NULL) {
          /* A new host client: what came before is the previous client's, and so is the agent connection. */
          to_agent.start = (size_t)(hit - to_agent.data) + hello_len;
          if (agent >= 0) close(agent);
          agent = -1;
          agent_done = 0;
          session = 1;
          buf_reset(&to_host);
          push_text(&to_host, GUEST_HELLO);
          continue;
        }
        /* No session yet, or an ssh stream whose agent side ended: nothing will read these bytes. */
        if (!session || agent_done) buf_reset(&to_agent);
        /* Hand it on now rather than after another poll() round. */
        else if (agent >= 0 && buf_len(&to_agent) && drain(agent, &to_agent) < 0) { /* noticed below */ }
      }
      if ((p[0].revents & POLLOUT) && drain(port, &to_host) < 0) break;
      if (agent >= 0) {
        int agent_gone = 0;
        if (p[1].revents & POLLIN) {
          if (fill(agent, &to_host, 0) == 0) agent_gone = 1;
          if (drain(port, &to_host) < 0) break;
        }
        else if (p[1].revents & (POLLHUP | POLLERR)) agent_gone = 1;
        if (!agent_gone && (p[1].revents & POLLOUT) && drain(agent, &to_agent) < 0) agent_gone = 1;
        if (agent_gone) {
          close(agent);
          agent = -1;
          buf_reset(&to_agent);
          if (control) push_text(&to_host, AGENT_EXITED); /* and reconnect to the restarted agent */
          else agent_done = 1; /* an SSH stream cannot resume mid-protocol: wait for the next host */
        }
      }
    }
    if (agent >= 0) close(agent);
  }
}

struct entropy_req { int entropy_count; int buf_size; unsigned char buf[512]; };

/* Credits the bytes to the kernel pool and forces a CRNG reseed; returns 0 or -1 (errno set). */
static int add_entropy(struct entropy_req *req) {
  req->entropy_count = req->buf_size * 8;
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = ioctl(fd, RNDADDENTROPY, req) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0 ? -1 : 0;
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

/* CLOCK_REALTIME := sec.nsec plus the CLOCK_MONOTONIC time elapsed since mono_ns (if > 0). */
static int set_clock(long long sec, long long nsec, long long mono_ns) {
  long long ns = sec * 1000000000LL + nsec;
  if (mono_ns > 0) {
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    long long elapsed = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec - mono_ns;
    if (elapsed > 0) ns += elapsed;
  }
  struct timespec t = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
  return clock_settime(CLOCK_REALTIME, &t);
}

static int reseed(void) {
  struct entropy_req req;
  ssize_t n = read(0, req.buf, sizeof req.buf);
  if (n <= 0) { fprintf(stderr, "ghostly-helper reseed: no entropy on stdin\n"); return 1; }
  req.buf_size = (int)n;
  if (add_entropy(&req) < 0) die("RNDADDENTROPY/RNDRESEEDCRNG");
  return 0;
}

static int settime(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: ghostly-helper settime SEC NSEC [MONO_NS]\n"); return 2; }
  if (set_clock(strtoll(argv[2], NULL, 10), strtoll(argv[3], NULL, 10), argc > 4 ? strtoll(argv[4], NULL, 10) : 0) < 0) die("clock_settime");
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* `mount9p TAG ro|rw PATH_HEX OPTIONS`: the mount point exists (the agent made it); answers like `session`. */
static void serve_mount(const char *line) {
  char tag[64], mode[4], hex[8200], opts[256], path[4100];
  if (sscanf(line, "mount9p %63s %3s %8199s %255s", tag, mode, hex, opts) != 4) { printf("error: bad mount request\n"); return; }
  size_t len = strlen(hex);
  if (len % 2 != 0 || len == 0 || len / 2 >= sizeof path) { printf("error: mount path must be 1-4095 bytes of hex\n"); return; }
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) { printf("error: mount path is not hex\n"); return; }
    path[i] = (char)(hi << 4 | lo);
  }
  path[len / 2] = '\0';
  unsigned long flags = strcmp(mode, "ro") == 0 ? MS_RDONLY : 0;
  if (mount(tag, path, "9p", flags, opts) < 0) { printf("error: mount %s on %s: %s\n", tag, path, strerror(errno)); return; }
  printf("ok\n");
}

static int serve(void) {
  char line[8704];
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin) != NULL) {
    long long sec, nsec, mono;
    char hex[1100];
    if (strncmp(line, "mount9p ", 8) == 0) { serve_mount(line); continue; }
    if (sscanf(line, "session %lld %lld %lld %1099s", &sec, &nsec, &mono, hex) != 4) { printf("error: bad request\n"); continue; }
    struct entropy_req req;
    size_t len = strlen(hex);
    if (len % 2 != 0 || len == 0 || len / 2 > sizeof req.buf) { printf("error: entropy must be 1-512 bytes of hex\n"); continue; }
    int bad = 0;
    for (size_t i = 0; i < len / 2; i++) {
      int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) { bad = 1; break; }
      req.buf[i] = (unsigned char)(hi << 4 | lo);
    }
    if (bad) { printf("error: entropy is not hex\n"); continue; }
    req.buf_size = (int)(len / 2);
    /* Order matters: reseed first, then step the clock (see the agent's applySession). */
    if (add_entropy(&req) < 0) { printf("error: reseed: %s\n", strerror(errno)); continue; }
    if (set_clock(sec, nsec, mono) < 0) { printf("error: clock_settime: %s\n", strerror(errno)); continue; }
    printf("ok\n");
  }
  return 0;
}

static int bench_peer(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: ghostly-helper bench-sink|bench-source UNIX_SOCKET BYTES\n"); return 2; }
  int sink = strcmp(argv[1], "bench-sink") == 0;
  unsigned long long bytes = strtoull(argv[3], NULL, 10), done = 0;
  signal(SIGPIPE, SIG_IGN);
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[2]);
  unlink(argv[2]);
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0) die(argv[2]);
  int c = accept(l, NULL, NULL);
  if (c < 0) die("accept");
  close(l);
  unlink(argv[2]);
  static char data[256 * 1024];
  while (done < bytes) {
    size_t want = bytes - done < sizeof data ? (size_t)(bytes - done) : sizeof data;
    ssize_t n = sink ? read(c, data, want) : write(c, data, want);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { fprintf(stderr, "ghostly-helper %s: stopped after %llu of %llu bytes\n", argv[1], done, bytes); return 1; }
    done += (unsigned long long)n;
  }
  if (sink && write(c, "done\n", 5) != 5) die("write");
  /* Hold the connection until the host drops it: closing first would tell it the agent went away. */
  char x;
  while (read(c, &x, 1) > 0) {}
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "bridge") == 0) return bridge(argc, argv);
  if (strcmp(cmd, "reseed") == 0) return reseed();
  if (strcmp(cmd, "settime") == 0) return settime(argc, argv);
  if (strcmp(cmd, "serve") == 0) return serve();
  if (strcmp(cmd, "bench-sink") == 0 || strcmp(cmd, "bench-source") == 0) return bench_peer(argc, argv);
  if (strcmp(cmd, "poweroff") == 0 || strcmp(cmd, "reboot") == 0) {
    sync();
    reboot(strcmp(cmd, "poweroff") == 0 ? RB_POWER_OFF : RB_AUTOBOOT);
    die("reboot");
  }
  fprintf(stderr, "usage: ghostly-helper bridge|reseed|settime|serve|poweroff|reboot|bench-sink|bench-source ...\n");
  return 2;
}

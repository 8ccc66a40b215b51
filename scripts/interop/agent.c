/*
 * lab-agent: the interop lab VM's command agent (docs/interop.md).
 *
 * It serves the host over the virtio-serial port named "lab.agent" (qemu:
 * -device virtserialport,name=lab.agent). One request per line; requests run
 * concurrently and are answered as they finish:
 *
 *   request:   ID TIMEOUT_S BASE64(script) [BASE64(stdin)]\n
 *   response:  ID STATUS BASE64(stdout) BASE64(stderr)\n
 *
 * ID is the host's token, 1-63 of [A-Za-z0-9_-]. The script runs as
 * `bash -c SCRIPT` in its own process group, in /, with stdin from the given
 * bytes (or /dev/null). TIMEOUT_S 0 means no limit; otherwise, when it runs
 * out, the whole process group gets SIGTERM and, 2 s later, SIGKILL. STATUS is
 * `exit:N`, `signal:N`, `timeout` (the agent killed it) or `error` (the agent
 * could not run it; stderr says why). Output is captured in memory files, not
 * pipes, so a daemon the script leaves in the background does not hold the
 * reply back; each stream keeps its first 16 MiB.
 *
 * Built statically on the host by build-image.sh: a bash agent needed ten
 * process starts per request, about 0.7 s each under TCG; this needs one.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME "lab.agent"
#define MAX_JOBS 256
#define MAX_LINE (64u << 20)
#define MAX_SCRIPT (120u << 10) /* below MAX_ARG_STRLEN (128 KiB) */
#define MAX_CAPTURE (16u << 20)
#define KILL_GRACE_MS 2000
#define WRITE_TIMEOUT_MS 10000

struct job {
  char id[64];
  pid_t pid; /* 0: slot free */
  int out_fd, err_fd;
  int64_t deadline_ms;   /* 0: none */
  int64_t kill_at_ms;    /* after SIGTERM: when to SIGKILL */
  int timed_out;
};

static struct job jobs[MAX_JOBS];
static int port_fd = -1;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void console(const char *msg) {
  int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0) {
    dprintf(fd, "agent: %s\n", msg);
    close(fd);
  }
}

/* Finds /dev/vportNpM whose /sys/class/virtio-ports/vportNpM/name is PORT_NAME. */
static int find_port(char *path, size_t size) {
  DIR *d = opendir("/sys/class/virtio-ports");
  if (!d) return -1;
  struct dirent *e;
  int found = -1;
  while ((e = readdir(d)) && found < 0) {
    if (e->d_name[0] == '.') continue;
    char p[300], name[64] = {0};
    snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    if (n > 0 && name[n - 1] == '\n') name[n - 1] = 0;
    if (n > 0 && strcmp(name, PORT_NAME) == 0) {
      snprintf(path, size, "/dev/%s", e->d_name);
      found = 0;
    }
  }
  closedir(d);
  return found;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes standard base64 (padding optional). Returns the length or -1. */
static ssize_t b64_decode(const char *in, size_t len, unsigned char *out) {
  static signed char rev[256];
  static int init;
  if (!init) {
    memset(rev, -1, sizeof rev);
    for (int i = 0; i < 64; i++) rev[(unsigned char)B64[i]] = (signed char)i;
    init = 1;
  }
  while (len > 0 && in[len - 1] == '=') len--;
  if (len % 4 == 1) return -1;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = rev[(unsigned char)in[i]];
    if (v < 0) return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return (ssize_t)o;
}

static char *b64_encode(const unsigned char *in, size_t len, size_t *out_len) {
  char *out = malloc((len + 2) / 3 * 4 + 1);
  if (!out) return NULL;
  size_t o = 0, i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = B64[v >> 18];
    out[o++] = B64[(v >> 12) & 63];
    out[o++] = B64[(v >> 6) & 63];
    out[o++] = B64[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
    out[o++] = B64[v >> 18];
    out[o++] = B64[(v >> 12) & 63];
    out[o++] = i + 1 < len ? B64[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  out[o] = 0;
  *out_len = o;
  return out;
}

/* Writes all of buf to the port; gives up after WRITE_TIMEOUT_MS (host gone). */
static void port_write(const char *buf, size_t len) {
  int64_t give_up = now_ms() + WRITE_TIMEOUT_MS;
  while (len > 0) {
    ssize_t n = write(port_fd, buf, len);
    if (n > 0) {
      buf += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return;
    int64_t left = give_up - now_ms();
    if (left <= 0) return;
    struct pollfd p = {.fd = port_fd, .events = POLLOUT};
    if (poll(&p, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR) return;
  }
}

static char *read_capture(int fd, size_t *len) {
  struct stat st;
  *len = 0;
  if (fstat(fd, &st) < 0) return NULL;
  size_t size = st.st_size > (off_t)MAX_CAPTURE ? MAX_CAPTURE : (size_t)st.st_size;
  unsigned char *buf = malloc(size + 1);
  if (!buf) return NULL;
  size_t got = 0;
  while (got < size) {
    ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  char *enc = b64_encode(buf, got, len);
  free(buf);
  return enc;
}

static void respond(const char *id, const char *status, int out_fd, int err_fd) {
  size_t ol = 0, el = 0;
  char *o = out_fd >= 0 ? read_capture(out_fd, &ol) : NULL;
  char *e = err_fd >= 0 ? read_capture(err_fd, &el) : NULL;
  size_t head = strlen(id) + strlen(status) + 2;
  char *line = malloc(head + ol + el + 3);
  if (line) {
    int n = sprintf(line, "%s %s ", id, status);
    memcpy(line + n, o ? o : "", ol);
    line[n + ol] = ' ';
    memcpy(line + n + ol + 1, e ? e : "", el);
    line[n + ol + 1 + el] = '\n';
    port_write(line, (size_t)n + ol + el + 2);
  }
  free(line);
  free(o);
  free(e);
}

static void respond_error(const char *id, const char *why) {
  int fd = memfd_create("err", MFD_CLOEXEC);
  if (fd >= 0) {
    dprintf(fd, "agent: %s\n", why);
  }
  respond(id, "error", -1, fd);
  if (fd >= 0) close(fd);
}

static int valid_id(const char *s, size_t len) {
  if (len == 0 || len > 63) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

static void start_job(char *line) {
  char *fields[4] = {0};
  int nf = 0;
  for (char *p = line; nf < 4;) {
    fields[nf++] = p;
    char *sp = strchr(p, ' ');
    if (!sp) break;
    *sp = 0;
    p = sp + 1;
  }
  if (nf < 3 || !valid_id(fields[0], strlen(fields[0]))) return; /* cannot even address a reply */
  const char *id = fields[0];
  char *end;
  long timeout_s = strtol(fields[1], &end, 10);
  if (*fields[1] == 0 || *end || timeout_s < 0 || timeout_s > 86400) return respond_error(id, "bad timeout");
  size_t slen = strlen(fields[2]);
  if (slen / 4 * 3 > MAX_SCRIPT) return respond_error(id, "script too long (send data as stdin)");
  char *script = malloc(slen / 4 * 3 + 4);
  ssize_t sn = script ? b64_decode(fields[2], slen, (unsigned char *)script) : -1;
  if (sn < 0) {
    free(script);
    return respond_error(id, "script is not base64");
  }
  script[sn] = 0;
  if (memchr(script, 0, (size_t)sn)) {
    free(script);
    return respond_error(id, "script contains a NUL byte");
  }
  int in_fd = -1;
  if (nf == 4) {
    size_t ilen = strlen(fields[3]);
    unsigned char *data = malloc(ilen / 4 * 3 + 4);
    ssize_t dn = data ? b64_decode(fields[3], ilen, data) : -1;
    in_fd = dn >= 0 ? memfd_create("stdin", MFD_CLOEXEC) : -1;
    if (in_fd < 0 || (dn > 0 && pwrite(in_fd, data, (size_t)dn, 0) != dn)) {
      free(data);
      free(script);
      if (in_fd >= 0) close(in_fd);
      return respond_error(id, "stdin is not base64 or could not be stored");
    }
    free(data);
  }
  struct job *j = NULL;
  for (int i = 0; i < MAX_JOBS && !j; i++)
    if (!jobs[i].pid) j = &jobs[i];
  if (!j) {
    free(script);
    if (in_fd >= 0) close(in_fd);
    return respond_error(id, "too many jobs");
  }
  int out_fd = memfd_create("stdout", MFD_CLOEXEC), err_fd = memfd_create("stderr", MFD_CLOEXEC);
  pid_t pid = out_fd >= 0 && err_fd >= 0 ? fork() : -1;
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(in_fd >= 0 ? in_fd : null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (chdir("/") < 0) _exit(126);
    execl("/bin/bash", "bash", "-c", script, (char *)NULL);
    _exit(127);
  }
  free(script);
  if (in_fd >= 0) close(in_fd);
  if (pid < 0) {
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    return respond_error(id, "fork failed");
  }
  setpgid(pid, pid); /* also here, so a kill(-pid) right away cannot miss */
  snprintf(j->id, sizeof j->id, "%s", id);
  j->pid = pid;
  j->out_fd = out_fd;
  j->err_fd = err_fd;
  j->deadline_ms = timeout_s ? now_ms() + timeout_s * 1000 : 0;
  j->kill_at_ms = 0;
  j->timed_out = 0;
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_JOBS; i++) {
      struct job *j = &jobs[i];
      if (j->pid != pid) continue;
      char st[32];
      if (j->timed_out)
        snprintf(st, sizeof st, "timeout");
      else if (WIFEXITED(status))
        snprintf(st, sizeof st, "exit:%d", WEXITSTATUS(status));
      else
        snprintf(st, sizeof st, "signal:%d", WTERMSIG(status));
      respond(j->id, st, j->out_fd, j->err_fd);
      close(j->out_fd);
      close(j->err_fd);
      j->pid = 0;
    }
  }
}

/* Enforces deadlines; returns the poll timeout until the next one (ms). */
static int police(void) {
  int64_t now = now_ms(), next = now + 1000;
  for (int i = 0; i < MAX_JOBS; i++) {
    struct job *j = &jobs[i];
    if (!j->pid) continue;
    if (j->deadline_ms && !j->timed_out && now >= j->deadline_ms) {
      j->timed_out = 1;
      kill(-j->pid, SIGTERM);
      j->kill_at_ms = now + KILL_GRACE_MS;
    }
    if (j->kill_at_ms && now >= j->kill_at_ms) {
      kill(-j->pid, SIGKILL);
      kill(j->pid, SIGKILL);
      j->kill_at_ms = 0;
    }
    if (j->deadline_ms && !j->timed_out && j->deadline_ms < next) next = j->deadline_ms;
    if (j->kill_at_ms && j->kill_at_ms < next) next = j->kill_at_ms;
  }
  int64_t wait = next - now;
  return wait < 0 ? 0 : (int)wait;
}

int main(void) {
  char path[300];
  int tries = 0;
  while (find_port(path, sizeof path) < 0) {
    if (++tries > 200) {
      console("no virtio port named " PORT_NAME);
      return 1;
    }
    usleep(50000);
  }
  while ((port_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) < 0) {
    if (++tries > 400) {
      console("cannot open the virtio port");
      return 1;
    }
    usleep(50000);
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  {
    char msg[400];
    snprintf(msg, sizeof msg, "serving on %s", path);
    console(msg);
  }

  size_t cap = 1 << 16, used = 0;
  char *buf = malloc(cap);
  for (;;) {
    struct pollfd p[2] = {{.fd = port_fd, .events = POLLIN}, {.fd = sig_fd, .events = POLLIN}};
    int rc = poll(p, 2, police());
    if (rc < 0 && errno != EINTR) usleep(10000);
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sig_fd, &si, sizeof si) > 0) {
      }
    }
    reap();
    if (!(p[0].revents & (POLLIN | POLLHUP))) continue;
    if (cap - used < 65536) {
      if (cap >= MAX_LINE * 2u) {
        console("request line too long: dropped");
        used = 0;
      } else {
        cap *= 2;
        buf = realloc(buf, cap);
        if (!buf) return 1;
      }
    }
    ssize_t n = read(port_fd, buf + used, cap - used);
    if (n <= 0) {
      /* EOF while the host end is not connected; poll would report it again at once. */
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) usleep(100000);
      continue;
    }
    used += (size_t)n;
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', used - (size_t)(start - buf)))) {
      *nl = 0;
      if (nl > start && nl[-1] == '\r') nl[-1] = 0;
      if (*start) start_job(start);
      start = nl + 1;
    }
    used -= (size_t)(start - buf);
    memmove(buf, start, used);
  }
}

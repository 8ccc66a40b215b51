// pptp_io: the native boundary of pptp-ts (docs/architecture.md §3, docs/native-io.md).
//
// Node has no ioctl and no raw sockets, so this addon provides exactly:
//   openTun(name, flags, netns?)    -> { fd, name }   /dev/net/tun + TUNSETIFF
//   openRawSocket(proto, bindAddr, rcvbuf, sndbuf, netns?)
//                                   -> fd             AF_INET SOCK_RAW + IP_HDRINCL
//   openPacketSocket(ifname, rcvbuf, netns?)
//                                   -> { fd, ifindex, hwType }  AF_PACKET capture of one interface
//   setTunOffload(fd, offloads)     TUNSETVNETLE + TUNSETVNETHDRSZ + TUNSETOFFLOAD
//   dupFd(fd) -> fd                 F_DUPFD_CLOEXEC (one fd driven from two threads)
//   attachPptpGreFilter(fd, callId?) SO_ATTACH_FILTER: only enhanced GRE (RFC 2637 §4.1) passes,
//                                   and with callId only GRE for that Call ID
//   sdNotify(socketPath, message)   one AF_UNIX datagram to $NOTIFY_SOCKET (systemd)
// (netns: create the fd inside another network namespace, from a helper
// thread, so the JS thread never leaves its own.)
//   new Port(fd, mode, rxBuf, rxLen, slotSize, onEvent, rxMeta?)
//       mode: stream (TUN read/write), datagram (recvmmsg/sendmmsg), capture
//       (recvmmsg with direction, time stamp and original length per packet)
//       .poll(readable, writable)   event-driven I/O on the libuv loop (uv_poll)
//       .send(txBuf, txLen, slotSize, start, count) -> consumed
//       .setCallIdFilter(bitmap?)   datagram: drop GRE whose Call ID bit is clear, before JS
//   setBusyPoll(spinMicros, maxMicros)  opt-in: after a wake-up that delivered packets, keep
//                                   polling this thread's Ports without sleeping (bounded)
//   busyPollStats() -> { spins, hits, batches, polls, spinMicros }
//       .ref() / .unref() / .close() / .fd
// Everything else (buffers, batching policy, counters) lives in TypeScript.
//
// Rules kept here: every fd is O_NONBLOCK | O_CLOEXEC; every syscall's return
// is checked; errors cross into JS only as an Error carrying errno/code; the
// event loop is never blocked (reads drain until EAGAIN, then one call into
// JS per wake-up); a Port with an active poll pins its own JS object so GC
// can never close an fd that is still in use; close() is idempotent and
// leaves no handle that keeps the loop alive.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <napi.h>
#include <uv.h>

namespace {

// Event kinds passed to the JS onEvent(kind, n) callback.
constexpr int kEventReadable = 1;  // n packets are in the receive ring
constexpr int kEventWritable = 2;  // the fd can take writes again
constexpr int kEventError = 3;     // n = errno; reading has stopped

// Port modes (the second constructor argument; false/true are stream/datagram).
constexpr int kModeStream = 0;    // TUN: read()/write() one packet per call
constexpr int kModeDatagram = 1;  // raw IPv4 socket: recvmmsg/sendmmsg
constexpr int kModeCapture = 2;   // AF_PACKET: recvmmsg + direction, time stamp, original length

// Per-slot metadata a capture Port writes into its Float64Array rxMeta.
constexpr size_t kMetaPerSlot = 4;  // [seconds, nanoseconds, sll_pkttype, original length]

// Offload features of TUNSETOFFLOAD that older <linux/if_tun.h> lack (Linux 6.2+).
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

// Throws a JS Error "what: strerror (CODE)" with .errno and .code set.
void ThrowErrno(Napi::Env env, const std::string& what, int err) {
  const char* code = uv_err_name(-err);
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err) + " (" + code + ")");
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, code));
  e.Set("syscall", Napi::String::New(env, what));
  e.ThrowAsJavaScriptException();
}

void ThrowType(Napi::Env env, const char* msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
}

// Runs fn on a short-lived thread that first joins the network namespace at
// nsPath (setns), so a TUN or socket can be created inside a namespace
// without ever moving the JS thread out of its own. The fd that fn returns
// stays bound to that namespace and is usable from any thread. Returns fn's
// result (an fd, or -errno).
struct NsJob {
  std::string nsPath;
  int (*fn)(void*);
  void* arg;
  int result;
};

void* NsThread(void* p) {
  auto* job = static_cast<NsJob*>(p);
  int nsfd = open(job->nsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    job->result = -errno;
    return nullptr;
  }
  if (setns(nsfd, CLONE_NEWNET) < 0) {
    job->result = -errno;
    close(nsfd);
    return nullptr;
  }
  close(nsfd);
  job->result = job->fn(job->arg);
  return nullptr;
}

int InNetns(const std::string& nsPath, int (*fn)(void*), void* arg) {
  if (nsPath.empty()) return fn(arg);
  NsJob job{nsPath, fn, arg, -EIO};
  pthread_t t;
  int r = pthread_create(&t, nullptr, NsThread, &job);
  if (r != 0) return -r;
  r = pthread_join(t, nullptr);
  if (r != 0) return -r;
  return job.result;
}

// Optional trailing argument: a network namespace path ("" or absent: ours).
bool NetnsArg(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() <= i || info[i].IsUndefined()) return true;
  if (!info[i].IsString()) {
    ThrowType(info.Env(), "netns path must be a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

// openTun(name: string, flags: number): { fd: number, name: string }
// name may be "" (kernel picks tunN) or a pattern such as "pptp%d".
// flags may add IFF_VNET_HDR and IFF_MULTI_QUEUE to IFF_TUN | IFF_NO_PI.
struct TunJob {
  struct ifreq ifr;
};

int OpenTunIn(void* p) {
  auto* job = static_cast<TunJob*>(p);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  if (ioctl(fd, TUNSETIFF, &job->ifr) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    ThrowType(env, "openTun(name: string, flags: number, netnsPath?: string)");
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  uint32_t extra = info[1].As<Napi::Number>().Uint32Value();
  std::string ns;
  if (!NetnsArg(info, 2, &ns)) return env.Undefined();
  if (name.size() >= IFNAMSIZ || name.find('\0') != std::string::npos) {
    ThrowType(env, "openTun: interface name must be shorter than IFNAMSIZ (16)");
    return env.Undefined();
  }
  if ((extra & ~static_cast<uint32_t>(IFF_VNET_HDR | IFF_MULTI_QUEUE)) != 0) {
    ThrowType(env, "openTun: only IFF_VNET_HDR and IFF_MULTI_QUEUE may be added");
    return env.Undefined();
  }
  TunJob job;
  memset(&job.ifr, 0, sizeof job.ifr);
  job.ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | extra);
  memcpy(job.ifr.ifr_name, name.data(), name.size());
  int fd = InNetns(ns, OpenTunIn, &job);
  if (fd < 0) {
    ThrowErrno(env, ns.empty() ? "open /dev/net/tun + TUNSETIFF" : "open /dev/net/tun + TUNSETIFF in " + ns, -fd);
    return env.Undefined();
  }
  job.ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("name", Napi::String::New(env, job.ifr.ifr_name));
  return out;
}

// openRawSocket(protocol: number, bindAddress: string | undefined,
//               rcvbufBytes: number, sndbufBytes: number, netnsPath?: string): number
// An IPv4 raw socket with IP_HDRINCL: sends carry the caller's IPv4 header,
// receives return whole IPv4 packets. 0 leaves a buffer size at its default.
struct RawJob {
  int protocol;
  bool bindIt;
  struct sockaddr_in local;
  int sizes[2];
  const char* failed;  // which step failed, for the error text
};

int OpenRawIn(void* p) {
  auto* job = static_cast<RawJob*>(p);
  job->failed = "socket(AF_INET, SOCK_RAW)";
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, job->protocol);
  if (fd < 0) return -errno;
  int one = 1;
  // The FORCE variants (CAP_NET_ADMIN, which a raw socket's owner usually
  // has) may exceed net.core.rmem_max/wmem_max; without the capability the
  // plain ones apply, capped by those sysctls.
  const int forced[2] = {SO_RCVBUFFORCE, SO_SNDBUFFORCE};
  const int opts[2] = {SO_RCVBUF, SO_SNDBUF};
  const char* names[2] = {"setsockopt SO_RCVBUF", "setsockopt SO_SNDBUF"};
  int r = 0;
  job->failed = "setsockopt IP_HDRINCL";
  r = setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
  for (int i = 0; r == 0 && i < 2; i++) {
    if (job->sizes[i] <= 0) continue;
    job->failed = names[i];
    r = setsockopt(fd, SOL_SOCKET, forced[i], &job->sizes[i], sizeof job->sizes[i]);
    if (r < 0 && errno == EPERM) r = setsockopt(fd, SOL_SOCKET, opts[i], &job->sizes[i], sizeof job->sizes[i]);
  }
  if (r == 0 && job->bindIt) {
    job->failed = "bind";
    r = bind(fd, reinterpret_cast<struct sockaddr*>(&job->local), sizeof job->local);
  }
  if (r < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

Napi::Value OpenRawSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !(info[1].IsString() || info[1].IsUndefined()) ||
      !info[2].IsNumber() || !info[3].IsNumber()) {
    ThrowType(env,
              "openRawSocket(protocol: number, bindAddress: string | undefined, rcvbuf: number, sndbuf: number, "
              "netnsPath?: string)");
    return env.Undefined();
  }
  RawJob job;
  memset(&job, 0, sizeof job);
  job.protocol = info[0].As<Napi::Number>().Int32Value();
  if (job.protocol <= 0 || job.protocol > 255) {
    ThrowType(env, "openRawSocket: protocol must be 1..255");
    return env.Undefined();
  }
  std::string ns;
  if (!NetnsArg(info, 4, &ns)) return env.Undefined();
  job.local.sin_family = AF_INET;
  job.bindIt = info[1].IsString();
  if (job.bindIt) {
    std::string a = info[1].As<Napi::String>().Utf8Value();
    if (inet_pton(AF_INET, a.c_str(), &job.local.sin_addr) != 1) {
      ThrowType(env, "openRawSocket: bindAddress is not an IPv4 address");
      return env.Undefined();
    }
  }
  job.sizes[0] = info[2].As<Napi::Number>().Int32Value();
  job.sizes[1] = info[3].As<Napi::Number>().Int32Value();
  job.failed = "setns";
  int fd = InNetns(ns, OpenRawIn, &job);
  if (fd < 0) {
    ThrowErrno(env, ns.empty() ? std::string(job.failed) : std::string(job.failed) + " in " + ns, -fd);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// openPacketSocket(ifname: string, rcvbufBytes: number, netnsPath?: string)
//   -> { fd: number, ifindex: number, hwType: number }
// An AF_PACKET SOCK_RAW socket that sees every frame sent or received on one
// interface (packet(7)), with nanosecond receive time stamps (SO_TIMESTAMPNS).
// The socket is created with protocol 0, which receives nothing, and only
// bind() selects ETH_P_ALL on the one ifindex: no frame of another interface
// can slip in between socket() and bind(). hwType is the ARPHRD_* of the
// interface (ARPHRD_ETHER, ARPHRD_NONE for a TUN...), which fixes the pcap
// link type.
struct PacketJob {
  std::string ifname;
  int rcvbuf;
  int ifindex;
  int hwType;
  const char* failed;
};

int OpenPacketIn(void* p) {
  auto* job = static_cast<PacketJob*>(p);
  job->failed = "if_nametoindex";
  unsigned idx = if_nametoindex(job->ifname.c_str());
  if (idx == 0) return -errno;
  job->ifindex = static_cast<int>(idx);
  job->failed = "socket(AF_PACKET, SOCK_RAW)";
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int r = 0;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, job->ifname.data(), job->ifname.size());
  job->failed = "ioctl SIOCGIFHWADDR";
  r = ioctl(fd, SIOCGIFHWADDR, &ifr);
  if (r == 0) job->hwType = ifr.ifr_hwaddr.sa_family;
  int one = 1;
  if (r == 0) {
    job->failed = "setsockopt SO_TIMESTAMPNS";
    r = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  }
  if (r == 0 && job->rcvbuf > 0) {
    job->failed = "setsockopt SO_RCVBUF";
    r = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &job->rcvbuf, sizeof job->rcvbuf);
  }
  if (r == 0) {
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = job->ifindex;
    job->failed = "bind";
    r = bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll);
  }
  if (r < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

Napi::Value OpenPacketSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    ThrowType(env, "openPacketSocket(ifname: string, rcvbufBytes: number, netnsPath?: string)");
    return env.Undefined();
  }
  PacketJob job;
  job.ifname = info[0].As<Napi::String>().Utf8Value();
  job.rcvbuf = info[1].As<Napi::Number>().Int32Value();
  job.ifindex = 0;
  job.hwType = -1;
  job.failed = "setns";
  if (job.ifname.empty() || job.ifname.size() >= IFNAMSIZ || job.ifname.find('\0') != std::string::npos) {
    ThrowType(env, "openPacketSocket: interface name must be 1..15 bytes");
    return env.Undefined();
  }
  std::string ns;
  if (!NetnsArg(info, 2, &ns)) return env.Undefined();
  int fd = InNetns(ns, OpenPacketIn, &job);
  if (fd < 0) {
    std::string what = std::string(job.failed) + " " + job.ifname;
    ThrowErrno(env, ns.empty() ? what : what + " in " + ns, -fd);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("ifindex", Napi::Number::New(env, job.ifindex));
  out.Set("hwType", Napi::Number::New(env, job.hwType));
  return out;
}

// setTunOffload(fd: number, offloads: number): void
// For a TUN opened with IFF_VNET_HDR: pins the virtio-net header to
// little-endian (TUNSETVNETLE; the legacy default is host order), its size to
// the 10-byte struct virtio_net_hdr (TUNSETVNETHDRSZ), and enables the given
// TUN_F_* offloads (TUNSETOFFLOAD). With TUN_F_TSO4/6 the kernel hands us
// TCP super-packets of up to 64 KiB to segment; with TUN_F_CSUM it may leave
// checksums for us to complete. EINVAL means this kernel lacks a flag.
Napi::Value SetTunOffload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    ThrowType(env, "setTunOffload(fd: number, offloads: number)");
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  unsigned offloads = info[1].As<Napi::Number>().Uint32Value();
  int le = 1;
  if (ioctl(fd, TUNSETVNETLE, &le) < 0) {
    // Kernels built without cross-endian support refuse this; on a
    // little-endian host the header is little-endian anyway.
    bool hostLe = htons(1) != 1;
    if (!(errno == EINVAL && hostLe)) {
      ThrowErrno(env, "ioctl TUNSETVNETLE", errno);
      return env.Undefined();
    }
  }
  int size = 10;  // sizeof(struct virtio_net_hdr)
  if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) {
    ThrowErrno(env, "ioctl TUNSETVNETHDRSZ", errno);
    return env.Undefined();
  }
  if (ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(offloads)) < 0) {
    ThrowErrno(env, "ioctl TUNSETOFFLOAD", errno);
    return env.Undefined();
  }
  return env.Undefined();
}

// dupFd(fd: number): number. A second descriptor (close-on-exec) for the same
// open file, so that two Ports (in two threads) can drive one TUN or socket.
Napi::Value DupFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowType(env, "dupFd(fd: number)");
    return env.Undefined();
  }
  int fd = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, "fcntl F_DUPFD_CLOEXEC", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// attachPptpGreFilter(fd: number, callId?: number): attaches a classic BPF
// program to a raw IPv4 GRE socket so the kernel queues only enhanced GRE as
// RFC 2637 §4.1 defines it: C, R, s and Recur clear, K set (first octet &
// 0xEF == 0x20), no other flags and version 1 (second octet & 0x7F == 0x01),
// Protocol Type 0x880B. Everything else (other GRE users, garbage, truncated
// packets: a load past the end returns 0) is dropped in the kernel and never
// costs a wake-up. Offsets are from the IPv4 header, which is where a raw
// socket's filter starts.
//
// With `callId` (0..65535), the program also requires the GRE header's Call
// ID field to equal it. RFC 2637 §4.1: the Key field's low 16 bits carry the
// "Peer's Call ID for the session to which this packet belongs", i.e. the
// Call ID the receiver chose, so a socket that serves one call (a client's)
// can name its own Call ID here: GRE for other calls to the same address
// (another client process on this host, whose raw socket Linux hands a copy
// of every packet, raw_v4_input) is then dropped in the kernel rather than
// waking this process. Without it, the Call ID check is the Port's bitmap
// (setCallIdFilter). A new program replaces the one attached before
// (SO_ATTACH_FILTER swaps it atomically), so calling again narrows or widens
// the filter at any time.
Napi::Value AttachPptpGreFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool hasCallId = info.Length() >= 2 && !info[1].IsUndefined();
  if (info.Length() < 1 || !info[0].IsNumber() || (hasCallId && !info[1].IsNumber())) {
    ThrowType(env, "attachPptpGreFilter(fd: number, callId?: number)");
    return env.Undefined();
  }
  uint32_t callId = 0;
  if (hasCallId) {
    double v = info[1].As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 0xffff) || v != static_cast<double>(static_cast<uint32_t>(v))) {
      ThrowType(env, "attachPptpGreFilter: callId must be an integer 0..65535");
      return env.Undefined();
    }
    callId = static_cast<uint32_t>(v);
  }
  // The Call ID test is two instructions in front of "accept"; every jump to
  // "drop" skips them too, hence `extra` in the false branches.
  const uint8_t extra = hasCallId ? 2 : 0;
  struct sock_filter code[13];
  size_t n = 0;
  code[n++] = BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0);                   // X = IPv4 header length
  code[n++] = BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0);                    // A = GRE octet 0
  code[n++] = BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xef);                //   ignore S
  code[n++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20, 0, 6 + extra);  //   K only
  code[n++] = BPF_STMT(BPF_LD | BPF_B | BPF_IND, 1);                    // A = GRE octet 1
  code[n++] = BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x7f);                //   ignore A
  code[n++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x01, 0, 3 + extra);  //   flags 0, version 1
  code[n++] = BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2);                    // A = Protocol Type
  code[n++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x880b, 0, 1 + extra);
  if (hasCallId) {
    code[n++] = BPF_STMT(BPF_LD | BPF_H | BPF_IND, 6);                  // A = Call ID (Key, low half)
    code[n++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, callId, 0, 1);
  }
  code[n++] = BPF_STMT(BPF_RET | BPF_K, 0xffffffff);                    // accept, whole packet
  code[n++] = BPF_STMT(BPF_RET | BPF_K, 0);                             // drop
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(n);
  prog.filter = code;
  if (setsockopt(info[0].As<Napi::Number>().Int32Value(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    ThrowErrno(env, "setsockopt SO_ATTACH_FILTER", errno);
    return env.Undefined();
  }
  return env.Undefined();
}

// Bytes of a Call ID filter: one bit per Call ID, then a float64 count of the
// packets it dropped (host byte order), which the Port adds to.
constexpr size_t kCallIdBitmapBytes = 65536 / 8;
constexpr size_t kCallIdFilterBytes = kCallIdBitmapBytes + 8;

// Whether a received IPv4 packet should be dropped by the Call ID filter: a
// well-formed enhanced GRE header whose Call ID has its bit clear. Anything
// the filter cannot read goes up, for JS to judge and count.
inline bool CallIdFiltered(const uint8_t* p, int32_t len, const uint8_t* bitmap) {
  if (len < 20) return false;
  size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
  if (ihl < 20 || p[9] != 47 || static_cast<size_t>(len) < ihl + 8) return false;
  unsigned callId = (static_cast<unsigned>(p[ihl + 6]) << 8) | p[ihl + 7];
  return (bitmap[callId >> 3] & (1u << (callId & 7))) == 0;
}

// Borrowed view of a JS-owned ring: validated on every use, because JS may
// have detached or shrunk nothing we can trust across calls.
struct Ring {
  uint8_t* data = nullptr;
  int32_t* lens = nullptr;
  size_t slots = 0;
};

class Port;

// ─── Busy-poll ───────────────────────────────────────────────────────────────
// Opt-in (setBusyPoll). Waking a sleeping thread costs tens of microseconds
// on a virtual machine (the vCPU halts when idle), and code that ran 50 ms ago
// runs several times slower than code that ran just now (cold caches). So
// after a wake-up that delivered packets, the Port keeps polling every Port
// of its thread that reads (stream and datagram, not capture) with poll(2)
// and a zero time-out, instead of going back to libuv to sleep: a reply that
// arrives within spinNs is handled at once, on a warm CPU. Each batch found
// restarts the spin window; the whole spin is bounded by maxNs per wake-up,
// so the loop's timers and other handles wait at most that long. Between
// polls the thread yields the CPU (sched_yield) to any task waiting for it.
// One state per thread: each worker thread loads its own addon instance and
// drives only its own Ports.
struct BusyPoll {
  uint64_t spinNs = 0;  // 0: off
  uint64_t maxNs = 0;
  bool spinning = false;  // no nested spin from inside a callback
  std::vector<Port*> ports;
  std::vector<pollfd> fds;
  std::vector<Port*> fdPorts;
  // Counters (busyPollStats): spins started, spins that found at least one
  // batch, batches delivered by spins, poll(2) calls, time spent spinning.
  double spins = 0, hits = 0, batches = 0, polls = 0, spinNsTotal = 0;
};
thread_local BusyPoll tBusy;

uint64_t MonoNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Upper bounds of setBusyPoll's arguments, in microseconds.
constexpr double kBusyPollMaxSpinMicros = 10000;
constexpr double kBusyPollMaxTotalMicros = 100000;

bool GetRing(Napi::Env env, Napi::Value buf, Napi::Value lens, size_t slotSize, Ring* out) {
  if (!buf.IsArrayBuffer() || !lens.IsTypedArray() ||
      lens.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowType(env, "ring: expected (ArrayBuffer, Int32Array)");
    return false;
  }
  Napi::ArrayBuffer ab = buf.As<Napi::ArrayBuffer>();
  Napi::Int32Array la = lens.As<Napi::Int32Array>();
  if (ab.IsDetached() || la.ArrayBuffer().IsDetached()) {
    ThrowType(env, "ring: buffer is detached");
    return false;
  }
  size_t slots = la.ElementLength();
  if (slotSize == 0 || slots == 0 || ab.ByteLength() / slotSize < slots) {
    ThrowType(env, "ring: ArrayBuffer smaller than slotSize * lens.length");
    return false;
  }
  out->data = static_cast<uint8_t*>(ab.Data());
  out->lens = la.Data();
  out->slots = slots;
  return true;
}

class Port : public Napi::ObjectWrap<Port> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Port",
                       {
                           InstanceMethod<&Port::Poll>("poll"),
                           InstanceMethod<&Port::Send>("send"),
                           InstanceMethod<&Port::LoopRef>("ref"),
                           InstanceMethod<&Port::LoopUnref>("unref"),
                           InstanceMethod<&Port::Close>("close"),
                           InstanceMethod<&Port::SetCallIdFilter>("setCallIdFilter"),
                           InstanceAccessor<&Port::GetFd>("fd"),
                       });
  }

  // new Port(fd, mode, rxBuf: ArrayBuffer, rxLen: Int32Array, slotSize, onEvent, rxMeta?)
  // mode: false/0 stream (TUN), true/1 datagram (raw IPv4), 2 capture
  // (AF_PACKET; needs rxMeta, a Float64Array of 4 numbers per slot).
  // The Port owns fd from here on (it closes it, also on a failed constructor).
  explicit Port(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Port>(info) {
    Napi::Env env = info.Env();
    // Adopt the fd first, so that every failure below closes it (a failed
    // constructor deletes the instance, and the destructor releases).
    if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 0) {
      ThrowType(env, "new Port: bad fd");
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    if (info.Length() < 6 || !(info[1].IsBoolean() || info[1].IsNumber()) || !info[4].IsNumber() ||
        !info[5].IsFunction()) {
      ThrowType(env, "new Port(fd, mode, rxBuf, rxLen, slotSize, onEvent, rxMeta?)");
      return;
    }
    mode_ = info[1].IsBoolean() ? (info[1].As<Napi::Boolean>().Value() ? kModeDatagram : kModeStream)
                                : info[1].As<Napi::Number>().Int32Value();
    if (mode_ != kModeStream && mode_ != kModeDatagram && mode_ != kModeCapture) {
      ThrowType(env, "new Port: mode must be 0 (stream), 1 (datagram) or 2 (capture)");
      return;
    }
    datagram_ = mode_ != kModeStream;
    slotSize_ = info[4].As<Napi::Number>().Uint32Value();
    Ring ring;
    if (!GetRing(env, info[2], info[3], slotSize_, &ring)) return;
    if (mode_ == kModeCapture && !GetMeta(env, info.Length() > 6 ? info[6] : env.Undefined(), ring.slots, nullptr))
      return;
    // The ring and the callback hang off the JS object itself (hidden
    // properties) and the C++ side keeps only weak references: a strong
    // reference from here would root the callback's closure, and through it
    // this very object, so an idle Port nobody can reach would never be
    // collected and its fd would leak. Reachability is then plain JS: the
    // Port lives while JS references it or while its poll pins it (Poll).
    Napi::Object self = info.This().As<Napi::Object>();
    self.DefineProperties({
        Napi::PropertyDescriptor::Value("_rxBuf", info[2], napi_default),
        Napi::PropertyDescriptor::Value("_rxLen", info[3], napi_default),
        Napi::PropertyDescriptor::Value("_onEvent", info[5], napi_default),
    });
    rxBuf_ = Napi::Weak(info[2].As<Napi::Object>());
    rxLen_ = Napi::Weak(info[3].As<Napi::Object>());
    onEvent_ = Napi::Weak(info[5].As<Napi::Function>());
    if (mode_ == kModeCapture) {
      self.DefineProperty(Napi::PropertyDescriptor::Value("_rxMeta", info[6], napi_default));
      rxMeta_ = Napi::Weak(info[6].As<Napi::Object>());
    }
    ctx_ = std::make_unique<Napi::AsyncContext>(env, "pptp-ts.Port");
    if (datagram_) {
      rxMsgs_.assign(ring.slots, mmsghdr{});
      rxIov_.assign(ring.slots, iovec{});
    }
    if (mode_ == kModeCapture) {
      rxFrom_.assign(ring.slots, sockaddr_ll{});
      rxCtl_.assign(ring.slots * kCtlSize, 0);
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      ThrowType(env, "Port: no libuv loop");
      return;
    }
    auto* handle = new uv_poll_t;
    int r = uv_poll_init(loop, handle, fd_);
    if (r < 0) {
      delete handle;
      ThrowErrno(env, "uv_poll_init", -r);
      return;
    }
    handle->data = this;
    poll_ = handle;
    if (mode_ == kModeStream || mode_ == kModeDatagram) tBusy.ports.push_back(this);
  }

  // Runs when the JS object is unreachable, which an active poll prevents
  // (see Poll), so closing the fd here can never pull it from under a user.
  ~Port() override { Release(false); }

 private:
  // setCallIdFilter(filter?: Uint8Array): datagram ports only. With a filter
  // (kCallIdFilterBytes: the Call ID bitmap, then the drop count), received
  // GRE packets whose Call ID bit is clear are dropped here, before JS, and
  // counted in the filter's last 8 bytes; JS sets and clears the bits as
  // calls come and go. Without (undefined), everything goes up.
  Napi::Value SetCallIdFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object self = info.This().As<Napi::Object>();
    if (info.Length() < 1 || info[0].IsUndefined() || info[0].IsNull()) {
      self.Set("_callIdFilter", env.Undefined());
      callIdFilter_.Reset();
      return env.Undefined();
    }
    if (mode_ != kModeDatagram || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        info[0].As<Napi::Uint8Array>().ByteLength() != kCallIdFilterBytes) {
      ThrowType(env, "setCallIdFilter(filter: Uint8Array of 8200 bytes) on a datagram Port");
      return env.Undefined();
    }
    self.Set("_callIdFilter", info[0]);
    callIdFilter_ = Napi::Weak(info[0].As<Napi::Object>());
    return env.Undefined();
  }

  // The filter's bytes, or nullptr (none, or no longer usable).
  uint8_t* CallIdFilterBytes() {
    if (callIdFilter_.IsEmpty()) return nullptr;
    Napi::Value v = callIdFilter_.Value();
    if (!v.IsTypedArray()) return nullptr;
    Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    if (a.ArrayBuffer().IsDetached() || a.ByteLength() != kCallIdFilterBytes) return nullptr;
    return a.Data();
  }

  // poll(readable: boolean, writable: boolean): starts/changes/stops the poll.
  Napi::Value Poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || poll_ == nullptr) {
      ThrowErrno(env, "poll", EBADF);
      return env.Undefined();
    }
    int events = (info[0].ToBoolean().Value() ? UV_READABLE : 0) | (info[1].ToBoolean().Value() ? UV_WRITABLE : 0);
    int r = events == 0 ? uv_poll_stop(poll_) : uv_poll_start(poll_, events, OnPoll);
    if (r < 0) {
      ThrowErrno(env, "uv_poll_start", -r);
      return env.Undefined();
    }
    events_ = events;
    // An active poll pins the JS object: GC must not finalize (and close the
    // fd of) a Port whose events are still being delivered.
    if (events != 0 && !pinned_) {
      Ref();
      pinned_ = true;
    } else if (events == 0 && pinned_) {
      Unref();
      pinned_ = false;
    }
    return env.Undefined();
  }

  // send(txBuf: ArrayBuffer, txLen: Int32Array, slotSize, start, count): number
  // Writes slots [start, start+count). Returns how many were consumed: sent,
  // or dropped on a hard error, in which case txLen[i] is set to -errno. It
  // stops early on EAGAIN (the caller keeps the rest and polls for writable).
  // Datagram ports send each slot as a whole IPv4 packet to the destination
  // address in its own header (bytes 16..19).
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) {
      ThrowErrno(env, "send", EBADF);
      return env.Undefined();
    }
    if (mode_ == kModeCapture) {
      ThrowType(env, "send: a capture port only receives");
      return env.Undefined();
    }
    if (info.Length() < 5 || !info[2].IsNumber() || !info[3].IsNumber() || !info[4].IsNumber()) {
      ThrowType(env, "send(txBuf, txLen, slotSize, start, count)");
      return env.Undefined();
    }
    size_t slotSize = info[2].As<Napi::Number>().Uint32Value();
    Ring ring;
    if (!GetRing(env, info[0], info[1], slotSize, &ring)) return env.Undefined();
    size_t start = info[3].As<Napi::Number>().Uint32Value();
    size_t count = info[4].As<Napi::Number>().Uint32Value();
    if (start > ring.slots || count > ring.slots - start) {
      ThrowType(env, "send: slot range out of the ring");
      return env.Undefined();
    }
    const size_t minLen = datagram_ ? 20 : 1;
    for (size_t i = start; i < start + count; i++) {
      if (ring.lens[i] < static_cast<int32_t>(minLen) || static_cast<size_t>(ring.lens[i]) > slotSize) {
        ThrowType(env, "send: a packet length is out of range for its slot");
        return env.Undefined();
      }
    }
    size_t done = datagram_ ? SendDatagrams(ring, slotSize, start, count) : WritePackets(ring, slotSize, start, count);
    return Napi::Number::New(env, static_cast<double>(done));
  }

  size_t SendDatagrams(const Ring& ring, size_t slotSize, size_t start, size_t count) {
    if (txMsgs_.size() < count) {
      txMsgs_.resize(count);
      txIov_.resize(count);
      txAddr_.resize(count);
    }
    for (size_t k = 0; k < count; k++) {
      uint8_t* p = ring.data + (start + k) * slotSize;
      txIov_[k].iov_base = p;
      txIov_[k].iov_len = static_cast<size_t>(ring.lens[start + k]);
      memset(&txAddr_[k], 0, sizeof txAddr_[k]);
      txAddr_[k].sin_family = AF_INET;
      memcpy(&txAddr_[k].sin_addr, p + 16, 4);  // IPv4 destination address
      memset(&txMsgs_[k], 0, sizeof txMsgs_[k]);
      txMsgs_[k].msg_hdr.msg_name = &txAddr_[k];
      txMsgs_[k].msg_hdr.msg_namelen = sizeof txAddr_[k];
      txMsgs_[k].msg_hdr.msg_iov = &txIov_[k];
      txMsgs_[k].msg_hdr.msg_iovlen = 1;
    }
    size_t k = 0;
    while (k < count) {
      int r = sendmmsg(fd_, &txMsgs_[k], static_cast<unsigned>(count - k), MSG_DONTWAIT);
      if (r > 0) {
        k += static_cast<size_t>(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;  // the socket send buffer is full: nothing was sent, wait for POLLOUT
      } else {
        // The first remaining message failed: drop it, report why, go on.
        ring.lens[start + k] = -(r < 0 ? errno : EIO);
        k++;
      }
    }
    return k;
  }

  size_t WritePackets(const Ring& ring, size_t slotSize, size_t start, size_t count) {
    size_t k = 0;
    while (k < count) {
      size_t len = static_cast<size_t>(ring.lens[start + k]);
      ssize_t r = write(fd_, ring.data + (start + k) * slotSize, len);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (r < 0 || static_cast<size_t>(r) != len) ring.lens[start + k] = -(r < 0 ? errno : EIO);
      k++;
    }
    return k;
  }

  Napi::Value LoopRef(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value LoopUnref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release(true);
    return info.Env().Undefined();
  }

  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  // Stops the poll, closes the fd and drops every JS reference. Idempotent.
  void Release(bool fromJs) {
    auto& bp = tBusy.ports;
    bp.erase(std::remove(bp.begin(), bp.end(), this), bp.end());
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    events_ = 0;
    if (fd_ >= 0) {
      // Linux releases the descriptor even when close() reports EINTR; there
      // is nothing useful to do with an error here.
      (void)close(fd_);
      fd_ = -1;
    }
    if (pinned_ && fromJs) Unref();
    pinned_ = false;
    if (!rxBuf_.IsEmpty()) rxBuf_.Reset();
    if (!rxLen_.IsEmpty()) rxLen_.Reset();
    if (!rxMeta_.IsEmpty()) rxMeta_.Reset();
    if (!onEvent_.IsEmpty()) onEvent_.Reset();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    Port* self = static_cast<Port*>(handle->data);
    if (self == nullptr || self->fd_ < 0) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // Keep the JS object alive for this whole call even if the callback
    // closes the port and drops every other reference to it.
    Napi::Object keep = self->Value();
    if (status < 0) {
      self->Fail(-status);
      return;
    }
    size_t got = (events & UV_READABLE) ? self->Receive() : 0;
    if (self->fd_ >= 0 && (self->events_ & UV_WRITABLE) && (events & UV_WRITABLE)) self->Emit(kEventWritable, 0);
    if (got > 0 && tBusy.spinNs > 0 && !tBusy.spinning) Spin(env);
    (void)keep;
  }

  // Whether p is still one of this thread's Ports (a callback may have
  // closed it, and GC finalized it, since the poll set was built).
  static bool Live(Port* p) {
    const auto& v = tBusy.ports;
    return std::find(v.begin(), v.end(), p) != v.end() && p->fd_ >= 0 && (p->events_ & UV_READABLE);
  }

  // The busy-poll (see BusyPoll): after a wake-up that delivered packets,
  // polls the thread's reading Ports without sleeping until spinNs pass with
  // nothing new, or maxNs since the start; delivers what it finds as the
  // libuv poll would (one ring per Port per round, one call into JS each).
  static void Spin(Napi::Env env) {
    BusyPoll& b = tBusy;
    b.spinning = true;
    b.spins++;
    const uint64_t start = MonoNs();
    const uint64_t hard = start + b.maxNs;
    uint64_t deadline = std::min(start + b.spinNs, hard);
    uint64_t now = start;
    bool hit = false;
    while (now < deadline) {
      b.fds.clear();
      b.fdPorts.clear();
      for (Port* p : b.ports) {
        if (p->fd_ < 0 || !(p->events_ & UV_READABLE)) continue;
        b.fds.push_back(pollfd{p->fd_, POLLIN, 0});
        b.fdPorts.push_back(p);
      }
      if (b.fds.empty()) break;
      int r = poll(b.fds.data(), b.fds.size(), 0);
      b.polls++;
      if (r > 0) {
        bool delivered = false;
        for (size_t i = 0; i < b.fds.size(); i++) {
          if (b.fds[i].revents == 0) continue;
          Port* p = b.fdPorts[i];
          if (!Live(p) || p->fd_ != b.fds[i].fd) continue;
          Napi::HandleScope scope(env);
          Napi::Object keep = p->Value();
          if (p->Receive() > 0) {
            b.batches++;
            delivered = true;
          }
          (void)keep;
        }
        now = MonoNs();
        // Only a delivery restarts the window: a socket that stays readable
        // with nothing for JS (a flood the Call ID filter drops) does not.
        if (delivered) {
          hit = true;
          deadline = std::min(now + b.spinNs, hard);
        }
      } else {
        if (r < 0 && errno != EINTR) break;
        sched_yield();
        now = MonoNs();
      }
    }
    if (hit) b.hits++;
    b.spinNsTotal += static_cast<double>(MonoNs() - start);
    b.spinning = false;
  }

  // Drains up to one ring of packets, then makes one call into JS. Returns
  // how many packets it delivered.
  size_t Receive() {
    Napi::Env env = Env();
    Ring ring;
    if (!GetRing(env, rxBuf_.Value(), rxLen_.Value(), slotSize_, &ring)) {
      ClearException(env);
      Fail(EFAULT);
      return 0;
    }
    double* meta = nullptr;
    if (mode_ == kModeCapture && !GetMeta(env, rxMeta_.Value(), ring.slots, &meta)) {
      ClearException(env);
      Fail(EFAULT);
      return 0;
    }
    size_t n = 0;
    int err = 0;
    uint8_t* filter = mode_ == kModeDatagram ? CallIdFilterBytes() : nullptr;
    double filtered = 0;
    // With a Call ID filter, a batch that is all unknown calls (a flood) is
    // dropped here and the socket read again, up to kFilterRounds batches per
    // wake-up, without a call into JS; the bound keeps the loop's other work going.
    constexpr int kFilterRounds = 16;
    for (int round = 0; datagram_ && n == 0 && err == 0 && round < (filter ? kFilterRounds : 1); round++) {
      const bool capture = mode_ == kModeCapture;
      size_t slots = ring.slots < rxMsgs_.size() ? ring.slots : rxMsgs_.size();
      for (size_t i = 0; i < slots; i++) {
        rxIov_[i].iov_base = ring.data + i * slotSize_;
        rxIov_[i].iov_len = slotSize_;
        memset(&rxMsgs_[i], 0, sizeof rxMsgs_[i]);
        rxMsgs_[i].msg_hdr.msg_iov = &rxIov_[i];
        rxMsgs_[i].msg_hdr.msg_iovlen = 1;
        if (capture) {
          rxMsgs_[i].msg_hdr.msg_name = &rxFrom_[i];
          rxMsgs_[i].msg_hdr.msg_namelen = sizeof rxFrom_[i];
          rxMsgs_[i].msg_hdr.msg_control = &rxCtl_[i * kCtlSize];
          rxMsgs_[i].msg_hdr.msg_controllen = kCtlSize;
        }
      }
      // A capture keeps the first slotSize bytes of a longer frame (a snap
      // length); MSG_TRUNC makes packet sockets report the frame's real length.
      int r;
      do {
        r = recvmmsg(fd_, rxMsgs_.data(), static_cast<unsigned>(slots), MSG_DONTWAIT | (capture ? MSG_TRUNC : 0),
                     nullptr);
      } while (r < 0 && errno == EINTR);
      if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
        break;
      } else {
        n = static_cast<size_t>(r);
        for (size_t i = 0; i < n; i++) {
          if (capture) {
            size_t len = rxMsgs_[i].msg_len;
            ring.lens[i] = static_cast<int32_t>(len < slotSize_ ? len : slotSize_);
            CaptureMeta(rxMsgs_[i].msg_hdr, rxFrom_[i], len, meta + i * kMetaPerSlot);
          } else {
            bool truncated = (rxMsgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
            ring.lens[i] = truncated ? -1 : static_cast<int32_t>(rxMsgs_[i].msg_len);
          }
        }
        if (filter != nullptr) {
          // Keep the packets of live calls, moved down over the dropped ones.
          size_t kept = 0;
          for (size_t i = 0; i < n; i++) {
            uint8_t* slot = ring.data + i * slotSize_;
            if (CallIdFiltered(slot, ring.lens[i], filter)) {
              filtered++;
              continue;
            }
            if (kept != i) {
              if (ring.lens[i] > 0) memmove(ring.data + kept * slotSize_, slot, static_cast<size_t>(ring.lens[i]));
              ring.lens[kept] = ring.lens[i];
            }
            kept++;
          }
          bool full = n == slots;
          n = kept;
          if (!full) break;  // the socket is drained
        }
      }
    }
    if (filtered > 0) {
      double count;
      memcpy(&count, filter + kCallIdBitmapBytes, sizeof count);
      count += filtered;
      memcpy(filter + kCallIdBitmapBytes, &count, sizeof count);
    }
    if (!datagram_) {
      while (n < ring.slots) {
        ssize_t r = read(fd_, ring.data + n * slotSize_, slotSize_);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
          break;
        }
        if (r == 0) break;
        // A read that fills the slot may have been cut short: report it as
        // truncated (-1) rather than hand a partial packet up.
        ring.lens[n] = static_cast<size_t>(r) >= slotSize_ ? -1 : static_cast<int32_t>(r);
        n++;
      }
    }
    if (n > 0) Emit(kEventReadable, static_cast<int>(n));
    if (err != 0 && fd_ >= 0) Fail(err);
    return n;
  }

  // A hard read error: stop reading (a level-triggered poll would spin) and tell JS.
  void Fail(int err) {
    if (poll_ != nullptr && (events_ & UV_READABLE)) {
      events_ &= ~UV_READABLE;
      if (events_ == 0) {
        uv_poll_stop(poll_);
        if (pinned_) {
          Unref();
          pinned_ = false;
        }
      } else {
        uv_poll_start(poll_, events_, OnPoll);
      }
    }
    Emit(kEventError, err);
  }

  // Calls onEvent(kind, n) through raw Node-API, not node-addon-api: a
  // failing call must never reach node-addon-api's error path, which (built
  // without C++ exceptions) aborts the process when it cannot build an Error,
  // as happens when a worker thread is terminated during the callback.
  void Emit(int kind, int n) {
    if (onEvent_.IsEmpty()) return;
    Napi::Function fn = onEvent_.Value();
    if (fn.IsEmpty()) return;
    napi_env env = Env();
    napi_value argv[2];
    napi_value result;
    if (napi_create_int32(env, kind, &argv[0]) != napi_ok || napi_create_int32(env, n, &argv[1]) != napi_ok) return;
    napi_status st = napi_make_callback(env, static_cast<napi_async_context>(*ctx_), Value(), fn, 2, argv, &result);
    if (st == napi_ok) return;
    bool pending = false;
    napi_value exc;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
      // No JS frame is below us: route the exception to 'uncaughtException'.
      // (When the environment is shutting down this returns an error and
      // does nothing, which is all there is left to do.)
      (void)napi_fatal_exception(env, exc);
    }
  }

  // Drops a pending JS exception (a failed ring check) without node-addon-api.
  static void ClearException(napi_env env) {
    napi_value exc;
    (void)napi_get_and_clear_last_exception(env, &exc);
  }

  // The receive time (SCM_TIMESTAMPNS, or the clock now if the kernel gave
  // none), the packet type (PACKET_HOST, PACKET_OUTGOING...) and the frame's
  // length on the wire.
  static void CaptureMeta(const msghdr& h, const sockaddr_ll& from, size_t len, double* m) {
    struct timespec ts;
    bool have = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(const_cast<msghdr*>(&h)); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
          c->cmsg_len >= CMSG_LEN(sizeof ts)) {
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        have = true;
      }
    }
    if (!have && clock_gettime(CLOCK_REALTIME, &ts) != 0) {
      ts.tv_sec = 0;
      ts.tv_nsec = 0;
    }
    m[0] = static_cast<double>(ts.tv_sec);
    m[1] = static_cast<double>(ts.tv_nsec);
    m[2] = static_cast<double>(from.sll_pkttype);
    m[3] = static_cast<double>(len);
  }

  // The capture metadata array: a Float64Array of kMetaPerSlot per slot.
  static bool GetMeta(Napi::Env env, Napi::Value v, size_t slots, double** out) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      ThrowType(env, "capture Port: rxMeta must be a Float64Array");
      return false;
    }
    Napi::Float64Array a = v.As<Napi::Float64Array>();
    if (a.ArrayBuffer().IsDetached() || a.ElementLength() < slots * kMetaPerSlot) {
      ThrowType(env, "capture Port: rxMeta must hold 4 numbers per slot");
      return false;
    }
    if (out != nullptr) *out = a.Data();
    return true;
  }

  static constexpr size_t kCtlSize = CMSG_SPACE(sizeof(struct timespec));

  int fd_ = -1;
  int mode_ = kModeStream;
  bool datagram_ = false;
  bool pinned_ = false;
  int events_ = 0;
  size_t slotSize_ = 0;
  uv_poll_t* poll_ = nullptr;
  Napi::ObjectReference rxBuf_;
  Napi::ObjectReference rxLen_;
  Napi::ObjectReference rxMeta_;
  Napi::ObjectReference callIdFilter_;
  Napi::FunctionReference onEvent_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  std::vector<mmsghdr> rxMsgs_;
  std::vector<iovec> rxIov_;
  std::vector<sockaddr_ll> rxFrom_;
  std::vector<uint8_t> rxCtl_;
  std::vector<mmsghdr> txMsgs_;
  std::vector<iovec> txIov_;
  std::vector<sockaddr_in> txAddr_;
};

// ─── sd_notify ───────────────────────────────────────────────────────────────
// sdNotify(socketPath, message): one datagram to the service manager's
// notification socket (sd_notify(3); the protocol is a single AF_UNIX
// SOCK_DGRAM datagram of newline-separated KEY=VALUE lines). socketPath is
// $NOTIFY_SOCKET: a filesystem path, or "@name" for the abstract namespace.
// Node has no unix datagram sockets, hence this function. The socket is
// non-blocking, so a full receive queue throws EAGAIN instead of blocking the
// event loop; the caller decides what to do with errors.

Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    ThrowType(env, "sdNotify(socketPath: string, message: string)");
    return env.Undefined();
  }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const std::string message = info[1].As<Napi::String>().Utf8Value();
  sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() < 2 || path.size() >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@')) {
    ThrowType(env, "sdNotify: the socket path must be absolute or @abstract, and shorter than 108 bytes");
    return env.Undefined();
  }
  memcpy(sa.sun_path, path.data(), path.size());
  if (path[0] == '@') sa.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ThrowErrno(env, "socket", errno);
    return env.Undefined();
  }
  const ssize_t n = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                           reinterpret_cast<const sockaddr*>(&sa), len);
  const int err = errno;
  close(fd);
  if (n < 0) ThrowErrno(env, "sendto", err);
  return env.Undefined();
}

// setBusyPoll(spinMicros, maxMicros): see BusyPoll. 0 turns it off. Bounds:
// spin 0..10000 µs, max spin..100000 µs, both integers.
Napi::Value SetBusyPoll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    ThrowType(env, "setBusyPoll(spinMicros: number, maxMicros: number)");
    return env.Undefined();
  }
  double spin = info[0].As<Napi::Number>().DoubleValue();
  double max = info[1].As<Napi::Number>().DoubleValue();
  if (!(spin >= 0 && spin <= kBusyPollMaxSpinMicros && spin == static_cast<double>(static_cast<int64_t>(spin))) ||
      !(max >= spin && max <= kBusyPollMaxTotalMicros && max == static_cast<double>(static_cast<int64_t>(max)))) {
    ThrowType(env, "setBusyPoll: spinMicros must be an integer 0..10000 and maxMicros an integer spinMicros..100000");
    return env.Undefined();
  }
  tBusy.spinNs = static_cast<uint64_t>(spin) * 1000;
  tBusy.maxNs = static_cast<uint64_t>(max) * 1000;
  return env.Undefined();
}

// busyPollStats(): this thread's busy-poll counters.
Napi::Value BusyPollStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("spins", tBusy.spins);
  o.Set("hits", tBusy.hits);
  o.Set("batches", tBusy.batches);
  o.Set("polls", tBusy.polls);
  o.Set("spinMicros", tBusy.spinNsTotal / 1000);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setBusyPoll", Napi::Function::New<SetBusyPoll>(env, "setBusyPoll"));
  exports.Set("busyPollStats", Napi::Function::New<BusyPollStats>(env, "busyPollStats"));
  exports.Set("openTun", Napi::Function::New<OpenTun>(env, "openTun"));
  exports.Set("openRawSocket", Napi::Function::New<OpenRawSocket>(env, "openRawSocket"));
  exports.Set("Port", Port::Define(env));
  exports.Set("IFF_VNET_HDR", Napi::Number::New(env, IFF_VNET_HDR));
  exports.Set("IFF_MULTI_QUEUE", Napi::Number::New(env, IFF_MULTI_QUEUE));
  exports.Set("openPacketSocket", Napi::Function::New<OpenPacketSocket>(env, "openPacketSocket"));
  exports.Set("setTunOffload", Napi::Function::New<SetTunOffload>(env, "setTunOffload"));
  exports.Set("dupFd", Napi::Function::New<DupFd>(env, "dupFd"));
  exports.Set("attachPptpGreFilter", Napi::Function::New<AttachPptpGreFilter>(env, "attachPptpGreFilter"));
  exports.Set("sdNotify", Napi::Function::New<SdNotify>(env, "sdNotify"));
  exports.Set("TUN_F_CSUM", Napi::Number::New(env, TUN_F_CSUM));
  exports.Set("TUN_F_TSO4", Napi::Number::New(env, TUN_F_TSO4));
  exports.Set("TUN_F_TSO6", Napi::Number::New(env, TUN_F_TSO6));
  exports.Set("TUN_F_TSO_ECN", Napi::Number::New(env, TUN_F_TSO_ECN));
  exports.Set("TUN_F_USO4", Napi::Number::New(env, TUN_F_USO4));
  exports.Set("TUN_F_USO6", Napi::Number::New(env, TUN_F_USO6));
  exports.Set("PORT_MODE_STREAM", Napi::Number::New(env, kModeStream));
  exports.Set("PORT_MODE_DATAGRAM", Napi::Number::New(env, kModeDatagram));
  exports.Set("PORT_MODE_CAPTURE", Napi::Number::New(env, kModeCapture));
  exports.Set("EVENT_READABLE", Napi::Number::New(env, kEventReadable));
  exports.Set("EVENT_WRITABLE", Napi::Number::New(env, kEventWritable));
  exports.Set("EVENT_ERROR", Napi::Number::New(env, kEventError));
  return exports;
}

}  // namespace

NODE_API_MODULE(pptp_io, Init)

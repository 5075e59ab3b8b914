#include "bootstrap.h"

#include <cerrno>
#include <cstdlib>
#include <sched.h>

#include <sys/mount.h>

#include <climits>

#include "error.h"

namespace nlc {
namespace {

// Field access with the field's path in every error ("mounts[2].flags: expected a number").
class Field {
 public:
  Field(const json::Value* value, std::string path) : v_(value), path_(std::move(path)) {}

  bool present() const { return v_ && !v_->isNull(); }
  const std::string& path() const { return path_; }

  Field operator[](const char* key) const {
    if (present() && !v_->isObject()) wrongType("an object");
    return Field(v_ ? v_->find(key) : nullptr, path_.empty() ? key : path_ + "." + key);
  }

  [[noreturn]] void invalid(const std::string& why) const { failPlain("bootstrap", "", "bootstrap field " + path_ + ": " + why); }

  [[noreturn]] void wrongType(const char* expected) const {
    invalid(std::string("expected ") + expected + ", got " + json::Value::kindName(v_ ? v_->kind() : json::Value::Kind::Null));
  }

  const json::Value& require() const {
    if (!present()) invalid("missing");
    return *v_;
  }

  int64_t integer(int64_t min, int64_t max) const {
    const json::Value& v = require();
    if (!v.isInt()) wrongType("an integer");
    if (v.asInt() < min || v.asInt() > max) invalid("out of range: " + std::to_string(v.asInt()));
    return v.asInt();
  }
  int64_t integer(int64_t min, int64_t max, int64_t fallback) const { return present() ? integer(min, max) : fallback; }

  bool boolean(bool fallback) const {
    if (!present()) return fallback;
    if (!v_->isBool()) wrongType("a boolean");
    return v_->asBool();
  }

  std::string string() const {
    const json::Value& v = require();
    if (!v.isString()) wrongType("a string");
    if (v.asString().find('\0') != std::string::npos) invalid("contains a NUL byte");
    return v.asString();
  }
  std::string string(const std::string& fallback) const { return present() ? string() : fallback; }
  std::optional<std::string> optionalString() const {
    if (!present()) return std::nullopt;
    return string();
  }

  std::vector<Field> items() const {
    std::vector<Field> out;
    if (!present()) return out;
    if (!v_->isArray()) wrongType("an array");
    const auto& arr = v_->asArray();
    for (size_t i = 0; i < arr.size(); ++i) out.emplace_back(&arr[i], path_ + "[" + std::to_string(i) + "]");
    return out;
  }

  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (const Field& f : items()) out.push_back(f.string());
    return out;
  }

  const json::Value::Object& members() const {
    static const json::Value::Object empty;
    if (!present()) return empty;
    if (!v_->isObject()) wrongType("an object");
    return v_->asObject();
  }

 private:
  const json::Value* v_;
  std::string path_;
};

unsigned long mountFlags(const Field& f, unsigned long fallback = 0) {
  return static_cast<unsigned long>(f.integer(0, UINT32_MAX, static_cast<int64_t>(fallback)));
}

std::string absolutePath(const Field& f) {
  std::string p = f.string();
  if (p.empty() || p[0] != '/') f.invalid("must be an absolute path, got \"" + p + "\"");
  return p;
}

MountPlan parseMount(const Field& f) {
  MountPlan m;
  m.source = f["source"].string("");
  m.destination = absolutePath(f["destination"]);
  m.type = f["type"].string("");
  m.flags = mountFlags(f["flags"]);
  m.data = f["data"].string("");
  for (const Field& p : f["propagation"].items()) m.propagation.push_back(mountFlags(p));
  m.remountFlags = mountFlags(f["remountFlags"]);
  m.isBind = f["isBind"].boolean(false);
  m.isFile = f["isFile"].boolean(false);
  m.copyUp = f["copyUp"].boolean(false);
  m.recAttrSet = static_cast<uint64_t>(f["recAttrSet"].integer(0, UINT32_MAX, 0));
  m.recAttrClr = static_cast<uint64_t>(f["recAttrClr"].integer(0, UINT32_MAX, 0));
  return m;
}

DevicePlan parseDevice(const Field& f) {
  DevicePlan d;
  d.path = absolutePath(f["path"]);
  std::string type = f["type"].string("c");
  if (type != "c" && type != "b" && type != "u" && type != "p") f["type"].invalid("expected one of c, b, u, p");
  d.type = type[0];
  d.major = static_cast<long>(f["major"].integer(-1, UINT32_MAX, 0));
  d.minor = static_cast<long>(f["minor"].integer(-1, UINT32_MAX, 0));
  d.fileMode = static_cast<unsigned>(f["fileMode"].integer(0, 07777, 0666));
  d.uid = static_cast<unsigned>(f["uid"].integer(0, UINT32_MAX, 0));
  d.gid = static_cast<unsigned>(f["gid"].integer(0, UINT32_MAX, 0));
  return d;
}

HookPlan parseHook(const Field& f) {
  HookPlan h;
  h.path = absolutePath(f["path"]);
  h.args = f["args"].strings();
  h.inheritEnv = !f["env"].present();
  h.env = f["env"].strings();
  Field timeout = f["timeout"];
  if (timeout.present()) {
    const json::Value& v = timeout.require();
    if (!v.isNumber()) timeout.wrongType("a number");
    if (!(v.asDouble() > 0)) timeout.invalid("must be positive");
    h.timeout = v.asDouble();
  }
  return h;
}

std::vector<int> capList(const Field& f) {
  std::vector<int> out;
  for (const Field& c : f.items()) out.push_back(static_cast<int>(c.integer(0, 63)));
  return out;
}

// RFC 4648 base64 (the plan is JSON; the filter is binary).
std::string base64Decode(const Field& f) {
  const std::string text = f.string();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned buffer = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; i++) {
    char c = text[i];
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
    if (v < 0) f.invalid("not base64");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  size_t padding = text.size() - i;
  if (padding > 2 || text.find_first_not_of('=', i) != std::string::npos || (text.size() % 4) != 0) f.invalid("not base64");
  return out;
}

ProcessPlan parseProcess(const Field& f) {
  f.require();
  ProcessPlan p;
  p.args = f["args"].strings();
  if (p.args.empty()) f["args"].invalid("must not be empty");
  p.env = f["env"].strings();
  p.cwd = f["cwd"].string("/");
  if (p.cwd.empty() || p.cwd[0] != '/') f["cwd"].invalid("must be an absolute path, got \"" + p.cwd + "\"");
  p.uid = static_cast<unsigned>(f["uid"].integer(0, UINT32_MAX - 1, 0));
  p.gid = static_cast<unsigned>(f["gid"].integer(0, UINT32_MAX - 1, 0));
  for (const Field& g : f["additionalGids"].items()) p.additionalGids.push_back(static_cast<unsigned>(g.integer(0, UINT32_MAX - 1)));
  if (f["umask"].present()) p.umask = static_cast<unsigned>(f["umask"].integer(0, 0777));
  p.noNewPrivileges = f["noNewPrivileges"].boolean(false);
  Field caps = f["capabilities"];
  if (caps.present()) {
    caps.members();  // type check
    p.capabilities = CapabilityPlan{capList(caps["bounding"]), capList(caps["effective"]), capList(caps["permitted"]),
                                    capList(caps["inheritable"]), capList(caps["ambient"])};
  }
  if (f["oomScoreAdj"].present()) p.oomScoreAdj = static_cast<int>(f["oomScoreAdj"].integer(-1000, 1000));
  Field sched = f["scheduler"];
  if (sched.present()) {
    SchedulerPlan sp;
    sp.policy = static_cast<unsigned>(sched["policy"].integer(0, 6));
    sp.flags = static_cast<unsigned long long>(sched["flags"].integer(0, 0x7f, 0));
    sp.nice = static_cast<int>(sched["nice"].integer(-20, 19, 0));
    sp.priority = static_cast<unsigned>(sched["priority"].integer(0, INT32_MAX, 0));
    sp.runtime = static_cast<unsigned long long>(sched["runtime"].integer(0, INT64_MAX, 0));
    sp.deadline = static_cast<unsigned long long>(sched["deadline"].integer(0, INT64_MAX, 0));
    sp.period = static_cast<unsigned long long>(sched["period"].integer(0, INT64_MAX, 0));
    p.scheduler = sp;
  }
  if (f["ioPriority"].present()) p.ioPriority = static_cast<int>(f["ioPriority"].integer(0, (3 << 13) | 7));
  if (f["personality"].present()) p.personality = static_cast<unsigned long>(f["personality"].integer(0, UINT32_MAX));
  Field policy = f["memoryPolicy"];
  if (policy.present()) {
    ProcessPlan::MemoryPolicy mp{static_cast<int>(policy["mode"].integer(0, 0xffff)), {}};
    for (const Field& n : policy["nodes"].items()) mp.nodes.push_back(static_cast<int>(n.integer(0, 1023)));
    p.memoryPolicy = std::move(mp);
  }
  p.terminal = f["terminal"].boolean(false);
  Field size = f["consoleSize"];
  if (size.present()) {
    p.consoleSize = ProcessPlan::Size{static_cast<unsigned short>(size["height"].integer(0, 65535)), static_cast<unsigned short>(size["width"].integer(0, 65535))};
  }
  Field seccomp = f["seccomp"];
  if (seccomp.present()) {
    SeccompPlan plan{base64Decode(seccomp["filter"]), static_cast<unsigned>(seccomp["flags"].integer(0, UINT32_MAX, 0)),
                     seccomp["notify"].boolean(false)};
    // struct sock_filter is 8 bytes; the kernel takes at most BPF_MAXINSNS (4096) of them.
    if (plan.program.empty() || plan.program.size() % 8 != 0 || plan.program.size() / 8 > 4096)
      seccomp["filter"].invalid("not a BPF program of 1 to 4096 instructions");
    p.seccomp = std::move(plan);
  }
  return p;
}

}  // namespace

Bootstrap parseBootstrap(const json::Value& message) {
  Field root(&message, "");
  if (!message.isObject()) failPlain("bootstrap", "", "the bootstrap message is not a JSON object");
  if (root["type"].string("") != "bootstrap") root["type"].invalid("expected \"bootstrap\"");

  Bootstrap b;
  std::string mode = root["mode"].string();
  if (mode == "init") b.mode = Mode::Init;
  else if (mode == "exec") b.mode = Mode::Exec;
  else root["mode"].invalid("expected \"init\" or \"exec\", got \"" + mode + "\"");

  b.extraFiles = static_cast<int>(root["extraFiles"].integer(0, 1 << 20, 0));
  b.logFd = static_cast<int>(root["logFd"].integer(-1, INT_MAX, -1));
  b.joinPidfd = static_cast<int>(root["joinPidfd"].integer(-1, INT_MAX, -1));
  b.joinFlags = static_cast<unsigned long>(root["joinFlags"].integer(0, UINT32_MAX, 0));
  if (b.joinFlags != 0 && b.joinPidfd < 0) root["joinFlags"].invalid("set without a joinPidfd");

  Field ns = root["namespaces"];
  for (const Field& j : ns["join"].items()) b.join.push_back({j["type"].string(), absolutePath(j["path"])});
  b.unshareFlags = static_cast<unsigned long>(ns["unshare"].integer(0, UINT32_MAX, 0));
  b.forkChild = ns["forkChild"].boolean(false);
  b.sessionKeyring = root["sessionKeyring"].string("");
  b.dieWithParent = root["dieWithParent"].boolean(false);

  if (root["oomScoreAdj"].present()) b.oomScoreAdj = static_cast<int>(root["oomScoreAdj"].integer(-1000, 1000));
  b.loopback = root["loopback"].boolean(false);
  for (const Field& o : root["timeOffsets"].items()) {
    std::string clock = o["clock"].string();
    if (clock != "monotonic" && clock != "boottime") o["clock"].invalid("expected monotonic or boottime");
    b.timeOffsets += clock + " " + std::to_string(o["secs"].integer(INT64_MIN, INT64_MAX)) + " " + std::to_string(o["nanosecs"].integer(0, 999999999)) + "\n";
  }
  for (const Field& c : root["cgroupJoin"].items()) b.cgroupJoin.push_back(absolutePath(c));

  RootfsPlan& r = b.rootfs;
  if (b.mode == Mode::Init) r.rootfs = absolutePath(root["rootfs"]);
  r.rootPropagation = mountFlags(root["rootPropagation"], MS_SLAVE | MS_REC);
  r.readonlyRoot = root["readonlyRoot"].boolean(false);
  for (const Field& m : root["mounts"].items()) r.mounts.push_back(parseMount(m));
  r.defaultDevices = root["defaultDevices"].boolean(false);
  for (const Field& d : root["devices"].items()) r.devices.push_back(parseDevice(d));
  r.maskedPaths = root["maskedPaths"].strings();
  r.readonlyPaths = root["readonlyPaths"].strings();
  for (const auto& [key, value] : root["sysctl"].members()) {
    Field f(&value, "sysctl." + key);
    r.sysctl[key] = f.string();
  }

  b.hostname = root["hostname"].optionalString();
  b.domainname = root["domainname"].optionalString();
  b.execFifo = root["execFifo"].string("");
  b.syncHooks = root["syncHooks"].boolean(true);
  b.logDebug = root["logDebug"].boolean(false);
  b.readyAck = root["readyAck"].boolean(true);
  Field affinity = root["affinity"];
  if (!affinity.present()) {
    b.affinity = Bootstrap::Affinity::Keep;
  } else if (affinity.require().isString()) {
    if (affinity.string() != "reset") affinity.invalid("expected \"reset\", null or a list of CPUs");
    b.affinity = Bootstrap::Affinity::Reset;
  } else {
    b.affinity = Bootstrap::Affinity::Set;
    for (const Field& cpu : affinity.items()) b.affinityCpus.push_back(static_cast<int>(cpu.integer(0, CPU_SETSIZE - 1)));
    if (b.affinityCpus.empty()) affinity.invalid("an empty CPU list");
  }
  for (const Field& r : root["rlimits"].items()) {
    // soft and hard as decimal strings: JSON numbers cannot carry 2^64-1 exactly.
    auto limit = [](const Field& f) {
      std::string text = f.string();
      char* end = nullptr;
      errno = 0;
      unsigned long long v = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE) f.invalid("expected a decimal rlimit value");
      return v;
    };
    b.rlimits.push_back({static_cast<int>(r["resource"].integer(0, 63)), limit(r["soft"]), limit(r["hard"])});
  }
  for (const Field& h : root["hooks"]["createContainer"].items()) b.createContainerHooks.push_back(parseHook(h));
  for (const Field& h : root["hooks"]["startContainer"].items()) b.startContainerHooks.push_back(parseHook(h));
  b.process = parseProcess(root["process"]);
  return b;
}

}  // namespace nlc

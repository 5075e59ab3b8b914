#include "identity.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "error.h"
#include "fd.h"
#include "fileio.h"
#include "log.h"

namespace nlc {
namespace {

// The home directory field of the first /etc/passwd line whose uid matches, or "".
std::string homeFromPasswd(const std::string& passwd, unsigned uid) {
  std::string_view rest(passwd);
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    // name:password:uid:gid:gecos:home:shell
    std::string_view fields[7];
    size_t count = 0;
    while (count < 7) {
      size_t colon = line.find(':');
      fields[count++] = line.substr(0, colon);
      if (colon == std::string_view::npos) break;
      line = line.substr(colon + 1);
    }
    if (count < 6 || fields[2].empty()) continue;
    unsigned long long v = 0;
    bool numeric = true;
    for (char c : fields[2]) {
      if (c < '0' || c > '9' || v > 0xFFFFFFFFull) {
        numeric = false;
        break;
      }
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (numeric && v == uid) return std::string(fields[5]);
  }
  return "";
}

// Port of runc's fixStdioPermissions: a user other than root must be able to reopen its
// stdio through /proc/self/fd; /dev/null is left alone.
void chownStdio(unsigned uid) {
  struct stat null {};
  bool haveNull = ::stat("/dev/null", &null) == 0;
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
      if (errno == EBADF) continue;
      fail("identity", "fstat", "/proc/self/fd/" + std::to_string(fd), "checking stdio ownership");
    }
    if (haveNull && S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev) continue;
    if (st.st_uid == uid) continue;
    // Only the owner, as runc: the group stays what it is (a pty keeps devpts's tty group).
    if (::fchown(fd, uid, static_cast<gid_t>(-1)) < 0) {
      // A read-only filesystem, or a file we do not own (an inherited tty or file in a user
      // namespace): runc ignores these as well.
      if (errno == EINVAL || errno == EPERM || errno == EROFS) continue;
      fail("identity", "fchown", "/proc/self/fd/" + std::to_string(fd), "handing stdio to uid " + std::to_string(uid));
    }
  }
}

}  // namespace

void prepareEnv(std::vector<std::string>& env, unsigned uid) {
  // runc puts the env in place with os.Setenv: one entry per name, at the position of its
  // first occurrence, holding the value of its last.
  std::vector<std::string> unique;
  for (const auto& e : env) {
    const std::string_view name(e.data(), std::min(e.find('='), e.size()));
    auto same = [&](const std::string& u) { return u.size() > name.size() && u.compare(0, name.size(), name) == 0 && u[name.size()] == '='; };
    auto it = std::find_if(unique.begin(), unique.end(), same);
    if (it == unique.end()) unique.push_back(e);
    else *it = e;
  }
  env = std::move(unique);
  // HOME from the container's /etc/passwd when unset or empty, else "/", as runc does.
  auto home = std::find_if(env.begin(), env.end(), [](const std::string& e) { return e.rfind("HOME=", 0) == 0; });
  if (home != env.end() && home->size() > 5) return;
  std::string passwd, dir;
  if (readFile("/etc/passwd", passwd)) dir = homeFromPasswd(passwd, uid);
  if (dir.empty()) dir = "/";
  if (home != env.end()) *home = "HOME=" + dir;
  else env.push_back("HOME=" + dir);
}

void setupUser(const ProcessPlan& process) {
  // Since Linux 3.19 an unprivileged user namespace may deny setgroups.
  std::string setgroupsPolicy;
  bool denied = readFile("/proc/self/setgroups", setgroupsPolicy) && setgroupsPolicy.rfind("deny", 0) == 0;
  if (denied) {
    if (!process.additionalGids.empty())
      failPlain("identity", "/proc/self/setgroups", "cannot set additional groups: setgroups is denied in this user namespace");
  } else {
    std::vector<gid_t> groups(process.additionalGids.begin(), process.additionalGids.end());
    if (::setgroups(groups.size(), groups.data()) < 0) fail("identity", "setgroups", "", "setting the additional groups");
  }

  chownStdio(process.uid);

  if (::setresgid(process.gid, process.gid, process.gid) < 0)
    fail("identity", "setresgid", "", "changing to gid " + std::to_string(process.gid));
  if (::setresuid(process.uid, process.uid, process.uid) < 0)
    fail("identity", "setresuid", "", "changing to uid " + std::to_string(process.uid));
}

}  // namespace nlc

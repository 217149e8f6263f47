// SPDX-License-Identifier: GPL-3.0-or-later
#include "Process.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lathe::test {
namespace {

/// How many times `text` occurs in `s` (not overlapping).
int occurrences(const std::string& s, const std::string& text) {
    int n = 0;
    for (auto at = s.find(text); at != std::string::npos; at = s.find(text, at + text.size())) {
        ++n;
    }
    return n;
}

} // namespace

std::string latheBinary() {
    // LATHE_CLI overrides the build-time path (the GPU machine runs a relocated bundle:
    // scripts/device-bundle).
    const char* env = std::getenv("LATHE_CLI");
    return env != nullptr && *env != '\0' ? env : LATHE_CLI_PATH;
}

ProcessResult runProcess(const std::string& program, const std::vector<std::string>& args,
                         const ProcessOptions& options) {
    int outPipe[2];
    int errPipe[2];
    if (::pipe(outPipe) != 0 || ::pipe(errPipe) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        ::dup2(outPipe[1], STDOUT_FILENO);
        ::dup2(errPipe[1], STDERR_FILENO);
        ::close(outPipe[0]);
        ::close(errPipe[0]);
        for (const auto& [k, v] : options.env) {
            ::setenv(k.c_str(), v.c_str(), 1);
        }
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(program.c_str()));
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(outPipe[1]);
    ::close(errPipe[1]);

    ProcessResult r;
    bool signalled = false;
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    int open = 2;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(options.timeoutSeconds);
    while (open > 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(fds, 2, 100) < 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
                char buf[4096];
                const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;
                    --open;
                } else {
                    (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
                }
            }
        }
        if (!signalled && options.signal != 0 && !options.signalWhenStderrContains.empty() &&
            occurrences(r.err, options.signalWhenStderrContains) >= options.signalOnOccurrence) {
            ::kill(pid, options.signal);
            signalled = true;
        }
    }
    for (auto& f : fds) {
        if (f.fd >= 0) {
            ::close(f.fd);
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string cudaUnavailableReason() {
    const ProcessResult r = runProcess(latheBinary(), {"info", "--devices", "--json"});
    const auto j = nlohmann::json::parse(r.out);
    return j["cuda"]["available"].get<bool>() ? std::string() : j["cuda"]["reason"].get<std::string>();
}

} // namespace lathe::test

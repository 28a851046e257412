#include "serving.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "reflection_fault.h"
#include "services.h"
#include "workers.h"

namespace interop {
namespace {

// How long in-flight calls may run on after a stop signal before they are cancelled.
constexpr auto kGrace = std::chrono::seconds(1);
// The grace of a restart's graceful shutdown (grpcio's server.stop(30)).
constexpr auto kRestartGrace = std::chrono::seconds(30);

// The channel arguments of the lifecycle flags.
const char* LifecycleArg(const std::string& flag) {
  if (flag == "max_concurrent_streams") return GRPC_ARG_MAX_CONCURRENT_STREAMS;
  if (flag == "max_connection_age_ms") return GRPC_ARG_MAX_CONNECTION_AGE_MS;
  if (flag == "max_connection_age_grace_ms") return GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS;
  if (flag == "max_connection_idle_ms") return GRPC_ARG_MAX_CONNECTION_IDLE_MS;
  if (flag == "keepalive_time_ms") return GRPC_ARG_KEEPALIVE_TIME_MS;
  if (flag == "keepalive_timeout_ms") return GRPC_ARG_KEEPALIVE_TIMEOUT_MS;
  if (flag == "keepalive_min_time_ms") return GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS;
  return nullptr;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::shared_ptr<grpc::ServerCredentials> Credentials(const TlsConfig& tls) {
  if (!tls.use_tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(tls.require_client_cert
                                                ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                                : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({ReadFile(tls.key_file), ReadFile(tls.cert_file)});
  if (tls.require_client_cert) options.pem_root_certs = ReadFile(tls.client_ca_file);
  return grpc::SslServerCredentials(options);
}

std::string HostPort(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::unique_ptr<grpc::Server> Process::BuildServer(const std::vector<std::string>& addresses, int* selected_port,
                                                   Generation* gen) {
  grpc::ServerBuilder builder;
  auto creds = Credentials(cfg_.tls);
  for (size_t i = 0; i < addresses.size(); ++i) {
    builder.AddListeningPort(addresses[i], creds, i == 0 ? selected_port : nullptr);
  }
  // gRPC C++ sets SO_REUSEPORT by default: a lone server must not share its port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, cfg_.ReusePort() ? 1 : 0);
  if (cfg_.faults.Has("scripted-limits-ignored")) {
    builder.SetMaxReceiveMessageSize(-1);
    builder.SetMaxSendMessageSize(-1);
  } else {
    if (cfg_.max_receive) builder.SetMaxReceiveMessageSize(*cfg_.max_receive);
    if (cfg_.max_send) builder.SetMaxSendMessageSize(*cfg_.max_send);
  }
  if (!cfg_.faults.Has("scripted-lifecycle-ignored")) {
    for (const auto& [flag, value] : cfg_.lifecycle) builder.AddChannelArgument(LifecycleArg(flag), value);
    if (cfg_.keepalive_permit_without_calls) {
      builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, *cfg_.keepalive_permit_without_calls ? 1 : 0);
    }
  }
  if (cfg_.faults.Has("reflection-incomplete")) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(NewReflectionWithoutScripted());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  RestartFn restart = [this](std::chrono::milliseconds after, bool graceful) { return RequestRestart(after, graceful); };
  for (auto& service : RegisterServices(builder, cfg_.faults, restart)) gen->services.push_back(std::move(service));
  return builder.BuildAndStart();
}

std::unique_ptr<Process::Generation> Process::Build(int* port, std::string* error) {
  auto gen = std::make_unique<Generation>();
  int selected = 0;
  auto primary = BuildServer({HostPort(cfg_.host, *port)}, &selected, gen.get());
  if (!primary || selected == 0) {
    *error = "cannot listen on " + HostPort(cfg_.host, *port);
    return nullptr;
  }
  *port = selected;
  gen->servers.push_back(std::move(primary));
  // The other addresses listen at the port the first one got, so they need a server of their
  // own when that port was ephemeral (gRPC C++ tells it only once a server has started).
  std::vector<std::string> more;
  if (cfg_.ipv6_loopback) more.push_back(HostPort("::1", selected));
  if (!cfg_.second_host.empty() && !cfg_.faults.Has("scripted-second-host-ignored")) {
    more.push_back(HostPort(cfg_.second_host, selected));
  }
  if (!cfg_.unix_socket.empty()) more.push_back("unix:" + cfg_.unix_socket);
  if (!more.empty()) {
    int extra_port = 0;
    auto extra = BuildServer(more, &extra_port, gen.get());
    if (!extra) {
      std::string all;
      for (const auto& a : more) all += (all.empty() ? "" : ", ") + a;
      *error = "cannot listen on every address of " + all;
      Shutdown(gen.get(), std::chrono::system_clock::now());
      return nullptr;
    }
    gen->servers.push_back(std::move(extra));
  }
  return gen;
}

void Process::Shutdown(Generation* gen, std::chrono::system_clock::time_point deadline) {
  std::vector<std::thread> stops;
  for (auto& server : gen->servers) {
    stops.emplace_back([&server, deadline] {
      server->Shutdown(deadline);
      server->Wait();
    });
  }
  for (auto& t : stops) t.join();
}

void Process::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
}

bool Process::RequestRestart(std::chrono::milliseconds after, bool graceful) {
  if (cfg_.workers > 1 || cfg_.worker_parent != 0) {
    std::fprintf(stderr, "scripted: restart_server_after_ms ignored: a --workers process does not restart\n");
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || restarting_) {
      std::fprintf(stderr, "scripted: restart_server_after_ms ignored: the server is %s\n",
                   stop_ ? "stopping" : "restarting already");
      return false;
    }
    restarting_ = true;
    restart_ = Restart{after, graceful};
  }
  wake_.notify_all();
  return true;
}

int Process::Run() {
  if (cfg_.worker_parent != 0 && getppid() != cfg_.worker_parent) {
    std::fprintf(stderr, "parent %d exited before this worker started\n", cfg_.worker_parent);
    return 1;
  }
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  int port = cfg_.port;
  std::string error;
  auto gen = Build(&port, &error);
  if (!gen) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  port_ = port;
  WorkerPool workers;
  if (!workers.Start(cfg_, port_, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    Shutdown(gen.get(), std::chrono::system_clock::now());
    return 1;
  }
  std::printf("{\"event\":\"listening\",\"port\":%d}\n", port_);
  std::fflush(stdout);
  std::fprintf(stderr, "serving on %s (%d process(es)%s, %s), grpc-cpp %s, faults \"%s\"\n",
               HostPort(cfg_.host, port_).c_str(), cfg_.ExtraWorkers() + 1,
               cfg_.worker_parent ? (", worker of " + std::to_string(cfg_.worker_parent)).c_str() : "",
               cfg_.tls.use_tls ? (cfg_.tls.require_client_cert ? "mtls" : "tls") : "insecure",
               grpc::Version().c_str(), cfg_.faults.String().c_str());

  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || restart_.has_value(); });
    if (stop_) break;
    Restart restart = *restart_;
    restart_.reset();
    lock.unlock();
    std::fprintf(stderr, "restart: shutting down (%s), then %lld ms down\n", restart.graceful ? "graceful" : "abrupt",
                 static_cast<long long>(restart.after.count()));
    auto now = std::chrono::system_clock::now();
    bool shut = false;
    std::thread shutdown([&] {
      Shutdown(gen.get(), restart.graceful ? now + kRestartGrace : now);
      std::lock_guard<std::mutex> done(mu_);
      shut = true;
      wake_.notify_all();
    });
    lock.lock();
    wake_.wait(lock, [&] { return shut || stop_; });
    if (!shut) {
      // A stop signal during the restart's graceful shutdown: gRPC C++ has no way to shorten a
      // Shutdown under way, so the calls get the usual second of grace, then the process ends.
      wake_.wait_for(lock, kGrace, [&] { return shut; });
      if (!shut) {
        std::fprintf(stderr, "stopping during a restart: exiting without waiting for its shutdown\n");
        workers.Stop();
        std::fflush(stderr);
        std::_Exit(0);
      }
    }
    lock.unlock();
    shutdown.join();
    gen.reset();
    lock.lock();
    if (wake_.wait_for(lock, restart.after, [&] { return stop_; })) break;
    lock.unlock();
    int again = port_;
    gen = Build(&again, &error);
    if (!gen) {
      std::fprintf(stderr, "restart: %s\n", error.c_str());
      workers.Stop();
      return 1;
    }
    std::fprintf(stderr, "restart: serving again on %s\n", HostPort(cfg_.host, port_).c_str());
    lock.lock();
    restarting_ = false;
  }
  lock.unlock();
  std::fprintf(stderr, "stopping\n");
  std::thread stop_workers([&workers] { workers.Stop(); });
  if (gen) Shutdown(gen.get(), std::chrono::system_clock::now() + kGrace);
  stop_workers.join();
  return 0;
}

std::vector<std::unique_ptr<grpc::Service>> RegisterServices(grpc::ServerBuilder& builder, const Faults& faults,
                                                             RestartFn restart) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(NewGreeter(faults));
  services.push_back(NewStreamingGreeter(faults));
  services.push_back(NewHelloWorldService(faults));
  services.push_back(NewCompute(faults));
  services.push_back(NewUserRecommend(faults));
  services.push_back(NewRandom(faults));
  services.push_back(NewPanda(faults));
  services.push_back(NewServerInfo(faults));
  services.push_back(NewHealth(faults));
  for (auto& s : NewTestingServices(faults)) services.push_back(std::move(s));
  services.push_back(NewScripted(faults, std::move(restart)));
  for (auto& s : services) builder.RegisterService(s.get());
  return services;
}

}  // namespace interop

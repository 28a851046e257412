#include "target.h"

namespace interop {

std::string Target::Address() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

grpc::ChannelArguments Target::Arguments() const {
  grpc::ChannelArguments args;
  if (transport.tls && !transport.server_host_override.empty()) {
    args.SetSslTargetNameOverride(transport.server_host_override);
  }
  return args;
}

std::shared_ptr<grpc::Channel> Target::Dial() const { return Dial(Address(), Arguments()); }

std::shared_ptr<grpc::Channel> Target::Dial(const std::string& target, const grpc::ChannelArguments& args,
                                            bool with_certificate) const {
  return grpc::CreateCustomChannel(target, transport.Credentials(with_certificate), args);
}

void Target::SetDeadline(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() + rpc_timeout);
}

}  // namespace interop

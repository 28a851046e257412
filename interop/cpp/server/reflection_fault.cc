#include "reflection_fault.h"

#include <google/protobuf/message.h>

#include <cstring>
#include <deque>
#include <string>

namespace interop {
namespace {

using google::protobuf::Message;
using google::protobuf::Reflection;
using grpc::experimental::InterceptionHookPoints;

constexpr char kScriptedPackage[] = "interop.scripted";
constexpr int kNotFound = 5;

bool UnderScripted(const std::string& name) {
  return name == kScriptedPackage || name.rfind(std::string(kScriptedPackage) + ".", 0) == 0;
}

// gRPC C++ 1.51 installs neither reflection.proto's generated header nor a way to hand its
// reflection service another view of the server, so the fault edits the service's messages on
// their way: the reflection messages are protobuf messages, read and written through protobuf's
// reflection by field name. The service answers one request at a time, in order.
class ReflectionWithoutScripted final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (auto* req = static_cast<Message*>(methods->GetRecvMessage())) pending_.push_back(Classify(*req));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE) && !pending_.empty()) {
      Kind kind = pending_.front();
      pending_.pop_front();
      const auto* resp = static_cast<const Message*>(methods->GetSendMessage());
      if (resp != nullptr && kind != Kind::kOther) {
        replacement_.reset(resp->New());
        replacement_->CopyFrom(*resp);
        if (kind == Kind::kList) {
          DropScriptedServices(replacement_.get());
        } else {
          NotFound(replacement_.get());
        }
        methods->ModifySendMessage(replacement_.get());
      }
    }
    methods->Proceed();
  }

 private:
  enum class Kind { kOther, kList, kHiddenSymbol };

  static Kind Classify(const Message& req) {
    const auto* d = req.GetDescriptor();
    const Reflection* r = req.GetReflection();
    if (const auto* f = d->FindFieldByName("list_services"); f && r->HasField(req, f)) return Kind::kList;
    if (const auto* f = d->FindFieldByName("file_containing_symbol"); f && r->HasField(req, f)) {
      if (UnderScripted(r->GetString(req, f))) return Kind::kHiddenSymbol;
    }
    return Kind::kOther;
  }

  static void DropScriptedServices(Message* resp) {
    const Reflection* r = resp->GetReflection();
    const auto* list_field = resp->GetDescriptor()->FindFieldByName("list_services_response");
    if (list_field == nullptr || !r->HasField(*resp, list_field)) return;
    Message* list = r->MutableMessage(resp, list_field);
    const Reflection* lr = list->GetReflection();
    const auto* service_field = list->GetDescriptor()->FindFieldByName("service");
    int kept = 0, n = lr->FieldSize(*list, service_field);
    for (int i = 0; i < n; ++i) {
      const Message& service = lr->GetRepeatedMessage(*list, service_field, i);
      const auto* name = service.GetDescriptor()->FindFieldByName("name");
      if (UnderScripted(service.GetReflection()->GetString(service, name))) continue;
      if (kept != i) lr->SwapElements(list, service_field, kept, i);
      ++kept;
    }
    while (lr->FieldSize(*list, service_field) > kept) lr->RemoveLast(list, service_field);
  }

  // The answer the service gives a symbol it does not know (NOT_FOUND "Symbol not found.").
  static void NotFound(Message* resp) {
    const Reflection* r = resp->GetReflection();
    const auto* error_field = resp->GetDescriptor()->FindFieldByName("error_response");
    Message* error = r->MutableMessage(resp, error_field);  // replaces the oneof's answer
    const Reflection* er = error->GetReflection();
    er->SetInt32(error, error->GetDescriptor()->FindFieldByName("error_code"), kNotFound);
    er->SetString(error, error->GetDescriptor()->FindFieldByName("error_message"), "Symbol not found.");
  }

  std::deque<Kind> pending_;
  std::unique_ptr<Message> replacement_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    if (std::strcmp(info->method(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo") != 0) {
      return nullptr;
    }
    return new ReflectionWithoutScripted();
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewReflectionWithoutScripted() {
  return std::make_unique<Factory>();
}

}  // namespace interop

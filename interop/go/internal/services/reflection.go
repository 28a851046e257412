package services

import (
	"fmt"
	"maps"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	scriptedpb "interopmatrix/gen/scripted"
	"interopmatrix/internal/faults"
)

// registerReflection registers grpc-go's server reflection, grpc.reflection.v1 and v1alpha, on
// s. It describes the services of s (whatever is registered when a client asks, the reflection
// services themselves included) from protoregistry.GlobalFiles, where the generated code of
// every service registers its file and imports.
//
// The fault reflection-incomplete gives the library a view of both without interop.scripted:
// its service is not listed and no symbol under it resolves (NOT_FOUND), as if it were not
// registered with reflection.
func registerReflection(s *grpc.Server, f faults.Set) {
	if !f.Has(faults.ReflectionIncomplete) {
		reflection.Register(s)
		return
	}
	opts := reflection.ServerOptions{Services: withoutScripted{s}, DescriptorResolver: filesWithoutScripted()}
	reflectionv1.RegisterServerReflectionServer(s, reflection.NewServerV1(opts))
	reflectionv1alpha.RegisterServerReflectionServer(s, reflection.NewServer(opts))
}

// scriptedPackage is the proto package reflection-incomplete hides.
var scriptedPackage = string(scriptedpb.File_interop_scripted_proto.Package())

// underScripted reports whether the full name is scriptedPackage or a name under it.
func underScripted(name string) bool {
	return name == scriptedPackage || strings.HasPrefix(name, scriptedPackage+".")
}

// withoutScripted is the services of a server less those under scriptedPackage.
type withoutScripted struct{ s *grpc.Server }

// GetServiceInfo deletes from the server's answer, a map grpc-go makes for each call.
func (w withoutScripted) GetServiceInfo() map[string]grpc.ServiceInfo {
	info := w.s.GetServiceInfo()
	maps.DeleteFunc(info, func(name string, _ grpc.ServiceInfo) bool { return underScripted(name) })
	return info
}

// filesWithoutScripted is protoregistry.GlobalFiles less the files of scriptedPackage (and of
// the packages under it). No other file imports them.
func filesWithoutScripted() *protoregistry.Files {
	files := new(protoregistry.Files)
	var err error
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !underScripted(string(fd.Package())) {
			err = files.RegisterFile(fd)
		}
		return err == nil
	})
	if err != nil {
		// GlobalFiles holds no conflicting files, so a subset of it has none either.
		panic(fmt.Sprintf("reflection-incomplete: copying protoregistry.GlobalFiles: %v", err))
	}
	return files
}

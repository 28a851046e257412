package cases

import (
	"fmt"

	"interopmatrix/gen/helloworld"
)

// greeting is the reply expected from every greeting method: "Hello, {name}!".
func greeting(name string) string { return "Hello, " + name + "!" }

// sayHello calls Greeter/SayHello{name} and checks the reply.
func sayHello(t Target, client helloworld.GreeterClient, name string) error {
	reply, err := invoke(t, client.SayHello, &helloworld.HelloRequest{Name: name})
	return expectOK(fmt.Sprintf("SayHello(%q)", name), err, greeting(name), reply.GetMessage())
}

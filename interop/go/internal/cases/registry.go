package cases

import "fmt"

// caseFunc checks one behaviour of the target; nil means the server passed.
type caseFunc func(Target) error

// registry is every case of the seeds suite, in the contract's order.
var registry = []struct {
	name string
	run  caseFunc
}{
	{"greeter_say_hello", greeterSayHello},
	{"greeter_say_hello_again", greeterSayHelloAgain},
	{"helloworld_service", helloworldService},
	{"compute_length", computeLength},
	{"user_recommend", userRecommend},
	{"random_get", randomGet},
	{"panda_getinfo", pandaGetinfo},
	{"stream_server", streamServer},
	{"stream_client", streamClient},
	{"stream_bidi", streamBidi},
	{"concurrent_unary", concurrentUnary},
	{"multi_address_failover", multiAddressFailover},
	{"reuseport_workers", reuseportWorkers},
}

// Names lists every case, in the contract's order.
func Names() []string {
	names := make([]string, len(registry))
	for i, c := range registry {
		names[i] = c.name
	}
	return names
}

// Run runs the named case against t; an unknown name, like a panic, is a failure.
func Run(name string, t Target) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	for _, c := range registry {
		if c.name == name {
			return c.run(t)
		}
	}
	return fmt.Errorf("unknown test case: %s", name)
}

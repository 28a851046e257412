import { status } from '@grpc/grpc-js';
import type { GreeterHandlers } from '../../../ts-common/src/generated/helloworld/Greeter.js';
import type { HelloWorldServiceHandlers } from '../../../ts-common/src/generated/rpc_package/HelloWorldService.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

export function greeting(name: string, faults: Faults): string {
  return faults.has('greeting-punctuation') ? `Hello, ${name}` : `Hello, ${name}!`;
}

/** helloworld.Greeter (seeds 000/004). */
export function greeterHandlers(faults: Faults): GreeterHandlers {
  let sayHelloCalls = 0;
  return {
    SayHello(call, callback) {
      sayHelloCalls += 1;
      if (faults.has('unary-every-10th-unavailable') && sayHelloCalls % 10 === 0) {
        callback(rpcError(status.UNAVAILABLE, `injected fault: call ${sayHelloCalls} refused`));
        return;
      }
      callback(null, { message: greeting(call.request.name, faults) });
    },
    SayHelloAgain(call, callback) {
      const name = call.request.name;
      callback(null, { message: faults.has('again-wrong') ? `Hello, ${name}!` : `Hello again, ${name}!` });
    },
  };
}

/** rpc_package.HelloWorldService (seed 001). */
export function helloWorldServiceHandlers(faults: Faults): HelloWorldServiceHandlers {
  return {
    SayHello(call, callback) {
      const name = call.request.name;
      callback(null, { message: faults.has('service-wrong') ? `Hi, ${name}!` : `Hello, ${name}!` });
    },
  };
}

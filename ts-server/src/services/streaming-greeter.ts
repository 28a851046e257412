import { status } from '@grpc/grpc-js';
import type { HelloReply } from '../../../ts-common/src/generated/helloworld/HelloReply.js';
import type { StreamingGreeterHandlers } from '../../../ts-common/src/generated/helloworld/StreamingGreeter.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

export const MAX_REPLIES = 10_000;

/** The runner's robustness faults: one reply goes out, then the whole process exits or hangs. */
function breakMidStream(call: { write(reply: HelloReply, cb: () => void): boolean }, name: string, faults: Faults): void {
  call.write({ message: `Hello, ${name}! #1` }, () => {
    setTimeout(() => {
      if (faults.has('crash-mid-stream')) {
        process.stderr.write('crash-mid-stream: exiting in the middle of LotsOfReplies\n');
        process.exit(70);
      }
      process.stderr.write('hang-mid-stream: stopping in the middle of LotsOfReplies\n');
      process.kill(process.pid, 'SIGSTOP');
    }, 50);
  });
}

/** How many replies LotsOfReplies sends for `count`, or the error message naming `count`. */
export function replyCount(count: number, faults: Faults): number | string {
  const limit = faults.has('count-limit-low') ? MAX_REPLIES - 1 : MAX_REPLIES;
  if (count < 0 || (count > limit && !faults.has('count-limit-none'))) return `count must be in 0..${limit}, got ${count}`;
  return faults.has('stream-truncate') ? Math.max(0, count - 1) : count;
}

/** helloworld.StreamingGreeter (seed 004): the three streaming shapes. */
export function streamingGreeterHandlers(faults: Faults): StreamingGreeterHandlers {
  return {
    LotsOfReplies(call) {
      const { name, count } = call.request;
      const sent = replyCount(count, faults);
      if (typeof sent === 'string') {
        call.emit('error', rpcError(status.INVALID_ARGUMENT, sent));
        return;
      }
      if (faults.has('crash-mid-stream') || faults.has('hang-mid-stream')) return breakMidStream(call, name, faults);
      for (let i = 1; i <= sent; i++) call.write({ message: `Hello, ${name}! #${i}` });
      call.end();
    },

    LotsOfGreetings(call, callback) {
      const names: string[] = [];
      call.on('data', (req: { name: string }) => names.push(req.name));
      call.on('error', () => undefined); // the client went away; nothing to answer
      call.on('end', () => {
        const ordered = faults.has('greetings-reversed') ? names.reverse() : names;
        callback(null, { message: `Hello, ${ordered.join(', ')}!` });
      });
    },

    BidiHello(call) {
      const held: HelloReply[] = [];
      const buffered = faults.has('bidi-buffered');
      call.on('data', (req: { name: string }) => {
        const reply = { message: `Hello, ${req.name}!` };
        if (buffered) held.push(reply);
        else call.write(reply);
      });
      call.on('error', () => undefined);
      call.on('end', () => {
        for (const reply of held) call.write(reply);
        call.end();
      });
    },
  };
}

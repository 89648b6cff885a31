import * as fs from "fs";

/**
 * Two guards on the project kernel's Jupyter sockets (bin/tslab-poi), for zeromq 6's rules that tslab does not follow:
 *
 * - **One send at a time.** zeromq refuses a send while the socket's previous one is still in progress ("Socket is
 *   busy writing; only one send operation may be in progress at any time"), and tslab sends without waiting for the
 *   previous message: when the client read IOPub a little late, a progress line or an output published right after
 *   another threw out of the notebook's code, and tslab's own status message then threw too, so the kernel never
 *   answered and the notebook runner waited forever (seen in notebook 04's augmented embeddings, whose progress line
 *   changes several times a second).
 * - **No receive while binding.** zeromq refuses a receive while the socket is binding ("Socket is blocked by a bind
 *   or unbind operation", EBUSY). tslab starts its receive loops and binds its sockets at the same time; when a
 *   receive came during a bind, the loop ended with an unhandled rejection, the kernel never answered its first
 *   request and the runner gave up after 60 s (seen twice in whole pipeline runs, at a notebook's start).
 *
 * zeromq's sockets cannot take a property of their own (they are not extensible), and their prototype's methods are
 * read-only but configurable, so the prototype's are replaced.
 */
type Send = (this: object, message: unknown) => Promise<void>;
type Receive = (this: object) => Promise<unknown>;

/** `send`, queued per socket behind that socket's previous send; a failed send goes to stderr, never to the sender. */
export function oneSendAtATime(send: Send): Send {
  const previous = new WeakMap<object, Promise<void>>();
  return function (this: object, message: unknown): Promise<void> {
    const next = (previous.get(this) ?? Promise.resolve()).then(() => send.call(this, message)).catch((err: Error) => {
      // Straight to the process's stderr: console output in a kernel is itself a Jupyter message.
      fs.writeSync(2, `tslab-poi: a Jupyter message was not sent: ${err.message}\n`);
    });
    previous.set(this, next);
    return next;
  };
}

/** How long a receive waits for a bind to finish before the error is let through: 500 tries 10 ms apart. */
const RECEIVE_TRIES = 500;

/** `receive`, tried again 10 ms later while the socket is binding (thrown or rejected with EBUSY). */
export function receiveAfterBinding(receive: Receive, pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms))): Receive {
  return async function (this: object): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await receive.call(this);
      } catch (err) {
        if ((err as { code?: string }).code !== "EBUSY" || attempt >= RECEIVE_TRIES) throw err;
        await pause(10);
      }
    }
  };
}

const patched = new WeakMap<object, Set<string>>();

/** Replace `name` on the prototype (of `socket`'s chain) that defines it, once. */
function wrapMethod(socket: object, name: string, wrap: (method: never) => unknown): void {
  let proto: object | null = Object.getPrototypeOf(socket);
  while (proto && !Object.prototype.hasOwnProperty.call(proto, name)) proto = Object.getPrototypeOf(proto);
  if (!proto) throw new Error(`kernel sockets: the socket has no ${name} method`);
  const done = patched.get(proto) ?? new Set<string>();
  if (done.has(name)) return;
  const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
  Object.defineProperty(proto, name, { ...descriptor, value: wrap(descriptor.value as never) });
  done.add(name);
  patched.set(proto, done);
}

/** Queue the sends of every socket of `socket`'s class (an instance, or a prototype with the class's methods). */
export function queueSocketSends(socket: object): void {
  wrapMethod(socket, "send", oneSendAtATime);
}

/** Make every receive of `socket`'s class wait out a bind in progress. */
export function receiveAfterBinds(socket: object): void {
  wrapMethod(socket, "receive", receiveAfterBinding);
}

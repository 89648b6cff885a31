import * as fs from "fs";

/**
 * The project kernel's Jupyter sockets (bin/tslab-poi), one message at a time. zeromq 6 refuses a send while the
 * socket's previous one is still in progress ("Socket is busy writing; only one send operation may be in progress at
 * any time"), and tslab sends without waiting for the previous message: when the client read IOPub a little late,
 * a progress line or an output published right after another threw out of the notebook's code, and tslab's own status
 * message then threw too, so the kernel never answered and the notebook runner waited forever (seen in notebook 04's
 * augmented embeddings, whose progress line changes several times a second).
 */
type Send = (this: object, message: unknown) => Promise<void>;

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

const queued = new WeakSet<object>();

/**
 * Queue the sends of every socket of `socket`'s class. zeromq's sockets cannot take a property of their own (they are
 * not extensible) and their prototype's `send` is read-only but configurable, so the prototype's is replaced.
 */
export function queueSocketSends(socket: object): void {
  let proto: object | null = Object.getPrototypeOf(socket);
  while (proto && !Object.prototype.hasOwnProperty.call(proto, "send")) proto = Object.getPrototypeOf(proto);
  if (!proto) throw new Error("queueSocketSends: the socket has no send method");
  if (queued.has(proto)) return;
  const descriptor = Object.getOwnPropertyDescriptor(proto, "send")!;
  Object.defineProperty(proto, "send", { ...descriptor, value: oneSendAtATime(descriptor.value as Send) });
  queued.add(proto);
}

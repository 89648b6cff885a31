import { test } from "node:test";
import assert from "node:assert/strict";
import { queueSocketSends } from "../../lib/report/kernel-sends";

/**
 * Shaped as zeromq 6's sockets: instances are not extensible, the prototype's `send` is read-only but configurable,
 * and a send while the socket's previous one is in progress throws (a peer that reads slowly).
 */
function socketClass() {
  const busy = new WeakSet<object>();
  class Socket {
    readonly sent: unknown[] = [];
    constructor() {
      Object.preventExtensions(this);
    }
  }
  Object.defineProperty(Socket.prototype, "send", {
    configurable: true,
    writable: false,
    value: function (this: Socket, message: unknown): Promise<void> {
      if (message === "fail") return Promise.reject(new Error("socket closed"));
      if (busy.has(this)) throw new Error("Socket is busy writing; only one send operation may be in progress at any time");
      busy.add(this);
      return new Promise((resolve) => setTimeout(() => {
        busy.delete(this);
        this.sent.push(message);
        resolve();
      }, 3));
    },
  });
  return Socket as unknown as new () => { sent: unknown[]; send(message: unknown): Promise<void> };
}

test("zeromq-shaped sockets refuse overlapping sends; queued, every socket's messages go out in order", async () => {
  const Socket = socketClass();
  const raw = new Socket();
  void raw.send("a");
  assert.throws(() => void raw.send("b"), /busy writing/);

  const [iopub, shell] = [new Socket(), new Socket()];
  queueSocketSends(iopub);
  queueSocketSends(shell); // same class: patched once
  const messages = ["status: busy", "stream 1", "display 1", "stream 2", "status: idle"];
  await Promise.all([...messages.map((m) => iopub.send(m)), shell.send("execute_reply")]);
  assert.deepEqual(iopub.sent, messages);
  assert.deepEqual(shell.sent, ["execute_reply"]);
});

test("a failed send is reported, not thrown at the sender, and the socket's later sends still go out", async () => {
  const Socket = socketClass();
  const socket = new Socket();
  queueSocketSends(socket);
  await assert.doesNotReject(socket.send("fail"));
  await socket.send("next");
  assert.deepEqual(socket.sent, ["next"]);
});

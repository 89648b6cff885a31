import { test } from "node:test";
import assert from "node:assert/strict";
import { queueSocketSends, receiveAfterBinding, receiveAfterBinds } from "../../lib/report/kernel-sockets";

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

/** zeromq 6's rule: a receive while the socket binds throws EBUSY (synchronously, as the real socket does). */
function bindingSocketClass() {
  class Socket {
    binding = true;
    received = 0;
    constructor() {
      setTimeout(() => (this.binding = false), 30);
      Object.preventExtensions(this);
    }
  }
  Object.defineProperty(Socket.prototype, "receive", {
    configurable: true,
    writable: false,
    value: function (this: Socket): Promise<unknown> {
      if (this.binding) throw Object.assign(new Error("Socket is blocked by a bind or unbind operation"), { code: "EBUSY" });
      this.received++;
      return Promise.resolve(["message"]);
    },
  });
  return Socket as unknown as new () => { binding: boolean; received: number; receive(): Promise<unknown> };
}

test("a receive during a bind waits for the bind and then receives; other errors and endless binds still surface", async () => {
  const Socket = bindingSocketClass();
  const raw = new Socket();
  assert.throws(() => void raw.receive(), /blocked by a bind/);
  receiveAfterBinds(new Socket()); // patches the class: every socket, including those made before
  const socket = new Socket();
  assert.deepEqual(await socket.receive(), ["message"]);
  assert.equal(socket.binding, false);
  assert.equal(socket.received, 1);

  const closed = receiveAfterBinding(() => Promise.reject(Object.assign(new Error("closed"), { code: "EAGAIN" })));
  await assert.rejects(closed.call({}), /closed/);
  let tries = 0;
  const endless = receiveAfterBinding(
    () => {
      tries++;
      throw Object.assign(new Error("Socket is blocked by a bind or unbind operation"), { code: "EBUSY" });
    },
    async () => {},
  );
  await assert.rejects(endless.call({}), /blocked by a bind/);
  assert.equal(tries, 500);
});

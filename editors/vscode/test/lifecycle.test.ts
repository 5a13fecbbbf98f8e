// Unit tests of the serialized start/stop/restart (src/lifecycle.ts) with a fake client whose start
// and stop the test holds and releases: `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClientHooks, Lifecycle } from "../src/lifecycle";

/** Lets every queued promise callback run (no timer: the event loop's check phase). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

class Held {
  private release: (() => void) | undefined;
  private readonly promise = new Promise<void>((resolve) => (this.release = resolve));
  wait(): Promise<void> {
    return this.promise;
  }
  open(): void {
    this.release?.();
  }
}

interface FakeClient {
  name: string;
  state: "new" | "starting" | "running" | "stopping" | "stopped";
}

/** Fake clients c1, c2, …: every call is logged; starts and stops wait while `hold` says so. */
class Fakes implements ClientHooks<FakeClient> {
  readonly log: string[] = [];
  readonly clients: FakeClient[] = [];
  /** Problems seen as they happened: two server processes alive at once. */
  readonly overlaps: string[] = [];
  holdStarts = false;
  failStarts = false;
  noCommand = false;
  readonly held: Held[] = [];

  alive(): FakeClient[] {
    return this.clients.filter((c) => c.state === "starting" || c.state === "running" || c.state === "stopping");
  }

  running(): string[] {
    return this.clients.filter((c) => c.state === "running").map((c) => c.name);
  }

  async create(): Promise<FakeClient | undefined> {
    await flush();
    if (this.noCommand) {
      this.log.push("create: no command");
      return undefined;
    }
    const client: FakeClient = { name: `c${this.clients.length + 1}`, state: "new" };
    this.clients.push(client);
    this.log.push(`create ${client.name}`);
    return client;
  }

  async start(client: FakeClient): Promise<void> {
    const others = this.alive().filter((c) => c !== client);
    if (others.length) this.overlaps.push(`${client.name} started while ${others.map((c) => `${c.name} ${c.state}`).join(", ")}`);
    client.state = "starting";
    this.log.push(`start ${client.name}`);
    if (this.holdStarts) {
      const held = new Held();
      this.held.push(held);
      await held.wait();
    }
    await flush();
    if (this.failStarts) {
      client.state = "stopped";
      this.log.push(`${client.name} failed`);
      throw new Error(`${client.name} exited with 3`);
    }
    client.state = "running";
    this.log.push(`${client.name} running`);
  }

  async stop(client: FakeClient): Promise<void> {
    if (client.state === "starting") this.overlaps.push(`${client.name} stopped while starting`);
    client.state = "stopping";
    this.log.push(`stop ${client.name}`);
    await flush();
    client.state = "stopped";
    this.log.push(`${client.name} stopped`);
  }
}

/** Waits until a start is held. */
async function heldStart(fakes: Fakes): Promise<void> {
  for (let turn = 0; fakes.held.length === 0; turn++) {
    assert.ok(turn < 1000, `no start held: ${fakes.log.join(", ")}`);
    await flush();
  }
}

/** c1 running, then two restarts one after the other: c1 stopped before c2 starts, c2 before c3. */
const TWO_RESTARTS_FROM_C1 = [
  "stop c1",
  "c1 stopped",
  "create c2",
  "start c2",
  "c2 running",
  "stop c2",
  "c2 stopped",
  "create c3",
  "start c3",
  "c3 running",
];

/** Opens the held starts one at a time until `done` settles. */
async function releaseUntil(fakes: Fakes, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  for (let turn = 0; !finished; turn++) {
    assert.ok(turn < 1000, `stuck: ${fakes.log.join(", ")}`); // a deadlock fails instead of hanging
    await flush();
    fakes.held.shift()?.open();
  }
}

test("N restarts at once: one client at a time, exactly one running after, later callers wait", async () => {
  const fakes = new Fakes();
  const lifecycle = new Lifecycle(fakes);
  await lifecycle.start();
  assert.deepEqual(fakes.log, ["create c1", "start c1", "c1 running"]);
  fakes.log.length = 0;

  fakes.holdStarts = true;
  const first = Array.from({ length: 5 }, () => lifecycle.restart());
  // While c2 is starting (held), three more restarts: one more restart after it, shared by all three.
  await heldStart(fakes);
  assert.deepEqual(fakes.log, ["stop c1", "c1 stopped", "create c2", "start c2"]);
  let firstDone = 0;
  first.forEach((p) => void p.then(() => firstDone++));
  const later = Array.from({ length: 3 }, () => lifecycle.restart());
  await flush();
  assert.equal(firstDone, 0, "a restart resolved before its client ran");
  await releaseUntil(fakes, Promise.all([...first, ...later]));

  assert.deepEqual(fakes.log, TWO_RESTARTS_FROM_C1);
  assert.deepEqual(fakes.overlaps, []);
  assert.deepEqual(fakes.running(), ["c3"]);
  assert.equal(lifecycle.client?.name, "c3");
});

test("restart, stop, restart at once: done in that order, and the last restart leaves one client running", async () => {
  const fakes = new Fakes();
  const lifecycle = new Lifecycle(fakes);
  await lifecycle.start();
  fakes.log.length = 0;
  await Promise.all([lifecycle.restart(), lifecycle.stop(), lifecycle.restart()]);
  assert.deepEqual(fakes.log, TWO_RESTARTS_FROM_C1);
  assert.deepEqual(fakes.overlaps, []);
  assert.deepEqual(fakes.running(), ["c3"]);
});

test("a stop asked for during a restart waits for its client to run, then stops it: none left", async () => {
  const fakes = new Fakes();
  const lifecycle = new Lifecycle(fakes);
  fakes.holdStarts = true;
  const restart = lifecycle.restart();
  await heldStart(fakes);
  const stop = lifecycle.stop();
  await releaseUntil(fakes, Promise.all([restart, stop]));
  assert.deepEqual(fakes.log, ["create c1", "start c1", "c1 running", "stop c1", "c1 stopped"]);
  assert.deepEqual(fakes.overlaps, []);
  assert.deepEqual(fakes.running(), []);
  assert.equal(lifecycle.client, undefined);
});

test("after close, no restart starts a client, not even one queued before it", async () => {
  const fakes = new Fakes();
  const lifecycle = new Lifecycle(fakes);
  await lifecycle.start();
  fakes.log.length = 0;
  fakes.holdStarts = true;
  const running = lifecycle.restart();
  await heldStart(fakes);
  const queued = lifecycle.restart(); // after the running one
  const close = lifecycle.close();
  const after = lifecycle.restart();
  await releaseUntil(fakes, Promise.all([running, queued, close, after]));
  assert.deepEqual(fakes.log, ["stop c1", "c1 stopped", "create c2", "start c2", "c2 running", "stop c2", "c2 stopped"]);
  assert.deepEqual(fakes.running(), []);
});

test("a start that fails or a command that cannot be found does not stop the queue", async () => {
  const fakes = new Fakes();
  const lifecycle = new Lifecycle(fakes);
  fakes.failStarts = true;
  await assert.rejects(lifecycle.start(), /c1 exited with 3/);
  assert.equal(lifecycle.client?.name, "c1", "a failed client is still stopped and disposed by the next restart");
  fakes.failStarts = false;
  fakes.noCommand = true;
  await lifecycle.restart();
  assert.equal(lifecycle.client, undefined);
  fakes.noCommand = false;
  await lifecycle.restart();
  assert.deepEqual(fakes.log, [
    "create c1",
    "start c1",
    "c1 failed",
    "stop c1",
    "c1 stopped",
    "create: no command",
    "create c2",
    "start c2",
    "c2 running",
  ]);
  assert.deepEqual(fakes.running(), ["c2"]);
  assert.deepEqual(fakes.overlaps, []);
});

// Start, stop and restart of the language client, one at a time. Without this, two restarts (the
// command pressed twice, a `tierline.server.command` change during a restart, "Restart server" in a
// failure notification) interleave: both stop the same old client, both start a new one, and one
// server process runs on without the extension knowing it. Here every operation waits for the one
// before it (a promise chain), and a restart asked for while another is still waiting its turn
// joins that one: the restart that runs last reads the settings as they are by then.
// No `vscode` import: the unit tests drive it with a fake client.

/** How to make, start and stop a client; the server module gives the real LanguageClient's. */
export interface ClientHooks<C> {
  /** The next client, not started yet; undefined when none can be made (the hook said why). */
  create(): Promise<C | undefined>;
  /** Resolves once the client runs or has failed to start (then the client is still stopped later). */
  start(client: C): Promise<void>;
  /** Stops and disposes the client; resolves once its server process is gone or given up on. */
  stop(client: C): Promise<void>;
}

export class Lifecycle<C> {
  private current: C | undefined;
  private tail: Promise<void> = Promise.resolve();
  /** A restart queued and not begun yet, while it is the last operation in the queue. */
  private waitingRestart: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly hooks: ClientHooks<C>) {}

  /** The client started last and not stopped since (maybe still starting, maybe failed). */
  get client(): C | undefined {
    return this.current;
  }

  /** Stops the current client (if any) and starts a new one. Callers during a restart that has
   * not begun share it; a call during a running restart queues one more after it. */
  restart(): Promise<void> {
    if (this.waitingRestart) return this.waitingRestart;
    const restart = this.enqueue(async () => {
      if (this.waitingRestart === restart) this.waitingRestart = undefined;
      if (this.closed) return;
      await this.stopCurrent();
      await this.startNew();
    });
    this.waitingRestart = restart;
    return restart;
  }

  /** Starts a client; the same as a restart (there is none to stop the first time). */
  start(): Promise<void> {
    return this.restart();
  }

  /** Stops the current client after what is queued before it; a later restart starts one again. */
  stop(): Promise<void> {
    return this.enqueue(() => this.stopCurrent());
  }

  /** Stops for good (deactivation): restarts asked for afterwards, or queued, start nothing. */
  close(): Promise<void> {
    this.closed = true;
    return this.stop();
  }

  /** Resolves once every operation queued so far is done. */
  settled(): Promise<void> {
    return this.tail;
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    this.waitingRestart = undefined; // anything queued after a restart comes after it: no joining
    const run = this.tail.then(operation);
    this.tail = run.catch(() => undefined); // one failed operation does not stop the queue
    return run;
  }

  private async stopCurrent(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    if (client !== undefined) await this.hooks.stop(client);
  }

  private async startNew(): Promise<void> {
    const client = await this.hooks.create();
    if (client === undefined) return;
    this.current = client; // before start: its state events already belong to the current client
    await this.hooks.start(client);
  }
}

import pg from "pg";

type Callback = (payload: string) => void;

/** Quotes a channel name as an identifier for LISTEN/UNLISTEN. */
export function quoteChannel(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}

/**
 * One dedicated PostgreSQL connection for LISTEN. When it drops it reconnects with backoff
 * (capped at 10 s) and listens again to every channel; notifications sent while it was down are
 * lost, which is why scheduling keeps a periodic safety-net loop.
 */
export class PgListener {
  readonly #channels = new Map<string, Set<Callback>>();
  #client: pg.Client | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #closed = false;
  #backoffMs = 100;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly url: string) {}

  async listen(channel: string, cb: Callback): Promise<() => Promise<void>> {
    let set = this.#channels.get(channel);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.#channels.set(channel, set);
    }
    set.add(cb);
    if (first) {
      try {
        const client = await this.#connect();
        await client.query(`LISTEN ${quoteChannel(channel)}`);
      } catch (err) {
        set.delete(cb);
        if (set.size === 0) this.#channels.delete(channel);
        throw err;
      }
    }
    return async () => {
      const current = this.#channels.get(channel);
      if (current === undefined || !current.delete(cb) || current.size > 0) return;
      this.#channels.delete(channel);
      await this.#client?.query(`UNLISTEN ${quoteChannel(channel)}`).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    this.#channels.clear();
    await client?.end().catch(() => undefined);
  }

  #connect(): Promise<pg.Client> {
    if (this.#client !== null) return Promise.resolve(this.#client);
    this.#connecting ??= this.#open().finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    client.on("notification", (msg) => {
      for (const cb of this.#channels.get(msg.channel) ?? []) cb(msg.payload ?? "");
    });
    await client.connect();
    for (const channel of this.#channels.keys()) await client.query(`LISTEN ${quoteChannel(channel)}`);
    this.#client = client;
    this.#backoffMs = 100;
    return client;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client && this.#client !== null) return;
    this.#client = null;
    client.end().catch(() => undefined);
    if (this.#closed || this.#channels.size === 0 || this.#timer !== null) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, 10_000);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closed) return;
      this.#connect().catch(() => this.#lost(client));
    }, delay);
  }
}

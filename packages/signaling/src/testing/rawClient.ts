// Test helper (not built into dist): a bare ws client that speaks the protocol by hand, so tests can
// send anything, including bytes no real client would.
import { Packr } from 'msgpackr';
import { WebSocket } from 'ws';

const packr = new Packr({ useRecords: false });

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary server messages
export type Msg = Record<string, any>;

export interface RawClient {
  ws: WebSocket;
  /** Every decoded message received so far, in order. */
  received: Msg[];
  /** Waits for the next message (optionally of a type), consuming it. */
  next(type?: string, timeoutMs?: number): Promise<Msg>;
  /** Resolves when the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
  json(message: unknown): void;
  msgpack(message: unknown): void;
  join(room: string, role: 'sender' | 'receiver', extra?: Msg): Promise<Msg>;
  close(): void;
}

export async function openRaw(url: string, options: { autoPong?: boolean } = {}): Promise<RawClient> {
  const ws = new WebSocket(url, { autoPong: options.autoPong ?? true });
  const queue: Msg[] = [];
  const received: Msg[] = [];
  const waiters: Array<{ type: string | undefined; resolve: (m: Msg) => void }> = [];
  const deliver = () => {
    for (let w = 0; w < waiters.length; w++) {
      const waiter = waiters[w]!;
      const i = queue.findIndex((m) => waiter.type === undefined || m['type'] === waiter.type);
      if (i < 0) continue;
      const [m] = queue.splice(i, 1);
      waiters.splice(w, 1);
      w -= 1;
      waiter.resolve(m!);
    }
  };
  ws.on('message', (data, isBinary) => {
    const buf = data as Buffer;
    const m = (isBinary ? packr.unpack(buf) : JSON.parse(buf.toString('utf8'))) as Msg;
    if (isBinary) m['__binary'] = true;
    queue.push(m);
    received.push(m);
    deliver();
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const client: RawClient = {
    ws,
    received,
    closed,
    next(type, timeoutMs = 3000) {
      return new Promise<Msg>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(
            new Error(
              `no ${type ?? 'message'} within ${timeoutMs} ms; got ${JSON.stringify(received.slice(-5))}`,
            ),
          );
        }, timeoutMs);
        const done = (m: Msg) => {
          clearTimeout(timer);
          resolve(m);
        };
        waiters.push({ type, resolve: done });
        deliver();
      });
    },
    json: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    msgpack: (message) => ws.send(packr.pack(message)),
    async join(room, role, extra = {}) {
      client.json({ type: 'join', room, role, ...extra });
      const m = await client.next();
      if (m['type'] !== 'joined') throw new Error(`join failed: ${JSON.stringify(m)}`);
      return m;
    },
    close: () => ws.close(),
  };
  return client;
}

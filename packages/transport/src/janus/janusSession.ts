import { Subject } from 'rxjs';
import { ConnectionError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';

/** The part of a W3C `WebSocket` the Janus client uses: browsers' own and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Opens a WebSocket with the given subprotocol (`janus-protocol`). */
export type WebSocketFactory = (url: string, protocol: string) => WebSocketLike;

/** A request Janus or its plugin refused: `code` is Janus's (e.g. 426 no such room, 428 no such feed). */
export class JanusError extends Error {
  override name = 'JanusError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Something Janus pushed about a handle: a plugin event, `webrtcup`, `hangup`, `media`, `detached`. */
export interface JanusHandleEvent {
  janus: string;
  /** The plugin's payload, for `event`. */
  data?: Record<string, unknown>;
  jsep?: { type: 'offer' | 'answer'; sdp: string };
  reason?: string;
  /** For `trickle`: one of Janus's candidates, or `{ completed: true }`. */
  candidate?: { candidate?: string; sdpMid?: string; sdpMLineIndex?: number; completed?: boolean };
}

/** The answer to a plugin request. */
export interface JanusReply {
  data: Record<string, unknown>;
  jsep?: { type: 'offer' | 'answer'; sdp: string };
}

/** Options of {@link connectJanus}. */
export interface JanusSessionOptions {
  /** `ws://host:port` of Janus's WebSocket API. */
  wsUrl: string;
  /** Opens the WebSocket. Default: `globalThis.WebSocket` (browsers, Node ≥ 22). */
  createWebSocket?: WebSocketFactory;
  /** Give up on the connection and on each request after this long, milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Keepalive period, milliseconds; under Janus's `session_timeout` (generated config: 30 s). Default 10000. */
  keepaliveMs?: number;
  logger?: Logger;
}

/** One plugin handle of a session. */
export interface JanusHandle {
  readonly id: number;
  /** Events Janus pushes for this handle. Completes when the handle or its session goes. */
  readonly events$: Subject<JanusHandleEvent>;
  /** Sends a plugin request (`message`); resolves with its synchronous or asynchronous answer. */
  request(body: Record<string, unknown>, jsep?: { type: string; sdp: string }): Promise<JanusReply>;
  /** Tells Janus that this side's ICE gathering is complete (the SDP carried every candidate). */
  trickleCompleted(): void;
  /** Detaches the handle (hangs up its PeerConnection on Janus's side). Never throws. */
  detach(): Promise<void>;
}

/** A Janus API session over one WebSocket. */
export interface JanusSession {
  readonly id: number;
  /** Resolves with the reason when the WebSocket closes or the session is destroyed. */
  readonly closed: Promise<string>;
  attach(plugin: string): Promise<JanusHandle>;
  /** Destroys the session and closes the WebSocket. Idempotent, never throws. */
  destroy(): Promise<void>;
}

interface Pending {
  resolve: (msg: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;
let txCounter = 0;
const tx = () => `m4sc${(++txCounter).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

function defaultFactory(): WebSocketFactory {
  const WS = (globalThis as { WebSocket?: new (url: string, protocol: string) => WebSocketLike }).WebSocket;
  if (!WS)
    throw new TypeError(
      'no WebSocket in this runtime: pass createWebSocket (Node: from @m4sc/transport/janus/node)',
    );
  return (url, protocol) => new WS(url, protocol);
}

/**
 * Connects to Janus's WebSocket API and creates a session: the JSON protocol of `janus.js` (create, attach,
 * message, trickle, keepalive) and nothing of the plugins. Rejects with a ConnectionError (`timeout`,
 * `closed`) when Janus cannot be reached.
 */
export function connectJanus(options: JanusSessionOptions): Promise<JanusSession> {
  const log = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? 5000;
  const factory = options.createWebSocket ?? defaultFactory();
  const pending = new Map<string, Pending>();
  const handles = new Map<number, Subject<JanusHandleEvent>>();
  let sessionId = 0;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  let closedReason: string | undefined;
  let resolveClosed!: (r: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  const ws = factory(options.wsUrl, 'janus-protocol');

  const finish = (reason: string) => {
    if (closedReason !== undefined) return;
    closedReason = reason;
    clearInterval(keepalive);
    for (const [, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError('closed', `Janus ${options.wsUrl}: ${reason}`));
    }
    pending.clear();
    for (const h of handles.values()) h.complete();
    handles.clear();
    resolveClosed(reason);
  };

  const send = (msg: Record<string, unknown>, expectReply: boolean): Promise<Record<string, unknown>> => {
    if (closedReason !== undefined || ws.readyState !== OPEN)
      return Promise.reject(
        new ConnectionError('closed', `Janus ${options.wsUrl}: ${closedReason ?? 'not open'}`),
      );
    const transaction = tx();
    const body = { ...msg, transaction, ...(sessionId ? { session_id: sessionId } : {}) };
    if (!expectReply) {
      ws.send(JSON.stringify(body));
      return Promise.resolve({});
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(transaction);
        reject(
          new ConnectionError(
            'timeout',
            `Janus ${options.wsUrl}: no answer to '${String(msg.janus)}' within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      pending.set(transaction, { resolve, reject, timer });
      ws.send(JSON.stringify(body));
    });
  };

  ws.onmessage = (ev) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data)) as Record<string, unknown>;
    } catch {
      log.warn('janus: message that is not JSON dropped', { url: options.wsUrl });
      return;
    }
    const kind = msg.janus as string;
    const t = typeof msg.transaction === 'string' ? pending.get(msg.transaction) : undefined;
    if (t && kind !== 'ack') {
      pending.delete(msg.transaction as string);
      clearTimeout(t.timer);
      if (kind === 'error') {
        const e = msg.error as { code?: number; reason?: string } | undefined;
        t.reject(new JanusError(e?.code ?? 0, e?.reason ?? 'Janus error'));
      } else t.resolve(msg);
      return;
    }
    if (kind === 'ack' || kind === 'success') return;
    if (kind === 'timeout') {
      log.warn('janus: session timed out', { url: options.wsUrl });
      ws.close();
      finish('session timed out');
      return;
    }
    const sender = typeof msg.sender === 'number' ? msg.sender : undefined;
    const h = sender === undefined ? undefined : handles.get(sender);
    if (!h) return;
    const plugindata = msg.plugindata as { data?: Record<string, unknown> } | undefined;
    h.next({
      janus: kind,
      ...(plugindata?.data ? { data: plugindata.data } : {}),
      ...(msg.jsep ? { jsep: msg.jsep as JanusHandleEvent['jsep'] } : {}),
      ...(typeof msg.reason === 'string' ? { reason: msg.reason } : {}),
      ...(msg.candidate ? { candidate: msg.candidate as JanusHandleEvent['candidate'] } : {}),
    });
    if (kind === 'detached') {
      h.complete();
      handles.delete(sender!);
    }
  };

  function pluginReply(msg: Record<string, unknown>): JanusReply {
    const data = ((msg.plugindata as { data?: Record<string, unknown> } | undefined)?.data ?? {}) as Record<
      string,
      unknown
    >;
    if (typeof data.error_code === 'number' || typeof data.error === 'string')
      throw new JanusError(Number(data.error_code ?? 0), String(data.error ?? 'plugin error'));
    return { data, ...(msg.jsep ? { jsep: msg.jsep as JanusReply['jsep'] } : {}) };
  }

  const session: JanusSession = {
    get id() {
      return sessionId;
    },
    closed,
    async attach(plugin) {
      const msg = await send({ janus: 'attach', plugin }, true);
      const id = (msg.data as { id: number }).id;
      const events$ = new Subject<JanusHandleEvent>();
      handles.set(id, events$);
      return {
        id,
        events$,
        async request(body, jsep) {
          const reply = await send(
            { janus: 'message', handle_id: id, body, ...(jsep ? { jsep } : {}) },
            true,
          );
          return pluginReply(reply);
        },
        trickleCompleted() {
          send({ janus: 'trickle', handle_id: id, candidate: { completed: true } }, false).catch(() => {});
        },
        async detach() {
          try {
            await send({ janus: 'detach', handle_id: id }, true);
          } catch {}
          handles.get(id)?.complete();
          handles.delete(id);
        },
      };
    },
    async destroy() {
      if (closedReason !== undefined) return;
      try {
        await send({ janus: 'destroy' }, true);
      } catch {}
      try {
        ws.close();
      } catch {}
      finish('destroyed');
    },
  };

  return new Promise<JanusSession>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.onopen = null;
      try {
        ws.close();
      } catch {}
      finish('connect timeout');
      reject(new ConnectionError('timeout', `Janus ${options.wsUrl}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      clearTimeout(timer);
      const wasOpen = sessionId !== 0;
      finish(`connection closed${ev?.code ? ` (${ev.code})` : ''}`);
      if (!wasOpen)
        reject(new ConnectionError('closed', `Janus ${options.wsUrl}: connection refused or closed`));
    };
    ws.onopen = () => {
      send({ janus: 'create' }, true).then(
        (msg) => {
          clearTimeout(timer);
          sessionId = (msg.data as { id: number }).id;
          keepalive = setInterval(() => {
            send({ janus: 'keepalive' }, false).catch(() => {});
          }, options.keepaliveMs ?? 10_000);
          resolve(session);
        },
        (err: Error) => {
          clearTimeout(timer);
          try {
            ws.close();
          } catch {}
          reject(err);
        },
      );
    };
  });
}

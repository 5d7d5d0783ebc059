import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HOST,
  DEFAULT_JOIN_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PEERS_PER_ROOM,
  DEFAULT_MAX_ROOM_INFO_BYTES,
  DEFAULT_MAX_SIGNAL_DATA_BYTES,
  DEFAULT_RATE_BURST_MESSAGES,
  DEFAULT_RATE_CLOSE_AFTER_DROPPED_MESSAGES,
  DEFAULT_RATE_MESSAGES_PER_SECOND,
} from './defaults.js';
import { InvalidStateError } from './errors.js';
import { Hub } from './hub.js';
import { silentLogger } from './logger.js';
import { CLOSE_CODES } from './protocol.js';
import { TokenBucket } from './rateLimit.js';
import type { SignalingServer, SignalingServerOptions } from './serverTypes.js';
import { Session } from './session.js';

/** How long `close()` waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 500;

function positiveInt(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TypeError(
      `createSignalingServer: ${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer`,
    );
  }
  return value;
}

function positiveNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`createSignalingServer: ${name} must be a positive number`);
  }
  return value;
}

/**
 * Starts a signaling server: its own HTTP server on `host:port`, or attached to `options.server`.
 * Resolves once it is listening.
 * @throws TypeError on a bad or conflicting option.
 */
export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  if (options.server && (options.host !== undefined || options.port !== undefined)) {
    throw new TypeError(
      'createSignalingServer: host/port conflict with server (the attached server already listens)',
    );
  }
  if (options.path !== undefined && !options.path.startsWith('/')) {
    throw new TypeError('createSignalingServer: path must start with "/"');
  }
  if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length === 0)) {
    throw new TypeError('createSignalingServer: secret must be a non-empty string');
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('createSignalingServer: port must be an integer in 0..65535');
  }
  const maxMessageBytes = positiveInt('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES);
  const rate = options.rateLimit ?? {};
  const rateMessagesPerSecond = positiveNumber(
    'rateLimit.messagesPerSecond',
    rate.messagesPerSecond,
    DEFAULT_RATE_MESSAGES_PER_SECOND,
  );
  const rateBurstMessages = positiveInt(
    'rateLimit.burstMessages',
    rate.burstMessages,
    DEFAULT_RATE_BURST_MESSAGES,
  );
  const closeAfterDropped = positiveInt(
    'rateLimit.closeAfterDroppedMessages',
    rate.closeAfterDroppedMessages,
    DEFAULT_RATE_CLOSE_AFTER_DROPPED_MESSAGES,
  );
  const heartbeatMs = positiveInt('heartbeatMs', options.heartbeatMs, DEFAULT_HEARTBEAT_MS, true);
  const log = options.logger ?? silentLogger;
  const hub = new Hub(
    {
      maxSignalDataBytes: positiveInt(
        'maxSignalDataBytes',
        options.maxSignalDataBytes,
        DEFAULT_MAX_SIGNAL_DATA_BYTES,
      ),
      maxRoomInfoBytes: positiveInt(
        'maxRoomInfoBytes',
        options.maxRoomInfoBytes,
        DEFAULT_MAX_ROOM_INFO_BYTES,
      ),
      maxPeersPerRoom: positiveInt('maxPeersPerRoom', options.maxPeersPerRoom, DEFAULT_MAX_PEERS_PER_ROOM),
      rateMessagesPerSecond,
      rateBurstMessages,
      joinTimeoutMs: positiveInt('joinTimeoutMs', options.joinTimeoutMs, DEFAULT_JOIN_TIMEOUT_MS, true),
      secret: options.secret,
    },
    log,
  );

  const owned = options.server === undefined;
  const http: HttpServer =
    options.server ??
    createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      res.end('m4sc-signal: connect with a WebSocket\n');
    });
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, perMessageDeflate: false });
  const sessions = new Set<Session>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const onConnection = (socket: WebSocket, req: IncomingMessage) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const bucket = new TokenBucket(
      rateMessagesPerSecond,
      rateBurstMessages,
      closeAfterDropped,
      performance.now(),
    );
    const session = new Session(socket, remote, bucket);
    sessions.add(session);
    hub.opened(session);
    socket.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      hub.received(session, buf, isBinary, performance.now());
    });
    socket.on('pong', () => {
      session.alive = true;
    });
    socket.on('error', (err: Error & { code?: string }) => {
      // ws has already started closing (1009 for oversize, 1002/1007 for bad frames); count and log why.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        hub.countRefusal(
          session,
          'too-large',
          `frame larger than ${maxMessageBytes} bytes (closed with 1009)`,
        );
      } else {
        hub.countRefusal(session, 'malformed', `bad WebSocket frame: ${err.message}`);
      }
    });
    socket.on('close', () => {
      sessions.delete(session);
      hub.closed(session);
    });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.path !== undefined) {
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname !== options.path) {
        // On a caller's server another handler may own this path; on ours nobody does.
        if (owned) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
    }
    if (closed) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  };
  http.on('upgrade', onUpgrade);

  if (owned) {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        http.off('upgrade', onUpgrade);
        wss.close();
        reject(err);
      };
      http.once('error', onError);
      http.listen(port, options.host ?? DEFAULT_HOST, () => {
        http.off('error', onError);
        resolve();
      });
    });
  }

  const heartbeat =
    heartbeatMs > 0
      ? setInterval(() => {
          for (const session of sessions) {
            if (!session.alive) {
              session.leaveReason = 'timeout';
              log.info('heartbeat timeout', { remote: session.remote, peerId: session.membership?.peerId });
              session.socket.terminate();
              continue;
            }
            session.alive = false;
            if (session.socket.readyState === WebSocket.OPEN) session.socket.ping();
          }
        }, heartbeatMs)
      : undefined;
  heartbeat?.unref();

  const address = (): AddressInfo => {
    const a = http.address();
    if (a === null || typeof a === 'string')
      throw new InvalidStateError('signaling server is not listening on TCP');
    return a;
  };

  const close = (): Promise<void> => {
    if (closing) return closing;
    closed = true;
    closing = (async () => {
      clearInterval(heartbeat);
      hub.shutdown();
      http.off('upgrade', onUpgrade);
      for (const session of sessions) {
        session.leaveReason = 'shutdown';
        if (session.socket.readyState === WebSocket.OPEN) {
          session.socket.close(CLOSE_CODES.goingAway, 'server shutting down');
        }
      }
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const session of sessions) session.socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (owned) {
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      }
      hub.complete();
      log.info('closed');
    })();
    return closing;
  };

  const { address: boundHost, port: boundPort } = owned ? address() : { address: '', port: 0 };
  log.info(
    'listening',
    owned ? { host: boundHost, port: boundPort } : { attached: true, path: options.path },
  );

  const urlOf = () => {
    const a = address();
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `ws://${host}:${a.port}${options.path ?? ''}`;
  };

  return {
    get url() {
      return urlOf();
    },
    get port() {
      return address().port;
    },
    get stats() {
      return hub.stats;
    },
    stats$: hub.stats$,
    events$: hub.events$,
    get closed() {
      return closed;
    },
    close,
  };
}

/** A parsed `janus://HOST:PORT/ROOM` relay address. */
export interface RelayAddress {
  /** The address as given, normalised (`janus://host:port/room`). */
  readonly href: string;
  /** Host of Janus's WebSocket API (and, for a cascade, where the upstream Janus forwards to). */
  readonly host: string;
  /** Port of Janus's WebSocket API. */
  readonly port: number;
  /** The VideoRoom room (a string id: the generated config sets `string_ids`). */
  readonly room: string;
  /** `ws://host:port` (`wss://` for `januss://`). */
  readonly wsUrl: string;
}

/** Janus's WebSocket API port when the URL names none (its stock `janus.transport.websockets.jcfg`). */
export const DEFAULT_JANUS_WS_PORT = 8188;
const ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses `janus://HOST[:PORT]/ROOM` (or `januss://` for wss). Throws a TypeError naming what is wrong: the
 * scheme, a missing room, a room with characters other than letters, digits, `.`, `_`, `-`.
 */
export function parseRelayUrl(url: string): RelayAddress {
  if (typeof url !== 'string') throw new TypeError('relay URL must be a string');
  const m = /^(januss?):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d{1,5}))?\/([^?#]*)$/.exec(url.trim());
  if (!m) throw new TypeError(`relay URL must look like janus://HOST:PORT/ROOM, got '${url}'`);
  const [, scheme, host, portText, room] = m as unknown as [
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const port = portText === undefined ? DEFAULT_JANUS_WS_PORT : Number(portText);
  if (!(Number.isInteger(port) && port > 0 && port < 65536))
    throw new TypeError(`relay URL port must be 1..65535, got '${portText}'`);
  if (!ROOM_RE.test(room))
    throw new TypeError(`relay URL room must be 1..64 letters, digits, '.', '_' or '-', got '${room}'`);
  const ws = scheme === 'januss' ? 'wss' : 'ws';
  return {
    href: `${scheme}://${host}:${port}/${room}`,
    host: host.replace(/^\[|\]$/g, ''),
    port,
    room,
    wsUrl: `${ws}://${host}:${port}`,
  };
}

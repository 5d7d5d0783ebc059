/** Errors of the page, in words a user can act on. Pure: tested in Node (tests/browser/page.test.ts). */

/** What went wrong, for the page's error line. */
export interface PageError {
  /** Short machine-readable kind, for tests and logs. */
  kind:
    | 'signaling-unreachable'
    | 'signaling-timeout'
    | 'signaling-closed'
    | 'token-refused'
    | 'token-missing'
    | 'room-refused'
    | 'bad-url'
    | 'model'
    | 'sender-refused'
    | 'sender-absent'
    | 'sender-left'
    | 'peer-failed'
    | 'bad-instruction'
    | 'other';
  message: string;
}

function detail(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A failed join (createReceiver rejecting), in words. */
export function describeJoinError(err: unknown, signalUrl: string, room: string): PageError {
  const e = err as { name?: string; reason?: string; code?: string };
  if (e?.name === 'TypeError' && /url/i.test(detail(err)))
    return { kind: 'bad-url', message: `The signaling URL '${signalUrl}' is not a ws:// or wss:// URL.` };
  switch (e?.reason) {
    case 'unreachable':
      return {
        kind: 'signaling-unreachable',
        message: `Signaling server unreachable at ${signalUrl}. Is m4sc-send (or m4sc-signal) running there? (${detail(err)})`,
      };
    case 'timeout':
      return {
        kind: 'signaling-timeout',
        message: `The signaling server at ${signalUrl} did not answer in time. (${detail(err)})`,
      };
    case 'refused': {
      const code = e.code ?? '';
      if (code === 'token-missing')
        return {
          kind: 'token-missing',
          message: `Room '${room}' needs a token: the signaling server has a secret. Ask the sender for a receiver token.`,
        };
      if (code.startsWith('token-'))
        return {
          kind: 'token-refused',
          message: `Token refused by the signaling server (${code}): ${detail(err)}`,
        };
      return {
        kind: 'room-refused',
        message: `The signaling server refused to join room '${room}' (${code || 'refused'}): ${detail(err)}`,
      };
    }
    case 'closed':
    case 'protocol':
      return {
        kind: 'signaling-closed',
        message: `The signaling connection to ${signalUrl} closed: ${detail(err)}`,
      };
    default:
      return { kind: 'other', message: `Cannot join room '${room}': ${detail(err)}` };
  }
}

/** A model bundle that failed to load, in words. */
export function describeModelError(err: unknown): PageError {
  const e = err as { name?: string; reason?: string; file?: string };
  const where = e?.file ? ` (${e.file})` : '';
  return { kind: 'model', message: `Model failed to load${where}: ${detail(err)}` };
}

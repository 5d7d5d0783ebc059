// libdatachannel (node-datachannel 0.33.4) fails about 1 loopback set-up in 20 to 80: the offerer's ICE connects
// inside setRemoteDescription(answer) before the answer (with the certificate fingerprint) is stored, and when the
// answerer's certificate arrives in that window the DTLS handshake fails ("DTLS alert: unknown CA"), the peer
// connection closes itself, and the answer's candidates then find no ICE transport ("Got a remote candidate
// without ICE transport"), or the link reports that its peer connection closed itself while connecting. A race in
// the library (see packages/transport/src/nodeDatachannel.ts), not what these tests are about. The CLIs ask for a
// new link on their own; so does this helper.

/** Pair set-ups tried before the library's set-up race fails the test. */
export const SETUP_ATTEMPTS = 4;

/** Whether `err` is one of the two symptoms of libdatachannel's set-up race, and nothing else. */
export const isSetupRace = (err: unknown): boolean =>
  String((err as { cause?: unknown }).cause ?? '').includes('without ICE transport') ||
  String((err as Error).message).includes('closed itself while connecting');

/** Runs `create` again, up to {@link SETUP_ATTEMPTS} times, after a short pause, when the set-up race failed it; says so. */
export async function retrySetupRace<T>(label: string, create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      if (!isSetupRace(err) || attempt >= SETUP_ATTEMPTS) throw err;
      const cause = (err as { cause?: unknown }).cause;
      console.warn(
        `${label}: pair set-up failed in libdatachannel (${String(cause ?? err)}); attempt ${attempt + 1}`,
      );
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

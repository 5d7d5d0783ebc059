// A diagnostic for the lab, loaded into every Node process of a run:
//   NODE_OPTIONS="--import ./netlab/sctp-chunks.mjs" npm run netlab -- bandwidth-drop
// It counts the SCTP chunks werift sends, per association (a0, a1, … in creation order) and type, and prints
// them once a second on stderr (`sctp-chunks <wall ms> {"a0:_DataChunk":66,…}`: the sender's land in the run's
// sender-stats.log). It found the FORWARD TSN flood that werift patch item 7 now avoids (docs/NETLAB.md). Not used
// by the CLIs or the tests.
import { RTCSctpTransport } from 'werift';

const counts = new Map();
let patched = false;
const setDtls = RTCSctpTransport.prototype.setDtlsTransport;
RTCSctpTransport.prototype.setDtlsTransport = function (...args) {
  const result = setDtls.apply(this, args);
  if (!patched && this.sctp) {
    patched = true;
    const proto = Object.getPrototypeOf(this.sctp);
    const ids = new WeakMap();
    let next = 0;
    const sendChunk = proto.sendChunk;
    proto.sendChunk = function (chunk) {
      if (!ids.has(this)) ids.set(this, next++);
      const key = `a${ids.get(this)}:${chunk.constructor.name}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return sendChunk.call(this, chunk);
    };
  }
  return result;
};
setInterval(() => {
  if (counts.size === 0) return;
  process.stderr.write(`sctp-chunks ${Date.now()} ${JSON.stringify(Object.fromEntries(counts))}\n`);
  counts.clear();
}, 1000).unref();

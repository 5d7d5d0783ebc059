/**
 * A receiver that takes the public stream from a Janus relay reports, once a second, what that path
 * delivered (`{t: 'relay-report', …}` on control). Its direct link then carries only control and private
 * results, so the direct link's figures alone would call a congested access link clean. The sender merges
 * the two paths into the one set of figures the adaptation policy decides on; the policy's public-layer
 * choice becomes the `relay-layers` the receiver subscribes to.
 */
import type { LinkFigures } from './adaptation.js';

/** What a receiver reports of its relay path over the last interval. */
export interface RelayReport {
  /** Public layers it is subscribed to. */
  layers: number;
  /** Frame bytes per second it received from Janus. */
  bytesPerSec: number;
  /** Samples reassembled from the relay over the interval. */
  samples: number;
  /** Packets missing from the samples that arrived, 0..1. */
  lossRate?: number;
  /** p95 age of relay samples at reassembly, ms. */
  ageP95Ms?: number;
}

/** A report older than this is not used (the receiver stopped reporting: relay down, or it left), ms. */
export const RELAY_REPORT_MAX_AGE_MS = 3000;

const finiteAtLeast0 = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Validates a `relay-report` control message; undefined for anything malformed. */
export function parseRelayReport(v: unknown): RelayReport | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const m = v as Record<string, unknown>;
  if (m.t !== 'relay-report') return undefined;
  if (!(Number.isInteger(m.layers) && (m.layers as number) >= 1 && (m.layers as number) <= 16))
    return undefined;
  if (!finiteAtLeast0(m.bytesPerSec) || !(Number.isInteger(m.samples) && (m.samples as number) >= 0))
    return undefined;
  if (m.lossRate !== undefined && !(finiteAtLeast0(m.lossRate) && m.lossRate <= 1)) return undefined;
  if (m.ageP95Ms !== undefined && !(typeof m.ageP95Ms === 'number' && Number.isFinite(m.ageP95Ms)))
    return undefined;
  return {
    layers: m.layers as number,
    bytesPerSec: m.bytesPerSec,
    samples: m.samples as number,
    ...(m.lossRate !== undefined ? { lossRate: m.lossRate as number } : {}),
    ...(m.ageP95Ms !== undefined ? { ageP95Ms: m.ageP95Ms as number } : {}),
  };
}

/** The report when it is recent enough to use at `nowMs`. */
export function freshRelayReport(
  report: (RelayReport & { atMs: number }) | undefined,
  nowMs: number,
): RelayReport | undefined {
  return report && nowMs - report.atMs <= RELAY_REPORT_MAX_AGE_MS ? report : undefined;
}

const maxDefined = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/**
 * One receiver's figures over both paths: what the sender handed its direct link plus what it published
 * in the layers this receiver takes (`relaySentBytesPerSec`), against what arrived both ways. Loss and age
 * are the worse of the two paths; queue, drops and RTT are the direct link's (Janus's queue is not seen).
 * Without a report the direct figures are returned unchanged.
 */
export function mergeRelayFigures(
  direct: LinkFigures,
  relay: RelayReport | undefined,
  relaySentBytesPerSec: number,
): LinkFigures {
  if (!relay) return direct;
  return {
    ...direct,
    lossRate: maxDefined(direct.lossRate, relay.lossRate),
    sentBytesPerSec: direct.sentBytesPerSec + relaySentBytesPerSec,
    // The goodput below adds the relay path's: so must what it is compared with (the direct link's sent over the
    // report's window alone would hide a congested relay path).
    reportSentBytesPerSec:
      direct.reportSentBytesPerSec !== undefined
        ? direct.reportSentBytesPerSec + relaySentBytesPerSec
        : undefined,
    goodputBytesPerSec: (direct.goodputBytesPerSec ?? 0) + relay.bytesPerSec,
    ageP95Ms: maxDefined(direct.ageP95Ms, relay.ageP95Ms),
  };
}

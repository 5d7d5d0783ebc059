// Browser receiver suite (issue "browser receiver"): decode time per sample per task in Chromium
// (onnxruntime-web) next to onnxruntime-node on the same scenes, and capture → canvas latency of a live
// synthetic stream. Needs the built packages and Debian's chromium.
import { formatWebBench, runWebBench } from '@m4sc/receiver/web';

export const description = 'browser decode ms per task (wasm vs onnxruntime-node), capture→canvas latency';

export async function run({ quick, progress }) {
  const results = await runWebBench({
    samples: quick ? 4 : 30,
    streamSeconds: quick ? 3 : 10,
    log: progress,
  });
  return { results, markdown: `\`\`\`text\n${formatWebBench(results).trim()}\n\`\`\`` };
}

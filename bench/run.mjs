#!/usr/bin/env node
// Bench runner: `npm run bench -- [suite…] [--quick]`. Each suite is a module in bench/suites/<name>.mjs that
// exports `description` and `run({ quick, progress })` → `{ results, markdown }`. The runner prints progress on
// stderr and each suite's tables on stdout, writes bench/results/<suite>.json (git-ignored) and regenerates the
// suite's section of docs/BENCHMARKS.md between `<!-- bench:<suite> -->` and `<!-- /bench:<suite> -->`.
// `--quick` (the CI smoke, every suite in under 2 minutes) writes bench/results/<suite>.quick.json and leaves
// docs/BENCHMARKS.md alone: its sections hold full runs.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineInfo, updateDocSection } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const suitesDir = join(here, 'suites');

const suiteNames = async () =>
  (await readdir(suitesDir))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => basename(f, '.mjs'))
    .sort();

async function usage() {
  const lines = [
    'usage: npm run bench -- [suite…] [--quick]',
    '',
    'Runs the named suites (all when none is named), prints progress on stderr and tables on stdout,',
    'writes bench/results/<suite>.json and regenerates the suite section of docs/BENCHMARKS.md.',
    '',
    'options:',
    '  --quick   short runs for CI smoke (all suites together under 2 minutes); figures are noisier;',
    '            results go to bench/results/<suite>.quick.json, docs/BENCHMARKS.md is left as it is',
    '  --help    this text',
    '',
    'suites:',
  ];
  for (const name of await suiteNames()) {
    const mod = await import(pathToFileURL(join(suitesDir, `${name}.mjs`)).href);
    lines.push(`  ${name.padEnd(10)} ${mod.description ?? ''}`);
  }
  return lines.join('\n');
}

async function main(argv) {
  const known = await suiteNames();
  const suites = [];
  let quick = false;
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${await usage()}\n`);
      return 0;
    }
    if (a === '--quick') quick = true;
    else if (a.startsWith('-')) {
      process.stderr.write(`bench: unknown option ${a}\n\n${await usage()}\n`);
      return 2;
    } else if (!known.includes(a)) {
      process.stderr.write(`bench: unknown suite '${a}'; known suites: ${known.join(', ')}\n`);
      return 2;
    } else if (!suites.includes(a)) suites.push(a);
  }
  if (suites.length === 0) suites.push(...known);

  const machine = await machineInfo(root);
  const command = `npm run bench -- ${suites.join(' ')}${quick ? ' --quick' : ''}`;
  await mkdir(join(here, 'results'), { recursive: true });
  const started = performance.now();
  for (const name of suites) {
    const t0 = performance.now();
    const progress = (msg) => {
      const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`[bench ${name} ${s}s] ${msg}\n`);
    };
    const mod = await import(pathToFileURL(join(suitesDir, `${name}.mjs`)).href);
    progress(`start${quick ? ' (quick)' : ''}`);
    const { results, markdown } = await mod.run({ quick, progress });
    const date = new Date().toISOString();
    const durationS = Math.round((performance.now() - t0) / 1000);
    const record = { suite: name, date, command, quick, durationS, machine, results };
    const jsonPath = join(here, 'results', `${name}${quick ? '.quick' : ''}.json`);
    await writeFile(jsonPath, `${JSON.stringify(record, null, 2)}\n`);
    const meta = [
      `Measured ${date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpuModel} (${machine.cores} cores,` +
        ` load average ${machine.loadAverage1m} at start), Node ${machine.node}, commit \`${machine.commit}\`,` +
        ` in ${durationS} s.`,
      `Command: \`${command}\`${quick ? ' (quick mode: shorter runs, noisier figures)' : ''}.`,
    ].join(' ');
    const section = `## ${name}\n\n${meta}\n\n${markdown.trim()}\n`;
    if (!quick) await updateDocSection(join(root, 'docs', 'BENCHMARKS.md'), name, section);
    process.stdout.write(`${section}\n`);
    progress(`done: ${jsonPath}${quick ? '' : `, docs/BENCHMARKS.md section '${name}'`}`);
  }
  process.stderr.write(
    `[bench] ${suites.length} suite(s) in ${Math.round((performance.now() - started) / 1000)} s\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // Native backends (node-datachannel) may keep threads alive after their peers close.
    process.exit(code);
  },
  (error) => {
    process.stderr.write(`bench: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);

/**
 * Summarises a V8 CPU profile written with BENCH_CPU_PROF=1 (bench/profiles/<subject>.<benchmark>.cpuprofile):
 * self time by package/file, self time by function, and inclusive time of the library's own functions.
 *   node dist-sample/bench/profile-summary.js bench/profiles/amqp-ours.throughput.cpuprofile [regex for inclusive] [--phase from,to]
 * `--phase` keeps the samples taken inside the measured phase only: the `phaseUs` a subject's Meter reports.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const phaseAt = process.argv.indexOf('--phase');
const [from, to] = phaseAt > 0 ? process.argv[phaseAt + 1].split(',').map(Number) : [-Infinity, Infinity];
const [file, pattern = 'dist-sample/lib/'] = process.argv.slice(2).filter((_, i, all) => all[i] !== '--phase' && all[i - 1] !== '--phase');
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [regex]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const time = new Map<number, number>();
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= from && at <= to) time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...time.values()].reduce((a, b) => a + b, 0);
const short = (url: string) => url.replace(/.*\/(node_modules|dist-sample)\//, '$1/');
const fnName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const pkg = (n: ProfileNode) =>
  n.callFrame.url
    ? n.callFrame.url.replace(/.*\/node_modules\/((@[^/]+\/)?[^/]+).*/, '$1').replace(/.*dist-sample\//, '')
    : n.callFrame.functionName;
const bySelf = new Map<string, number>();
const byPkg = new Map<string, number>();
const inclusive = new Map<string, number>();
const re = new RegExp(pattern);
for (const n of profile.nodes) {
  const t = time.get(n.id) ?? 0;
  if (!t) continue;
  bySelf.set(fnName(n), (bySelf.get(fnName(n)) ?? 0) + t);
  byPkg.set(pkg(n), (byPkg.get(pkg(n)) ?? 0) + t);
  const seen = new Set<string>();
  for (let cur: number | undefined = n.id; cur !== undefined; cur = parent.get(cur)) {
    const name = fnName(byId.get(cur)!);
    if (re.test(name) && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + t);
    }
  }
}
const print = (title: string, m: Map<string, number>, k: number) => {
  console.log(`\n${title}`);
  for (const [name, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k))
    console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
print('self time by package / file', byPkg, 20);
print('self time by function', bySelf, 25);
print(`inclusive time of functions matching /${pattern}/`, inclusive, 25);

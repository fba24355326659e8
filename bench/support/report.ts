/** Runner side: section records, markdown tables, machine facts. */
import * as amqp from 'amqplib';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { AMQP_URL } from './common.js';
import { repoRoot } from './spawn.js';

export interface Target {
  label: string;
  met: boolean;
  detail: string;
}

export interface Section {
  name: string;
  title: string;
  date: string;
  command: string;
  machine: Machine;
  markdown: string;
  targets: Target[];
  data: unknown;
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  rabbitmq: string;
  fauxqs: string;
  scale: string;
}

let machine: Machine | undefined;

export async function machineFacts(): Promise<Machine> {
  if (machine) return machine;
  let rabbitmq = 'unknown';
  try {
    const c = await amqp.connect(AMQP_URL);
    const props = (c.connection as unknown as { serverProperties?: { version?: string } }).serverProperties;
    rabbitmq = props?.version ?? 'unknown';
    await c.close();
  } catch {
    /* reported as unknown */
  }
  const fauxqs = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'fauxqs', 'package.json'), 'utf8')) as { version: string })
    .version;
  machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    rabbitmq,
    fauxqs,
    scale: process.env.BENCH_SCALE ?? '1',
  };
  return machine;
}

/** The record a benchmark returns: its name and title, this run's date, command and machine, and what it measured. */
export async function section(name: string, title: string, measured: Pick<Section, 'markdown' | 'targets' | 'data'>): Promise<Section> {
  return { name, title, date: new Date().toISOString(), command: command(name), machine: await machineFacts(), ...measured };
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), line(headers.map((_, k) => (k === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  x: (n: number) => `${n.toFixed(2)}x`,
  ms: (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1)),
  mb: (bytes: number) => (bytes / 2 ** 20).toFixed(0),
  us: (n: number) => n.toFixed(1),
};

/** The median run (by a key) of repeated measurements. */
export function median<T>(runs: T[], key: (t: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function repeats(defaultCount: number): number {
  const r = Number(process.env.BENCH_REPEAT ?? defaultCount);
  return Number.isInteger(r) && r > 0 ? r : defaultCount;
}

export function command(name: string): string {
  const scale = process.env.BENCH_SCALE && process.env.BENCH_SCALE !== '1' ? `BENCH_SCALE=${process.env.BENCH_SCALE} ` : '';
  const rep = process.env.BENCH_REPEAT ? `BENCH_REPEAT=${process.env.BENCH_REPEAT} ` : '';
  return `${scale}${rep}npm run bench -- ${name}`;
}

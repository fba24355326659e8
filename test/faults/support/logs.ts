import type { LoggerService } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/** A distinctive AWS secret key for this run (fauxqs accepts any credentials): it must never show up in a log line. */
export const AWS_CREDENTIALS = { accessKeyId: 'faults-access-key', secretAccessKey: `faultsAwsSecret${randomBytes(8).toString('hex')}` };

/** Captures every Nest log line at every level (the static Logger routes here once an app uses it). */
export class CaptureLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, ...rest: unknown[]) {
    this.push('LOG', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.push('ERROR', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.push('WARN', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.push('DEBUG', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.push('VERBOSE', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.push('FATAL', message, rest);
  }
  count(level: string, pattern?: RegExp): number {
    return this.lines.filter((l) => l.startsWith(level) && (!pattern || pattern.test(l))).length;
  }
  private push(level: string, message: unknown, rest: unknown[]) {
    const line = `${level} ${[message, ...rest].map(text).join(' ')}`;
    this.lines.push(line);
    if (process.env.FAULTS_LOGS) process.stderr.write(`${line}\n`);
  }
}

function text(value: unknown): string {
  if (value instanceof Error)
    return `${value.name}: ${value.message}\n${value.stack ?? ''}${value.cause ? ` cause: ${text(value.cause)}` : ''}`;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The log lines that contain any of the secrets (raw or URL-encoded). */
export function linesWithSecrets(lines: readonly string[], secrets: readonly string[]): string[] {
  const needles = secrets.flatMap((s) => [s, encodeURIComponent(s)]);
  return lines.filter((line) => needles.some((n) => line.includes(n)));
}

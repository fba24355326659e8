import { randomUUID } from 'node:crypto';

/** tomodachi's message uuid: the sending service instance's uuid, a dot, and a fresh uuid4. */
export function newMessageUuid(serviceUuid: string): string {
  return `${serviceUuid}.${randomUUID()}`;
}

/** Seconds since the epoch with fractions, as Python's time.time() gives it. */
export function epochSeconds(): number {
  return Date.now() / 1000;
}

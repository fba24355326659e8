import { randomFillSync, randomUUID } from 'node:crypto';

/**
 * tomodachi's message uuid: the sending service instance's uuid, a dot, and a fresh uuid4.
 *
 * Written by hand rather than `${serviceUuid}.${randomUUID()}` because it runs once per emit: Node's randomUUID
 * assembles its 36 characters from a dozen small strings, which made it a fifth of the in-process publish path's
 * cost and a quarter of its garbage (bench/amqp-publish-path.ts). Here the characters are written into a buffer
 * that already holds the service uuid and the dashes, and read out as one string. The randomness is the same:
 * crypto-strong bytes, drawn from a pool as randomUUID does, with the version and variant bits of RFC 9562.
 */
export function newMessageUuid(serviceUuid: string): string {
  let writer = writers.get(serviceUuid);
  if (writer === undefined) {
    // a service uuid outside latin1 (never one the library makes) cannot be written byte for byte
    writer = isLatin1(serviceUuid) ? new MessageUuidWriter(serviceUuid) : null;
    if (writers.size < MAX_WRITERS) writers.set(serviceUuid, writer);
  }
  return writer ? writer.next() : `${serviceUuid}.${randomUUID()}`;
}

/** Seconds since the epoch with fractions, as Python's time.time() gives it. */
export function epochSeconds(): number {
  return Date.now() / 1000;
}

/** One per service uuid of the process (one in practice; bounded anyway). */
const writers = new Map<string, MessageUuidWriter | null>();
const MAX_WRITERS = 16;

/** Where each of the 16 random bytes' two hex digits go in the 36 characters of a uuid (8-4-4-4-12). */
const DIGIT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const DASHES = [8, 13, 18, 23];

class MessageUuidWriter {
  private readonly chars: Buffer;
  private readonly start: number;

  constructor(serviceUuid: string) {
    this.start = serviceUuid.length + 1;
    this.chars = Buffer.allocUnsafeSlow(this.start + 36);
    this.chars.write(`${serviceUuid}.`, 0, 'latin1');
    for (const at of DASHES) this.chars[this.start + at] = 0x2d;
  }

  next(): string {
    const random = drawRandom16();
    const offset = random.offset;
    const chars = this.chars;
    const start = this.start;
    for (let k = 0; k < 16; k++) {
      let byte = random.pool[offset + k];
      if (k === 6)
        byte = (byte & 0x0f) | 0x40; // version 4
      else if (k === 8) byte = (byte & 0x3f) | 0x80; // variant 10
      const at = start + DIGIT_AT[k];
      chars[at] = HEX_CODES[byte >> 4];
      chars[at + 1] = HEX_CODES[byte & 0x0f];
    }
    return chars.toString('latin1');
  }
}

const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

const POOL_BYTES = 16 * 256;
const random = { pool: Buffer.allocUnsafeSlow(POOL_BYTES), offset: 0 };
let unusedFrom = POOL_BYTES;

/** The next 16 crypto-strong random bytes, as `random.pool` at `random.offset` (refilled every 256 uuids). */
function drawRandom16(): typeof random {
  if (unusedFrom + 16 > POOL_BYTES) {
    randomFillSync(random.pool);
    unusedFrom = 0;
  }
  random.offset = unusedFrom;
  unusedFrom += 16;
  return random;
}

function isLatin1(text: string): boolean {
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) > 0xff) return false;
  return true;
}

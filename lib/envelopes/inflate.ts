import { unzipSync } from 'node:zlib';
import { EnvelopeDecodeError } from '../errors.js';

/** zlib's error when the output would pass maxOutputLength. */
export function isOutputTooLarge(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_BUFFER_TOO_LARGE' || (typeof message === 'string' && /buffer length|too large/i.test(message));
}

/** Inflates zlib or gzip data to at most `maxBytes` (the module's maxDecodedBytes), else EnvelopeDecodeError. */
export function inflateWithin(compressed: Buffer, maxBytes: number, what: string): Buffer {
  try {
    return unzipSync(compressed, { maxOutputLength: maxBytes });
  } catch (error) {
    if (isOutputTooLarge(error)) throw new EnvelopeDecodeError(`${what} inflates to more than ${maxBytes} bytes (maxDecodedBytes)`);
    throw new EnvelopeDecodeError(`${what} does not decompress: ${(error as Error).message}`);
  }
}

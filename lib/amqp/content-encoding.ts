import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { isOutputTooLarge } from '../envelopes/inflate.js';

/**
 * content-encoding values that do not transform the bytes: empty/identity, and the charset names some producers
 * (kombu/Celery: "utf-8", "binary") put in this property.
 */
const AS_IS = new Set(['', 'identity', 'utf-8', 'utf8', 'binary', '7bit', '8bit']);

type ContentDecoding = { ok: true; body: Buffer } | { ok: false; reason: string };

/**
 * The body the envelope should decode: gzip and deflate (zlib or raw) bodies inflated, to at most `maxBytes`
 * (maxDecodedBytes); an unsupported encoding or a body that does not inflate is a reason to dead-letter.
 */
export function decodeContent(content: Buffer, contentEncoding: string | undefined, maxBytes: number): ContentDecoding {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (AS_IS.has(encoding)) return { ok: true, body: content };
  const options = { maxOutputLength: maxBytes };
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return { ok: true, body: gunzipSync(content, options) };
    if (encoding === 'deflate') {
      // HTTP's "deflate" is zlib-wrapped, but raw deflate streams are common in the wild
      const zlibWrapped = content.length >= 2 && (content[0] & 0x0f) === 8 && ((content[0] << 8) | content[1]) % 31 === 0;
      return { ok: true, body: zlibWrapped ? inflateSync(content, options) : inflateRawSync(content, options) };
    }
  } catch (error) {
    return {
      ok: false,
      reason: isOutputTooLarge(error)
        ? `${encoding} body inflates to more than ${maxBytes} bytes (maxDecodedBytes)`
        : `${encoding} body does not inflate: ${(error as Error).message}`,
    };
  }
  return { ok: false, reason: `unsupported content-encoding ${JSON.stringify(contentEncoding)}; this transport inflates gzip and deflate` };
}

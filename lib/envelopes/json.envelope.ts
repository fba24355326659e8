import { Injectable } from '@nestjs/common';
import { deflateSync } from 'node:zlib';
import { EnvelopeDecodeError, PublishError } from '../errors.js';
import { DEFAULTS } from '../messaging.options.js';
import { inflateWithin } from './inflate.js';
import type {
  DecodedMessage,
  EnvelopeDecodeContext,
  EnvelopeEncodeContext,
  EnvelopeMetadata,
  EnvelopeService,
  MessageEnvelope,
} from './message-envelope.js';
import { epochSeconds, newMessageUuid } from './envelope-fields.js';

const PROTOCOL_VERSION = 'tomodachi-json-base--1.0.0';
const COMPATIBLE_PROTOCOL_VERSIONS_JSON = JSON.stringify(['json_base-wip']);
/** tomodachi compresses data whose JSON form reaches this many characters. */
const JSON_COMPRESSION_THRESHOLD = 60_000;

/** tomodachi's JSON envelope (JsonBase), field for field; the default envelope. */
@Injectable()
export class JsonEnvelope implements MessageEnvelope {
  encode(data: unknown, context: EnvelopeEncodeContext): string {
    const json = toJson(data, context.topic);
    const compressed = json.length >= JSON_COMPRESSION_THRESHOLD;
    // Built by concatenation so the data is serialized once, from parts fixed per service and per topic; field
    // order and names are tomodachi's.
    const { prefix, escapeUuid } = servicePart(context.service);
    const uuid = context.messageUuid ?? newMessageUuid(context.service.uuid);
    return (
      `${prefix}${escapeUuid ? JSON.stringify(uuid).slice(1, -1) : uuid}${AFTER_UUID}${epochSeconds()}${topicPart(context.topic)}` +
      (compressed ? `base64_gzip_json"},"data":"${deflateSync(json).toString('base64')}"}` : `raw"},"data":${json}}`)
    );
  }

  decode(body: string | Buffer, context?: EnvelopeDecodeContext): DecodedMessage {
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    } catch (error) {
      throw new EnvelopeDecodeError(`body is not valid JSON: ${(error as Error).message}`);
    }
    if (!isObject(parsed)) throw new EnvelopeDecodeError('body is not a JSON envelope object');
    const { metadata, service } = parsed;
    if (!isObject(metadata)) throw new EnvelopeDecodeError('envelope has no "metadata" object');
    if (!('data' in parsed)) throw new EnvelopeDecodeError('envelope has no "data" field');
    const version = metadata.protocol_version;
    if (typeof version !== 'string' || !version.startsWith('tomodachi-json-base')) {
      throw new EnvelopeDecodeError(`envelope protocol_version ${JSON.stringify(version)} is not tomodachi-json-base`);
    }
    return {
      data: decodeData(parsed.data, metadata.data_encoding, context?.maxDecodedBytes ?? DEFAULTS.maxDecodedBytes),
      metadata: readMetadata(metadata, service),
    };
  }
}

/** JSON.stringify(data), or a PublishError naming the topic and the field JSON cannot carry. */
function toJson(data: unknown, topic: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data === undefined ? null : data);
  } catch (error) {
    const found = unserializable(data, 'data', new Set());
    const what = found ? `${found.path} is ${found.kind}` : (error as Error).message;
    throw new PublishError(
      `Cannot publish to topic "${topic}": ${what}, which JSON cannot represent; convert it first (a BigInt to a string or number, for example)`,
      { cause: error },
    );
  }
  if (json === undefined) {
    throw new PublishError(
      `Cannot publish to topic "${topic}": data is ${kindOf(data)}, which JSON cannot represent; publish an object, array, string, number, boolean or null`,
    );
  }
  return json;
}

/** The first value under `value` that makes JSON.stringify throw (a BigInt or a circular reference), with its path. */
function unserializable(value: unknown, path: string, seen: Set<object>): { path: string; kind: string } | undefined {
  if (typeof value === 'bigint') return { path, kind: `a BigInt (${value}n)` };
  if (typeof value !== 'object' || value === null) return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (seen.has(value)) return { path, kind: 'a circular reference' };
  seen.add(value);
  for (const [key, child] of Object.entries(value)) {
    const found = unserializable(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen);
    if (found) return found;
  }
  seen.delete(value);
  return undefined;
}

function kindOf(value: unknown): string {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'symbol') return `a Symbol (${value.description ?? ''})`;
  return typeof value;
}

interface ServicePart {
  /** Everything before the message uuid's characters. */
  prefix: string;
  /** The service uuid has characters JSON escapes (a uuid never has): the message uuid goes through JSON.stringify. */
  escapeUuid: boolean;
}

const servicePartCache = new WeakMap<EnvelopeService, ServicePart>();

/** The service object is the same for every message of a process: serialize it once. */
function servicePart(service: EnvelopeService): ServicePart {
  let part = servicePartCache.get(service);
  if (part === undefined) {
    part = {
      prefix: `{"service":${JSON.stringify({ name: service.name, uuid: service.uuid })},"metadata":{"message_uuid":"`,
      escapeUuid: JSON.stringify(service.uuid) !== `"${service.uuid}"`,
    };
    servicePartCache.set(service, part);
  }
  return part;
}

const AFTER_UUID = `","protocol_version":"${PROTOCOL_VERSION}","compatible_protocol_versions":${COMPATIBLE_PROTOCOL_VERSIONS_JSON},"timestamp":`;

/** `,"topic":<topic JSON>,"data_encoding":"` per topic; a handful of topics per process, bounded anyway. */
const topicParts = new Map<string, string>();
const MAX_CACHED_TOPICS = 1000;

function topicPart(topic: string): string {
  let part = topicParts.get(topic);
  if (part === undefined) {
    part = `,"topic":${JSON.stringify(topic)},"data_encoding":"`;
    if (topicParts.size < MAX_CACHED_TOPICS) topicParts.set(topic, part);
  }
  return part;
}

function decodeData(data: unknown, encoding: unknown, maxBytes: number): unknown {
  if (encoding === undefined || encoding === 'raw') return data;
  if (encoding !== 'base64_gzip_json') throw new EnvelopeDecodeError(`unknown data_encoding ${JSON.stringify(encoding)}`);
  if (typeof data !== 'string') throw new EnvelopeDecodeError('base64_gzip_json data is not a string');
  const json = inflateWithin(Buffer.from(data, 'base64'), maxBytes, 'base64_gzip_json data').toString('utf8');
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new EnvelopeDecodeError(`base64_gzip_json data is not JSON: ${(error as Error).message}`);
  }
}

function readMetadata(metadata: Record<string, unknown>, service: unknown): EnvelopeMetadata {
  const result: EnvelopeMetadata = {};
  if (isObject(service) && typeof service.name === 'string') {
    result.service = { name: service.name, uuid: typeof service.uuid === 'string' ? service.uuid : '' };
  }
  if (typeof metadata.message_uuid === 'string') result.messageUuid = metadata.message_uuid;
  if (typeof metadata.protocol_version === 'string') result.protocolVersion = metadata.protocol_version;
  if (Array.isArray(metadata.compatible_protocol_versions))
    result.compatibleProtocolVersions = metadata.compatible_protocol_versions.filter((v): v is string => typeof v === 'string');
  if (typeof metadata.timestamp === 'number') result.timestamp = metadata.timestamp;
  if (typeof metadata.topic === 'string') result.topic = metadata.topic;
  if (typeof metadata.data_encoding === 'string') result.dataEncoding = metadata.data_encoding;
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

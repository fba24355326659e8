import 'reflect-metadata';
import { of } from 'rxjs';
import { JsonEnvelope, MessagingContext, ProtobufEnvelope, RawEnvelope } from '../../../lib/index.js';
import type { MessageHandler } from '@nestjs/microservices';
import { createDeliveryDispatcher, type ResolvedRoute } from '../../../lib/server/delivery-dispatcher.js';
import type { InboundDelivery } from '../../../lib/transport/broker.js';
import { Person } from '../../support/proto-person.js';
import { readVector } from '../../support/vectors.js';

const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

/** Runs one delivery through the dispatcher and returns the message id its handler saw. */
async function seenMessageId(
  envelope: ResolvedRoute['envelopeInstance'],
  delivery: Partial<InboundDelivery>,
  protoClass?: ResolvedRoute['protoClass'],
): Promise<string> {
  let seen: string | undefined;
  const handler = ((_data: unknown, ctx: MessagingContext) => {
    seen = ctx.getMessageId();
    return Promise.resolve(undefined);
  }) as unknown as MessageHandler;
  const route: ResolvedRoute = { pattern: delivery.topic!, handler, envelopeInstance: envelope, protoClass };
  const dispatch = createDeliveryDispatcher('q', [route], (result) => of(result), silent);
  const outcome = await dispatch({ attributes: {}, receiveCount: 1, raw: undefined, messageId: '', ...delivery } as InboundDelivery);
  expect(outcome).toEqual({ kind: 'ack' });
  return seen!;
}

interface Expected {
  topic: string;
  message_uuid: string;
}

describe('ctx.getMessageId() when the transport carries no message id', () => {
  it.each([
    ['json-small', 'json', new JsonEnvelope()],
    ['json-string-data', 'json', new JsonEnvelope()],
    ['json-large', 'json', new JsonEnvelope()],
    ['proto-small', 'b64', new ProtobufEnvelope()],
    ['proto-large', 'b64', new ProtobufEnvelope()],
  ] as const)('is the envelope message_uuid of tomodachi vector %s (stand-in id or empty id)', async (name, ext, envelope) => {
    const expected = JSON.parse(readVector(`${name}.expected.json`)) as Expected;
    const body = readVector(`${name}.envelope.${ext}`);
    const protoClass = ext === 'b64' ? Person : undefined;
    const standIn = await seenMessageId(
      envelope,
      { topic: expected.topic, body, messageId: 'stand-in', messageIdMissing: true },
      protoClass,
    );
    expect(standIn).toBe(expected.message_uuid);
    expect(await seenMessageId(envelope, { topic: expected.topic, body, messageId: '' }, protoClass)).toBe(expected.message_uuid);
  });

  it("keeps the transport's own message id when there is one", async () => {
    const expected = JSON.parse(readVector('json-small.expected.json')) as Expected;
    const body = readVector('json-small.envelope.json');
    expect(await seenMessageId(new JsonEnvelope(), { topic: expected.topic, body, messageId: 'sns-id-1' })).toBe('sns-id-1');
  });

  it('keeps the stand-in id for an envelope without a uuid (RawEnvelope)', async () => {
    expect(await seenMessageId(new RawEnvelope(), { topic: 't', body: '{"a":1}', messageId: 'stand-in', messageIdMissing: true })).toBe(
      'stand-in',
    );
  });
});

describe('the message uuid the client hands to the envelope', () => {
  const service = { name: 'billing', uuid: 'svc-uuid' };
  it.each([
    ['JsonEnvelope', new JsonEnvelope()],
    ['ProtobufEnvelope', new ProtobufEnvelope()],
  ] as const)('%s writes it as message_uuid', async (_name, envelope) => {
    const encoded = await envelope.encode(
      { id: 'p-1', name: 'Ada' },
      { topic: 't', service, messageUuid: 'svc-uuid.fixed', protoClass: Person },
    );
    const decoded = await envelope.decode(encoded, { topic: 't', protoClass: Person });
    expect(decoded.metadata.messageUuid).toBe('svc-uuid.fixed');
  });
});

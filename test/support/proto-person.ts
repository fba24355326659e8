import protobuf from 'protobufjs';
import type { ProtoClass } from '../../lib/index.js';

/** `package proto; message Person { string id = 1; string name = 2; }`, the message the tomodachi vectors carry. */
const root = protobuf.Root.fromJSON({
  nested: { proto: { nested: { Person: { fields: { id: { type: 'string', id: 1 }, name: { type: 'string', id: 2 } } } } } },
});

export const PersonType = root.lookupType('proto.Person');

export interface PersonMessage {
  id: string;
  name: string;
}

/**
 * The protobufjs message class of proto.Person (static encode/decode/create, instances whose constructor is the
 * class), as generated code would export it; usable as a handler's `protoClass`.
 */
export const Person = PersonType.ctor as unknown as ProtoClass<PersonMessage> & {
  new (fields?: Partial<PersonMessage>): PersonMessage;
  create(fields?: Partial<PersonMessage>): PersonMessage;
};

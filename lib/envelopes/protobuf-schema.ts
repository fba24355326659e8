import protobuf from 'protobufjs';

/** tomodachi's SNSSQSMessage schema (package proto), declared through protobufjs reflection. */
const root = protobuf.Root.fromJSON({
  nested: {
    proto: {
      nested: {
        Service: { fields: { name: { type: 'string', id: 1 }, uuid: { type: 'string', id: 2 } } },
        Metadata: {
          fields: {
            message_uuid: { type: 'string', id: 1 },
            protocol_version: { type: 'string', id: 2 },
            timestamp: { type: 'double', id: 3 },
            topic: { type: 'string', id: 4 },
            data_encoding: { type: 'string', id: 5 },
          },
        },
        SNSSQSMessage: {
          fields: { service: { type: 'Service', id: 1 }, metadata: { type: 'Metadata', id: 2 }, data: { type: 'bytes', id: 3 } },
        },
      },
    },
  },
});

export const SnsSqsMessageType = root.lookupType('proto.SNSSQSMessage');

export interface SnsSqsMessageFields {
  service?: { name?: string; uuid?: string };
  metadata?: { message_uuid?: string; protocol_version?: string; timestamp?: number; topic?: string; data_encoding?: string };
  data?: Uint8Array;
}

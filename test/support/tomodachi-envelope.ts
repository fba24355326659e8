/** A JSON envelope as tomodachi's JsonBase writes it (`sqs_send_message` passes topic ''). */
export function tomodachiEnvelope(
  data: unknown,
  topic = '',
  service = { name: 'tomodachi-svc', uuid: 'b1d2e3f4-0000-4000-8000-000000000003' },
  messageUuid = `${service.uuid}.${Math.random().toString(16).slice(2)}`,
): string {
  return JSON.stringify({
    service,
    metadata: {
      message_uuid: messageUuid,
      protocol_version: 'tomodachi-json-base--1.0.0',
      compatible_protocol_versions: ['json_base-wip'],
      timestamp: Date.now() / 1000,
      topic,
      data_encoding: 'raw',
    },
    data,
  });
}

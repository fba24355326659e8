/** The OpenAPI 3.0 document of the admin REST API mounted at `/<path>`, built by hand (no @nestjs/swagger needed). */
export function openApiDocument(path: string): Record<string, unknown> {
  const base = path ? `/${path}` : '';
  const name = (param: string, description: string) => ({
    name: param,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description,
  });
  const queue = name('name', 'Queue name as the broker names it');
  const topic = name(
    'topic',
    'Topic as @EventPattern names it (topicPrefix is added), or an SNS topic ARN; on AMQP an exchange for info/delete',
  );
  const prefix = { name: 'prefix', in: 'query', required: false, schema: { type: 'string' } };
  const json = (schema: Record<string, unknown>) => ({ content: { 'application/json': { schema } } });
  const ok = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({ description, ...json(schema) });
  const body = (properties: Record<string, unknown>, required: string[] = []) => ({
    required: required.length > 0,
    ...json({ type: 'object', properties, ...(required.length > 0 ? { required } : {}) }),
  });
  const errors = {
    '400': ok('Invalid argument', { $ref: '#/components/schemas/Error' }),
    '401': { description: 'The guard wants credentials' },
    '403': { description: 'The guard refused' },
    '404': ok('No such queue, topic or subscription', { $ref: '#/components/schemas/Error' }),
    '409': ok('Exists with other settings', { $ref: '#/components/schemas/Error' }),
    '501': ok('Not available on this transport', { $ref: '#/components/schemas/Error' }),
  };
  const op = (operationId: string, summary: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    operationId,
    summary,
    ...extra,
    responses: { ...responses, ...errors },
  });
  const message = body({ data: {}, attributes: { type: 'object' }, groupId: { type: 'string' } });
  const list = { type: 'array', items: { type: 'object' } };
  return {
    openapi: '3.0.3',
    info: { title: 'nestjs-messaging admin API', version: '1' },
    paths: {
      [`${base}/queues`]: {
        get: op('listQueues', 'List queues', { '200': ok('Queues', list) }, { parameters: [prefix] }),
        post: op(
          'createQueue',
          'Create a queue (idempotent)',
          { '201': ok('Created or found') },
          {
            requestBody: body(
              {
                name: { type: 'string' },
                fifo: { type: 'boolean' },
                visibilityTimeout: { type: 'integer' },
                deadLetterQueue: { oneOf: [{ type: 'string' }, { type: 'boolean', enum: [false] }] },
                maxReceiveCount: { type: 'integer' },
              },
              ['name'],
            ),
          },
        ),
      },
      [`${base}/queues/{name}`]: {
        get: op('queueInfo', 'Queue depth, in flight, delayed, dead-letter queue', { '200': ok('Queue info') }, { parameters: [queue] }),
        delete: op('deleteQueue', 'Delete a queue', { '204': { description: 'Deleted' } }, { parameters: [queue] }),
      },
      [`${base}/queues/{name}/messages`]: {
        post: op(
          'sendToQueue',
          'Send a message to one queue, through the envelope',
          { '201': ok('Sent') },
          {
            parameters: [queue],
            requestBody: body({ data: {}, topic: { type: 'string' }, attributes: { type: 'object' }, delaySeconds: { type: 'integer' } }),
          },
        ),
      },
      [`${base}/queues/{name}/peek`]: {
        post: op(
          'peek',
          'Receive and release at once, decoded',
          { '200': ok('Messages', list) },
          { parameters: [queue], requestBody: body({ max: { type: 'integer', minimum: 1, maximum: 100 } }) },
        ),
      },
      [`${base}/queues/{name}/purge`]: {
        post: op('purge', 'Delete every message of the queue', { '204': { description: 'Purged' } }, { parameters: [queue] }),
      },
      [`${base}/queues/{name}/redrive`]: {
        post: op(
          'redrive',
          'Move dead-lettered messages back to their source queue',
          {
            '200': ok('Moved', {
              type: 'object',
              properties: { from: { type: 'string' }, to: { type: 'string' }, moved: { type: 'integer' } },
            }),
          },
          { parameters: [queue], requestBody: body({ max: { type: 'integer', minimum: 1 }, to: { type: 'string' } }) },
        ),
      },
      [`${base}/topics`]: {
        get: op('listTopics', 'List topics (AMQP: exchanges)', { '200': ok('Topics', list) }, { parameters: [prefix] }),
        post: op(
          'createTopic',
          'Create a topic (idempotent)',
          { '201': ok('Created or found') },
          {
            requestBody: body({ name: { type: 'string' }, fifo: { type: 'boolean' } }, ['name']),
          },
        ),
      },
      [`${base}/topics/{topic}`]: {
        get: op('topicInfo', 'Topic attributes and subscriptions', { '200': ok('Topic info') }, { parameters: [topic] }),
        delete: op('deleteTopic', 'Delete a topic', { '204': { description: 'Deleted' } }, { parameters: [topic] }),
      },
      [`${base}/topics/{topic}/messages`]: {
        post: op('publish', 'Publish through the envelope', { '201': ok('Published') }, { parameters: [topic], requestBody: message }),
      },
      [`${base}/overview`]: {
        get: op('overview', 'The dashboard queues (consumed here or seen by the watcher) with their depths', {
          '200': ok('Overview', {
            type: 'object',
            properties: { transport: { type: 'string' }, at: { type: 'string', format: 'date-time' }, queues: list },
          }),
        }),
      },
      [`${base}/events`]: {
        get: op('events', 'Server-Sent Events: every admin event (event: its type, data: the event as JSON), queue.depth included', {
          '200': { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        }),
      },
      [`${base}/subscriptions`]: {
        post: op(
          'subscribe',
          'Subscribe a queue to a topic (SNS: queue policy merged; AMQP: a binding)',
          { '201': ok('Subscription') },
          {
            requestBody: body(
              {
                topic: { type: 'string' },
                queue: { type: 'string' },
                filterPolicy: { type: 'object' },
                filterPolicyScope: { type: 'string', enum: ['MessageAttributes', 'MessageBody'] },
                exchange: { type: 'string' },
              },
              ['topic', 'queue'],
            ),
          },
        ),
      },
      [`${base}/subscriptions/{id}`]: {
        delete: op(
          'unsubscribe',
          'Remove a subscription',
          { '204': { description: 'Removed' } },
          { parameters: [name('id', 'The id subscribe() returned')] },
        ),
      },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  };
}

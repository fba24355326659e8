import { SUBSCRIPTION_DEFAULTS, type TransportName } from '../messaging.options.js';
import { OPTIONS } from '../options/option-records.js';
import { CONNECTION_NAME_MAX } from '../options/connection-names.js';
import type { RangeRule } from '../options/rules.js';
import {
  abortSignal,
  attributes,
  boolean,
  checkArguments,
  integer,
  json,
  jsonObject,
  objectOrNothing,
  oneOf,
  orFalse,
  refuseUnknown,
  text,
  type Argument,
  type Arguments,
  type Checked,
  type CheckedOptions,
  type Field,
  type Placement,
} from './admin-validation.js';

/**
 * The admin operations, one record each: its HTTP route, its arguments (where each comes from, its rule, which
 * transport honours it) and its answer. The controller checks requests, MessagingAdminService checks programmatic
 * calls and openapi.json documents the API from these records, so the three cannot differ.
 */
export interface AdminRoute<A extends Arguments = Arguments> {
  operationId: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Under the module's path, Nest style (`queues/:name`). */
  path: string;
  summary: string;
  args: A;
  /** The status of a success, what it means and what its body holds. */
  answer: { status: 200 | 201 | 204; description: string; schema?: Record<string, unknown>; contentType?: string };
}

/** Queue, topic and exchange names: the transports' own rules (SQS 80 characters, AMQP 255 bytes) come after. */
const NAME_MAX = 512;
/** AMQP binding ids carry an exchange, a routing key and a queue of up to 255 bytes each, base64url. */
const SUBSCRIPTION_ID_MAX = 2048;
/** SNS/SQS MessageGroupId. */
const GROUP_ID_MAX = 128;
const PEEK_MAX = 100;

const name = text(1, NAME_MAX);

/** An argument that is also a module or subscription option takes the option's range from its record. */
const integerIn = (range: RangeRule) => integer(range.min, range.max);

function required<T>(field: Field<T>, placement: Placement, description: string) {
  return { field, in: placement, required: true as const, description } satisfies Argument<T>;
}

function optional<T>(field: Field<T>, placement: Placement, description: string, extra: Pick<Argument, 'only' | 'needs'> = {}) {
  return { field, in: placement, required: false as const, description, ...extra } satisfies Argument<T>;
}

const SNS_SQS = 'sns-sqs' satisfies TransportName;

const queuePath = required(name, 'path', 'the queue name as the broker names it');
const topicPath = required(
  name,
  'path',
  'the topic as @EventPattern names it (topicPrefix is added), or an SNS topic ARN; on AMQP an exchange for info and delete',
);
const prefix = optional(text(0, NAME_MAX), 'query', 'only names that start with this');
const messageAttributes = optional(attributes(), 'body', 'message attributes (SNS/SQS message attributes; AMQP headers)');
const groupId = optional(text(1, GROUP_ID_MAX), 'body', 'the message group of a FIFO topic or queue (default "admin")', {
  only: { transport: SNS_SQS, why: 'message groups are an SNS/SQS FIFO feature' },
});
const data = required(json(), 'body', `the message, encoded through the module's envelope (JSON)`);
const list = { type: 'array', items: { type: 'object' } };
/**
 * Every operation of a connection takes it the same way: the `connection` query parameter over HTTP (also on POST and
 * DELETE, never in the body), the `connection` option of the MessagingAdminService method.
 */
const connection = optional(
  text(1, CONNECTION_NAME_MAX),
  'query',
  `the connection to act on: a MessagingModule.forRoot({ name }) name (GET connections lists them); absent: the unnamed (default) connection`,
);

function route<const A extends Arguments>(definition: AdminRoute<A>): AdminRoute<A> {
  return definition;
}

export const ADMIN_ROUTES = {
  listConnections: route({
    operationId: 'listConnections',
    method: 'GET',
    path: 'connections',
    summary: "The app's connections (the default first), for the connection parameter of every other route",
    args: {},
    answer: {
      status: 200,
      description: 'Connections',
      schema: {
        type: 'array',
        items: { type: 'object', properties: { name: { type: 'string' }, transport: { type: 'string' } } },
      },
    },
  }),
  listQueues: route({
    operationId: 'listQueues',
    method: 'GET',
    path: 'queues',
    summary: 'List queues',
    args: { prefix, connection },
    answer: { status: 200, description: 'Queues', schema: list },
  }),
  createQueue: route({
    operationId: 'createQueue',
    method: 'POST',
    path: 'queues',
    summary: 'Create a queue (idempotent)',
    args: {
      name: required(name, 'body', 'the queue name'),
      fifo: optional(boolean(), 'body', 'an SQS FIFO queue (".fifo" is added to the name)', {
        only: { transport: SNS_SQS, why: 'FIFO queues are an SNS/SQS feature; AMQP queues keep order without it' },
      }),
      visibilityTimeout: optional(
        integerIn(OPTIONS.visibilityTimeout.rule),
        'body',
        `SQS visibility timeout in seconds (default ${SUBSCRIPTION_DEFAULTS.visibilityTimeout})`,
        {
          only: { transport: SNS_SQS, why: 'an AMQP message stays with its consumer until acked; there is no visibility timeout' },
        },
      ),
      deadLetterQueue: optional(orFalse(name), 'body', 'the name of its dead-letter queue, or false for none (default "<name>-dlq")'),
      maxReceiveCount: optional(
        integerIn(OPTIONS.maxReceiveCount.rule),
        'body',
        'receives before SQS moves a message to the dead-letter queue',
        {
          only: { transport: SNS_SQS, why: 'on AMQP the consuming app counts attempts (its maxReceiveCount); the queue does not hold one' },
        },
      ),
      connection,
    },
    answer: { status: 201, description: 'Created or found' },
  }),
  queueInfo: route({
    operationId: 'queueInfo',
    method: 'GET',
    path: 'queues/:name',
    summary: 'Queue depth, in flight, delayed, dead-letter queue',
    args: { name: queuePath, connection },
    answer: { status: 200, description: 'Queue info' },
  }),
  deleteQueue: route({
    operationId: 'deleteQueue',
    method: 'DELETE',
    path: 'queues/:name',
    summary: 'Delete a queue',
    args: { name: queuePath, connection },
    answer: { status: 204, description: 'Deleted' },
  }),
  sendToQueue: route({
    operationId: 'sendToQueue',
    method: 'POST',
    path: 'queues/:name/messages',
    summary: 'Send a message to one queue, through the envelope',
    args: {
      name: queuePath,
      data,
      topic: optional(name, 'body', 'the topic a consumer dispatches the message by (default: the queue name)'),
      attributes: messageAttributes,
      groupId,
      delaySeconds: optional(integer(0, 900), 'body', 'SQS: seconds before the message becomes visible', {
        only: { transport: SNS_SQS, why: 'delayed sending is an SQS feature' },
      }),
      connection,
    },
    answer: { status: 201, description: 'Sent' },
  }),
  peek: route({
    operationId: 'peek',
    method: 'POST',
    path: 'queues/:name/peek',
    summary: 'Receive and release at once, decoded',
    args: {
      name: queuePath,
      max: optional(integer(1, PEEK_MAX), 'body', `at most this many messages (default 10, at most ${PEEK_MAX})`),
      spendReceive: optional(
        boolean(),
        'body',
        'peek a queue whose broker dead-letters by receive count although each message shown spends a receive (else 409)',
      ),
      connection,
    },
    answer: { status: 200, description: 'Messages', schema: list },
  }),
  purge: route({
    operationId: 'purge',
    method: 'POST',
    path: 'queues/:name/purge',
    summary: 'Delete every message of the queue',
    args: { name: queuePath, connection },
    answer: { status: 204, description: 'Purged' },
  }),
  redrive: route({
    operationId: 'redrive',
    method: 'POST',
    path: 'queues/:name/redrive',
    summary: 'Move dead-lettered messages back to their source queue',
    args: {
      name: required(name, 'path', 'the dead-letter queue'),
      max: optional(integer(1, Number.MAX_SAFE_INTEGER), 'body', 'move at most this many (default: all)'),
      to: optional(name, 'body', 'the queue to move them to (default: the queue whose dead-letter queue this is)'),
      signal: optional(abortSignal(), 'call', 'stops the move between two batches'),
      connection,
    },
    answer: {
      status: 200,
      description: 'Moved',
      schema: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, moved: { type: 'integer' } } },
    },
  }),
  listTopics: route({
    operationId: 'listTopics',
    method: 'GET',
    path: 'topics',
    summary: 'List topics (AMQP: exchanges)',
    args: { prefix, connection },
    answer: { status: 200, description: 'Topics', schema: list },
  }),
  createTopic: route({
    operationId: 'createTopic',
    method: 'POST',
    path: 'topics',
    summary: 'Create a topic (idempotent; AMQP: a durable topic exchange)',
    args: {
      name: required(name, 'body', 'the topic as @EventPattern names it (AMQP: the exchange name)'),
      fifo: optional(boolean(), 'body', 'an SNS FIFO topic', {
        only: { transport: SNS_SQS, why: 'FIFO topics are an SNS feature; an AMQP exchange has no such setting' },
      }),
      connection,
    },
    answer: { status: 201, description: 'Created or found' },
  }),
  topicInfo: route({
    operationId: 'topicInfo',
    method: 'GET',
    path: 'topics/:topic',
    summary: 'Topic attributes and subscriptions',
    args: { topic: topicPath, connection },
    answer: { status: 200, description: 'Topic info' },
  }),
  deleteTopic: route({
    operationId: 'deleteTopic',
    method: 'DELETE',
    path: 'topics/:topic',
    summary: 'Delete a topic',
    args: { topic: topicPath, connection },
    answer: { status: 204, description: 'Deleted' },
  }),
  publish: route({
    operationId: 'publish',
    method: 'POST',
    path: 'topics/:topic/messages',
    summary: 'Publish through the envelope',
    args: { topic: topicPath, data, attributes: messageAttributes, groupId, connection },
    answer: { status: 201, description: 'Published' },
  }),
  subscribe: route({
    operationId: 'subscribe',
    method: 'POST',
    path: 'subscriptions',
    summary: 'Subscribe a queue to a topic (SNS: queue policy merged; AMQP: a binding)',
    args: {
      topic: required(name, 'body', 'the topic as @EventPattern names it, or an SNS topic ARN'),
      queue: required(name, 'body', 'the queue name'),
      filterPolicy: optional(jsonObject(), 'body', 'an SNS filter policy', {
        only: {
          transport: SNS_SQS,
          why: 'on AMQP the consuming handler evaluates filter policies (its @EventPattern extras); a binding cannot carry one',
        },
      }),
      filterPolicyScope: optional(
        oneOf(OPTIONS.filterPolicyScope.rule.values),
        'body',
        'what filterPolicy looks at (default MessageAttributes)',
        {
          only: { transport: SNS_SQS, why: 'filter policies are an SNS feature' },
          needs: 'filterPolicy',
        },
      ),
      exchange: optional(name, 'body', `the exchange to bind on (default: the module's amqp.exchange)`, {
        only: { transport: 'amqp', why: 'an SNS subscription is made on the topic itself; there is no exchange' },
      }),
      connection,
    },
    answer: { status: 201, description: 'Subscription' },
  }),
  unsubscribe: route({
    operationId: 'unsubscribe',
    method: 'DELETE',
    path: 'subscriptions/:id',
    summary: 'Remove a subscription',
    args: { id: required(text(1, SUBSCRIPTION_ID_MAX), 'path', 'the id subscribe() returned'), connection },
    answer: { status: 204, description: 'Removed' },
  }),
  overview: route({
    operationId: 'overview',
    method: 'GET',
    path: 'overview',
    summary: 'The dashboard queues (consumed here or seen by the watcher) with their depths',
    args: { connection },
    answer: {
      status: 200,
      description: 'Overview',
      schema: {
        type: 'object',
        properties: {
          connection: { type: 'string' },
          transport: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          queues: list,
        },
      },
    },
  }),
  events: route({
    operationId: 'events',
    method: 'GET',
    path: 'events',
    summary: 'Server-Sent Events: every admin event of the connection (event: its type, data: the event as JSON), queue.depth included',
    args: { connection },
    answer: { status: 200, description: 'An event stream', schema: { type: 'string' }, contentType: 'text/event-stream' },
  }),
};

function namesIn(route: AdminRoute, keep: (argument: Argument) => boolean): string[] {
  return Object.entries(route.args)
    .filter(([, argument]) => keep(argument))
    .map(([key]) => key);
}

/**
 * A programmatic call: `positional` holds the method's required parameters by argument name, `options` its options
 * object (an unknown option is refused, as an unknown body field is over HTTP). Returns the checked options.
 */
export function checkCall<A extends Arguments>(
  route: AdminRoute<A>,
  transport: TransportName,
  positional: Record<string, unknown>,
  options: unknown,
): CheckedOptions<A> {
  const given = objectOrNothing(options, 'options');
  const optionNames = namesIn(route, (argument) => !argument.required);
  refuseUnknown(given, optionNames, 'option', route.operationId);
  const checked: Record<string, unknown> = checkArguments(route.operationId, route.args, transport, { ...given, ...positional });
  return Object.fromEntries(
    optionNames.filter((name) => checked[name] !== undefined).map((name) => [name, checked[name]]),
  ) as CheckedOptions<A>;
}

/** An HTTP request: path parameters, query string and JSON body, each key where the route expects it. */
export function checkRequest<A extends Arguments>(
  route: AdminRoute<A>,
  transport: TransportName,
  request: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown },
): Checked<A> {
  const body = objectOrNothing(request.body, 'request body');
  const query = request.query ?? {};
  refuseUnknown(
    query,
    namesIn(route, (argument) => argument.in === 'query'),
    'query parameter',
    route.operationId,
  );
  refuseUnknown(
    body,
    namesIn(route, (argument) => argument.in === 'body'),
    'body field',
    route.operationId,
  );
  return checkArguments(route.operationId, route.args, transport, { ...body, ...query, ...request.params });
}

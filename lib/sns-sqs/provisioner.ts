import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  TagResourceCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan, SubscriptionPlan } from '../transport/broker.js';
import type { BrokerRedrive } from '../transport/settlement-log.js';
import { MessagingError, MessagingOptionsError, ProvisioningError } from '../errors.js';
import { isAccessDenied, isNotFound, isSubscriptionConflict } from './aws-errors.js';
import { describeError } from '../error-text.js';
import type { AwsClients } from './clients.js';
import { encodeName } from '../naming.js';
import { sqsDeadLetterQueueName, queueName, topicName } from './naming.js';
import { policyId, queuePolicy, sameJson, subscribeGrant } from './policy.js';
import {
  deadLetterQueueAttributes,
  fifoTopicAttributes,
  mainQueueAttributes,
  fingerprintMatches,
  queueFingerprint,
  subscriptionFilter,
  tagChanges,
  topicKmsKey,
  userTags,
} from './desired-state.js';
import { lookUpSnsSqsTopology, SnsSqsLookup, type FoundQueue, type QueueInfo } from './lookup.js';
import { lookUpExistingQueue } from './existing-queue.js';
import { verifySnsSqsTopology } from './verifier.js';
import { WildcardTopics } from './wildcard-topics.js';

export interface ProvisionedQueue {
  plan: QueuePlan;
  url: string;
  arn: string;
  deadLetter?: { url: string; arn: string };
  /** Subscription ARNs feeding the queue, for removal of non-competing queues. */
  subscriptionArns: string[];
  /** A queue-only handler's queue: its owner's RedrivePolicy, if it has one. */
  redrive?: BrokerRedrive;
}

/** What ensurePlannedQueue found or made: the queue, its dead-letter queue, and the topics the queue policy names. */
export interface EnsuredQueue {
  queue: QueueInfo;
  created: boolean;
  deadLetter?: { queue: QueueInfo; created: boolean };
  topicArns: string[];
}

/** Tags of a `competing: false` queue: whose it is and when its process last renewed it (see orphan-sweep.ts). */
export const PER_PROCESS_TAG = 'nestjs-messaging:per-process-queue-of';
export const ALIVE_TAG = 'nestjs-messaging:alive-at';

/** Attributes compared as JSON documents rather than strings. */
const JSON_ATTRIBUTES = new Set(['Policy', 'RedrivePolicy']);

/**
 * Creates or updates topics, queues, dead-letter queues, queue policies, subscriptions and tags. It reads before it
 * writes and sets only differences, so a restart with unchanged configuration makes no mutating call. With
 * `provisioning: 'verify'` it only reads and compares (verifier.ts); with `'off'` it only looks up URLs and ARNs
 * (lookup.ts).
 */
export class SnsSqsProvisioner {
  private readonly topics = new Map<string, Promise<string>>();
  /** Topics this process created (the others existed): for the startup lines. */
  private readonly createdTopics = new Set<string>();
  /** Queues whose startup line was logged: a wildcard rescan logs a queue again only when it created something. */
  private readonly announced = new Set<string>();
  /** The read calls, and `send` for the writes. */
  readonly lookup: SnsSqsLookup;
  /** Wildcard patterns resolved against the existing topics (wildcard-topics.ts). */
  readonly wildcards: WildcardTopics;

  constructor(
    private readonly clients: AwsClients,
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {
    this.lookup = new SnsSqsLookup(clients, options);
    this.wildcards = new WildcardTopics(() => this.lookup.listTopicArns(), options.topicPrefix, logger);
  }

  /** Ends every call still in flight (the broker is closing). */
  close(): void {
    this.lookup.close();
  }

  /** Queue-only plans (plan.existingQueue) are only looked up, whatever the provisioning mode. */
  async provision(queues: readonly QueuePlan[]): Promise<ProvisionedQueue[]> {
    const owned = queues.filter((plan) => plan.existingQueue === undefined);
    const existing = queues.filter((plan) => plan.existingQueue !== undefined);
    const [provisioned, found] = await Promise.all([
      this.provisionOwned(owned),
      Promise.all(existing.map((plan) => lookUpExistingQueue(this.lookup, plan))),
    ]);
    for (const queue of found) {
      if (this.announced.has(queue.url)) continue;
      this.announced.add(queue.url);
      const redrive = queue.redrive
        ? `its RedrivePolicy moves a message to ${queue.redrive.deadLetterQueue} after ${queue.redrive.maxReceiveCount} receives`
        : 'it has no RedrivePolicy (failed messages are retried, never dead-lettered)';
      this.logger.log?.(`SNS+SQS existing queue ${queue.plan.existingQueue} looked up (the library never changes it): ${redrive}`);
    }
    return [...provisioned, ...found];
  }

  private async provisionOwned(declared: readonly QueuePlan[]): Promise<ProvisionedQueue[]> {
    if (declared.length === 0) return [];
    // 'off' only looks queues up; 'create' and 'verify' need the topics a wildcard pattern stands for
    const queues = this.options.provisioning === 'off' ? declared : await this.wildcards.expand(declared);
    if (this.options.provisioning === 'off') return this.announce(await lookUpSnsSqsTopology(this.lookup, queues), 'looked up');
    const names = queues.flatMap((plan) => [queueName(plan), sqsDeadLetterQueueName(plan) ?? []].flat());
    return this.lookup.inPass(names, async () =>
      this.options.provisioning === 'verify'
        ? this.announce(await verifySnsSqsTopology(this.lookup, queues), 'verified')
        : Promise.all(queues.map((plan) => this.provisionQueue(plan))),
    );
  }

  /** The startup line of each queue provisioning 'verify' or 'off' found. */
  private announce(queues: ProvisionedQueue[], done: string): ProvisionedQueue[] {
    for (const { plan } of queues) this.logResources(plan, () => done, done, plan.deadLetter ? done : undefined);
    return queues;
  }

  /**
   * One line per queue: the topics feeding it, the queue, its dead-letter queue, each with what was done (created,
   * exists, verified, looked up). Logged once per queue name, and again only when a later provisioning created something.
   */
  private logResources(plan: QueuePlan, topicState: (topic: string) => string, queueState: string, deadLetterState?: string): void {
    const name = queueName(plan);
    const owned = plan.subscriptions.filter((s) => s.topicArn === undefined);
    const created = [
      queueState,
      deadLetterState,
      ...owned.map((s) => topicState(topicName(this.options.topicPrefix, s.pattern, plan.fifo))),
    ].includes('created');
    if (this.announced.has(name) && !created) return;
    this.announced.add(name);
    const topics = plan.subscriptions.map((s) => {
      if (s.topicArn !== undefined) return `${s.topicArn} (subscribed by ARN)`;
      const topic = topicName(this.options.topicPrefix, s.pattern, plan.fifo);
      return `${topic} (${topicState(topic)})`;
    });
    const deadLetter = deadLetterState
      ? `dead-letter queue ${sqsDeadLetterQueueName(plan)} (${deadLetterState}; after ${plan.maxReceiveCount} attempts)`
      : 'no dead-letter queue';
    this.logger.log?.(`SNS topic ${topics.join(', ') || '(none yet)'} → queue ${name} (${queueState}) → ${deadLetter}`);
  }

  /**
   * Topic ARN for a pattern, cached per process. `create`: looked up, created when missing, KMS and tags diffed;
   * `verify`/`off`: looked up only, a ProvisioningError when it does not exist.
   */
  topicArn(pattern: string, fifo: boolean): Promise<string> {
    const name = topicName(this.options.topicPrefix, pattern, fifo);
    let arn = this.topics.get(name);
    if (!arn) {
      arn = this.options.provisioning === 'create' ? this.ensureTopic(name, fifo) : this.existingTopicArn(name);
      this.topics.set(name, arn);
      arn.catch(() => this.topics.delete(name));
    }
    return arn;
  }

  private async provisionQueue(plan: QueuePlan): Promise<ProvisionedQueue> {
    const found = (await this.lookup.findQueue(queueName(plan))) ?? null;
    const warm = found ? await this.warmQueue(plan, found) : undefined;
    const ensured =
      warm ??
      (await this.ensurePlannedQueue(
        plan,
        () => Promise.all(plan.subscriptions.map((s) => s.topicArn ?? this.topicArn(s.pattern, plan.fifo))),
        found,
      ));
    const subscriptionArns = await Promise.all(
      plan.subscriptions.map((s, i) =>
        this.ensureSubscription(
          ensured.topicArns[i],
          ensured.queue.arn,
          s,
          // a warm start took the topic for granted: it is looked up (and made) only when its subscription is missing
          warm && s.topicArn === undefined ? () => this.topicArn(s.pattern, plan.fifo) : undefined,
        ),
      ),
    );
    this.logResources(
      plan,
      (topic) => (this.createdTopics.has(topic) ? 'created' : 'exists'),
      ensured.created ? 'created' : 'exists',
      ensured.deadLetter && (ensured.deadLetter.created ? 'created' : 'exists'),
    );
    return { plan, url: ensured.queue.url, arn: ensured.queue.arn, deadLetter: ensured.deadLetter?.queue, subscriptionArns };
  }

  /**
   * A warm start of an existing queue whose policy `Id` carries the fingerprint of this plan (desired-state.ts): the
   * dead-letter queue, the topics and their settings were provisioned for this configuration, so only the queue's own
   * attributes and policy (read already), its tags (when snsSqs.tags is set) and that the dead-letter queue is still
   * listed are checked. Undefined when the full path must run: no matching fingerprint (a changed configuration, or none
   * yet), the dead-letter queue is gone, or a tag differs.
   */
  private async warmQueue(plan: QueuePlan, found: FoundQueue): Promise<EnsuredQueue | undefined> {
    const id = policyId(found.attributes.Policy);
    if (!fingerprintMatches(id, plan, this.options)) return undefined;
    const dlqName = sqsDeadLetterQueueName(plan);
    let deadLetter: EnsuredQueue['deadLetter'];
    if (dlqName) {
      const url = await this.lookup.listedQueueUrl(dlqName);
      if (!url) return undefined;
      deadLetter = { queue: { url, arn: `${found.arn.slice(0, found.arn.lastIndexOf(':') + 1)}${dlqName}` }, created: false };
    }
    const topicArns = plan.subscriptions.map(
      (s) => s.topicArn ?? this.lookup.knownTopicArn(topicName(this.options.topicPrefix, s.pattern, plan.fifo)),
    );
    if (topicArns.some((arn) => arn === undefined)) return undefined;
    const known = topicArns as string[];
    const tags = userTags(this.options);
    if (Object.keys(tags).length > 0 && Object.keys(tagChanges(tags, await this.lookup.queueTags(found.url, queueName(plan)))).length > 0)
      return undefined;
    const desired = mainQueueAttributes(plan, this.options, deadLetter?.queue.arn);
    const queue = await this.updateQueue(found, desired, this.policyFor(plan, known, id), false);
    return { queue, created: false, deadLetter, topicArns: known };
  }

  /**
   * The queue policy for `topicArns`, its `Id` the fingerprint of `plan` over `currentId` (the policy's `Id` now); none
   * while no topic feeds the queue (a wildcard pattern without matches).
   */
  private policyFor(plan: QueuePlan, topicArns: string[], currentId: string | undefined): ((arn: string) => string) | undefined {
    if (topicArns.length === 0) return undefined;
    const fingerprint = queueFingerprint(currentId, plan, this.options);
    return (arn: string) => queuePolicy(arn, topicArns, fingerprint);
  }

  /**
   * A plan's queue and its dead-letter queue, created with the attributes desired-state.ts decides, or (existing)
   * changed where they differ: startup provisioning and the admin's createQueue both make queues here. `feedingTopics`
   * gives the topics the queue policy lets send; it is called once the queues were looked up (their ARNs tell the
   * account, so the topics are found without listing them). `existing`: the queue as the caller already looked it up
   * (null: it does not exist); looked up here when omitted.
   */
  async ensurePlannedQueue(
    plan: QueuePlan,
    feedingTopics: () => Promise<string[]> = async () => [],
    existing?: FoundQueue | null,
  ): Promise<EnsuredQueue> {
    const dlqName = sqsDeadLetterQueueName(plan);
    const deadLetter = dlqName ? await this.ensureQueue(dlqName, plan.fifo, deadLetterQueueAttributes(this.options)) : undefined;
    const name = queueName(plan);
    const desired = mainQueueAttributes(plan, this.options, deadLetter?.queue.arn);
    const found = existing !== undefined ? existing : await this.lookup.findQueue(name);
    const topicArns = await feedingTopics();
    const policy = this.policyFor(plan, topicArns, policyId(found?.attributes.Policy));
    const queue = found
      ? await this.updateQueue(found, desired, policy)
      : await this.createQueue(
          name,
          plan.fifo,
          desired,
          policy,
          plan.competing ? userTags(this.options) : { ...userTags(this.options), ...this.perProcessTags() },
        );
    return { queue, created: !found, deadLetter, topicArns };
  }

  /**
   * Removes a queue unique to this process, its subscriptions, and its dead-letter queue when that is empty. Failures
   * are logged; `abortSignal` cuts the calls off when shutdown is out of time.
   */
  async remove(
    queue: Pick<ProvisionedQueue, 'url' | 'arn' | 'subscriptionArns' | 'deadLetter'> & { name: string },
    abortSignal?: AbortSignal,
  ): Promise<void> {
    const { sns, sqs } = this.clients;
    const options = abortSignal ? { abortSignal } : undefined;
    for (const arn of queue.subscriptionArns) {
      await sns
        .send(new UnsubscribeCommand({ SubscriptionArn: arn }), options)
        .catch((e) => this.logger.warn?.(`Cannot unsubscribe ${arn}: ${describeError(e)}`));
    }
    await sqs
      .send(new DeleteQueueCommand({ QueueUrl: queue.url }), options)
      .catch((e) => this.logger.warn?.(`Cannot delete queue ${queue.name}: ${describeError(e)}`));
    if (queue.deadLetter) {
      try {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queue.deadLetter.url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
          options,
        );
        const count = Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
        if (count === 0) await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.deadLetter.url }), options);
        else
          this.logger.warn?.(
            `Keeping dead-letter queue ${queue.deadLetter.arn} of removed queue ${queue.name}: it holds ${count} message(s)`,
          );
      } catch (error) {
        if (!isNotFound(error)) this.logger.warn?.(`Cannot remove dead-letter queue ${queue.deadLetter.arn}: ${describeError(error)}`);
      }
    }
  }

  private async ensureTopic(name: string, fifo: boolean): Promise<string> {
    const kms = topicKmsKey(this.options);
    const tags = userTags(this.options);
    const found = await this.lookup.findTopic(name);
    if (found) {
      const { arn, attributes } = found;
      for (const [key, value] of Object.entries(fifoTopicAttributes(this.options, fifo))) {
        if ((attributes[key] ?? '') === value) continue;
        await this.lookup.send('sns', name, new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: key, AttributeValue: value }));
        this.logger.log?.(`Set ${key} of topic ${name} to ${value}`);
      }
      if (kms !== undefined && (attributes.KmsMasterKeyId ?? '') !== kms) {
        await this.lookup.send(
          'sns',
          name,
          new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'KmsMasterKeyId', AttributeValue: kms }),
        );
        this.logger.log?.(`Set KmsMasterKeyId of topic ${name} to ${kms === '' ? '(none)' : kms}`);
      }
      if (Object.keys(tags).length > 0) {
        const changes = tagChanges(tags, await this.lookup.topicTags(arn));
        if (Object.keys(changes).length > 0) {
          await this.lookup.send(
            'sns',
            name,
            new TagResourceCommand({ ResourceArn: arn, Tags: Object.entries(changes).map(([Key, Value]) => ({ Key, Value })) }),
          );
          this.logger.log?.(`Tagged topic ${name}: ${Object.keys(changes).join(', ')}`);
        }
      }
      return arn;
    }
    return this.createTopic(name, fifo);
  }

  /** A new topic with the attributes and tags desired-state.ts decides: startup provisioning and the admin's createTopic. */
  async createTopic(name: string, fifo: boolean): Promise<string> {
    const attributes: Record<string, string> = fifoTopicAttributes(this.options, fifo);
    if (fifo) attributes.FifoTopic = 'true';
    const kms = topicKmsKey(this.options);
    if (kms) attributes.KmsMasterKeyId = kms;
    const Tags = Object.entries(userTags(this.options)).map(([Key, Value]) => ({ Key, Value }));
    const { TopicArn } = await this.lookup.send(
      'sns',
      name,
      new CreateTopicCommand({ Name: name, Attributes: attributes, ...(Tags.length > 0 ? { Tags } : {}) }),
    );
    if (!TopicArn) throw new MessagingError(`CreateTopic ${name} returned no TopicArn`);
    this.createdTopics.add(name);
    this.lookup.noteNewTopic(TopicArn);
    this.lookup.learnArnBase(TopicArn);
    return TopicArn;
  }

  /** `verify` and `off`: the topic must exist already; nothing is created. */
  private async existingTopicArn(name: string): Promise<string> {
    const found = await this.lookup.findTopic(name);
    if (found) return found.arn;
    throw new ProvisioningError(
      'sns-sqs',
      await this.lookup.endpoint('sns'),
      `GetTopicAttributes ${name}`,
      'the topic does not exist',
      `provisioning is '${this.options.provisioning}', so it is not created: create it in your infrastructure code, or use provisioning 'create'`,
    );
  }

  private async ensureQueue(name: string, fifo: boolean, desired: Record<string, string>): Promise<{ queue: QueueInfo; created: boolean }> {
    const existing = await this.lookup.findQueue(name);
    if (existing) return { queue: await this.updateQueue(existing, desired), created: false };
    return { queue: await this.createQueue(name, fifo, desired, undefined, userTags(this.options)), created: true };
  }

  private async createQueue(
    name: string,
    fifo: boolean,
    desired: Record<string, string>,
    policy?: (arn: string) => string,
    tags?: Record<string, string>,
  ): Promise<QueueInfo> {
    const attributes: Record<string, string> = Object.fromEntries(Object.entries(desired).filter(([, v]) => v !== ''));
    if (fifo) attributes.FifoQueue = 'true';
    const { QueueUrl } = await this.lookup.send(
      'sqs',
      name,
      new CreateQueueCommand({ QueueName: name, Attributes: attributes, ...(tags && Object.keys(tags).length > 0 ? { tags } : {}) }),
    );
    if (!QueueUrl) throw new MessagingError(`CreateQueue ${name} returned no QueueUrl`);
    const { Attributes } = await this.lookup.send('sqs', name, new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const arn = Attributes?.QueueArn ?? '';
    this.lookup.learnArnBase(arn);
    if (policy) await this.lookup.send('sqs', name, new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: policy(arn) } }));
    return { url: QueueUrl, arn };
  }

  /**
   * Sets the attributes (and policy) that differ. The tags go first, `syncTags` false skips them: the policy may carry
   * the fingerprint that says they were applied.
   */
  private async updateQueue(
    queue: FoundQueue,
    desired: Record<string, string>,
    policy?: (arn: string) => string,
    syncTags = true,
  ): Promise<QueueInfo> {
    if (syncTags) await this.syncQueueTags(queue);
    const wanted = { ...desired, ...(policy ? { Policy: policy(queue.arn) } : {}) };
    const changes: Record<string, string> = {};
    for (const [key, value] of Object.entries(wanted)) {
      const current = queue.attributes[key] ?? '';
      const same = JSON_ATTRIBUTES.has(key) ? sameJson(current, value) : current === value;
      if (!same) changes[key] = value;
    }
    if (Object.keys(changes).length > 0) {
      await this.lookup.send(
        'sqs',
        queue.arn.slice(queue.arn.lastIndexOf(':') + 1),
        new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: changes as Partial<Record<QueueAttributeName, string>> }),
      );
      this.logger.log?.(`Updated queue ${queue.arn}: ${Object.keys(changes).join(', ')}`);
    }
    return { url: queue.url, arn: queue.arn };
  }

  /** Sets the `snsSqs.tags` an existing queue lacks or holds with another value; no call at all without tags. */
  private async syncQueueTags(queue: QueueInfo): Promise<void> {
    const tags = userTags(this.options);
    if (Object.keys(tags).length === 0) return;
    const name = queue.arn.slice(queue.arn.lastIndexOf(':') + 1);
    const changes = tagChanges(tags, await this.lookup.queueTags(queue.url, name));
    if (Object.keys(changes).length === 0) return;
    await this.lookup.send('sqs', name, new TagQueueCommand({ QueueUrl: queue.url, Tags: changes }));
    this.logger.log?.(`Tagged queue ${name}: ${Object.keys(changes).join(', ')}`);
  }

  /** Marks a queue as this service's per-process queue, alive now; the orphan sweep of a later startup reads it. */
  perProcessTags(): Record<string, string> {
    return { [PER_PROCESS_TAG]: encodeName(this.options.serviceName), [ALIVE_TAG]: String(Date.now()) };
  }

  /**
   * The subscription of a queue to a topic, created or brought to the plan's filter policy and to raw delivery off;
   * startup provisioning and the admin's subscribe. Returns its ARN. `ensureTopic`: the topic was not looked up yet (a
   * warm start); it is, before a missing subscription is made. `useListing` false: the pass's shared listing proved
   * stale (SNS no longer knew a subscription it showed), so it is subscribed again (a topic named by ARN: looked up
   * among the account's own subscriptions first).
   *
   * A subscription the pass's listing lacks is subscribed at once: Subscribe returns the existing subscription when
   * one with the same attributes was made meanwhile (by an instance starting beside this one), at SNS's 100 TPS,
   * where a ListSubscriptionsByTopic per topic (30 TPS) would throttle a fleet's start.
   */
  async ensureSubscription(
    topicArn: string,
    queueArn: string,
    sub: SubscriptionPlan,
    ensureTopic?: () => Promise<string>,
    useListing = true,
  ): Promise<string> {
    const byArn = sub.topicArn !== undefined;
    if (byArn) checkSamePartition(topicArn, queueArn, sub.pattern);
    const listed = useListing && !byArn ? await this.lookup.listedSubscription(topicArn, queueArn) : undefined;
    if (listed) return this.syncSubscription(listed, topicArn, queueArn, sub, ensureTopic, useListing);
    if (ensureTopic) topicArn = await ensureTopic();
    if (!byArn && (!useListing || (await this.lookup.takesUnlistedAsAbsent(topicArn)))) {
      const made = await this.subscribe(topicArn, queueArn, sub, 'pass');
      if (made === undefined) {
        // made meanwhile with other attributes: found on its topic and brought to the plan's
        const found = await this.lookup.findSubscription(topicArn, queueArn, false, false);
        return found ? this.syncSubscription(found, topicArn, queueArn, sub, undefined, false) : this.subscribe(topicArn, queueArn, sub);
      }
      // Subscribe compares only the attributes it is given: a filter policy left on a subscription made meanwhile is
      // read back, unless the plan sets one or this pass created the topic (only instances starting beside this one,
      // with the same plan, can have subscribed to it since)
      if (subscriptionFilter(sub).filterPolicy !== undefined || this.lookup.madeTopic(topicArn)) return made;
      return this.syncSubscription(made, topicArn, queueArn, sub, undefined, useListing);
    }
    const existingArn = await this.lookup.findSubscription(topicArn, queueArn, byArn, useListing);
    if (!existingArn) return this.subscribe(topicArn, queueArn, sub);
    return this.syncSubscription(existingArn, topicArn, queueArn, sub, ensureTopic, useListing);
  }

  /**
   * Subscribe with the plan's attributes, raw delivery off among them so that SNS compares it too when the
   * subscription exists. `conflict` 'pass': undefined when SNS answers that it exists with other attributes.
   */
  private subscribe(topicArn: string, queueArn: string, sub: SubscriptionPlan): Promise<string>;
  private subscribe(topicArn: string, queueArn: string, sub: SubscriptionPlan, conflict: 'pass'): Promise<string | undefined>;
  private async subscribe(topicArn: string, queueArn: string, sub: SubscriptionPlan, conflict?: 'pass'): Promise<string | undefined> {
    const { filterPolicy, scope } = subscriptionFilter(sub);
    const attributes: Record<string, string> = { RawMessageDelivery: 'false' };
    if (filterPolicy !== undefined) attributes.FilterPolicy = filterPolicy;
    if (scope !== undefined) attributes.FilterPolicyScope = scope;
    const subscribe = new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: attributes,
      ReturnSubscriptionArn: true,
    });
    let subscriptionArn: string | undefined;
    try {
      subscriptionArn = (await this.lookup.send('sns', `${topicArn} -> ${queueArn}`, subscribe)).SubscriptionArn;
    } catch (error) {
      if (!(error instanceof ProvisioningError)) throw error;
      if (conflict === 'pass' && isSubscriptionConflict(error.cause)) return undefined;
      if (sub.topicArn !== undefined && isAccessDenied(error.cause))
        throw new ProvisioningError(
          'sns-sqs',
          error.endpoint,
          `Subscribe ${queueArn} to ${topicArn}`,
          `SNS denied the subscription (${describeError(error.cause)})`,
          `Either the topic's policy does not let this account subscribe, and its owner adds this statement to the topic policy of ${topicArn}: ${subscribeGrant(topicArn, queueArn)}; or the IAM policy of these credentials does not allow sns:Subscribe on it`,
          { cause: error.cause },
        );
      throw error;
    }
    if (!subscriptionArn) throw new MessagingError(`Subscribe ${queueArn} to ${topicArn} returned no SubscriptionArn`);
    return subscriptionArn;
  }

  /** An existing subscription brought to raw delivery off and the plan's filter policy; made again when SNS deleted it. */
  private async syncSubscription(
    existingArn: string,
    topicArn: string,
    queueArn: string,
    sub: SubscriptionPlan,
    ensureTopic: (() => Promise<string>) | undefined,
    useListing: boolean,
  ): Promise<string> {
    const { filterPolicy, scope } = subscriptionFilter(sub);
    const read = await this.lookup
      .send(
        'sns',
        existingArn,
        new GetSubscriptionAttributesCommand({ SubscriptionArn: existingArn }),
        useListing ? { notFound: 'pass' } : {},
      )
      .catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
    // SNS no longer knows it (the pass's listing lagged behind its deletion, or it went with its topic just now): the
    // topic and it are made again, once
    if (!read) return this.ensureSubscription(topicArn, queueArn, sub, ensureTopic, false);
    const { Attributes = {} } = read;
    const set = (name: string, value: string) =>
      this.lookup.send(
        'sns',
        `${existingArn} ${name}`,
        new SetSubscriptionAttributesCommand({ SubscriptionArn: existingArn, AttributeName: name, AttributeValue: value }),
      );
    if (Attributes.RawMessageDelivery === 'true') await set('RawMessageDelivery', 'false');
    const currentPolicy = Attributes.FilterPolicy ?? '';
    if (filterPolicy === undefined) {
      if (currentPolicy !== '' && currentPolicy !== '{}') {
        await set('FilterPolicy', '');
        this.logger.log?.(`Removed the filter policy of subscription ${existingArn}`);
      }
    } else {
      if ((Attributes.FilterPolicyScope ?? 'MessageAttributes') !== scope) await set('FilterPolicyScope', scope!);
      if (!sameJson(currentPolicy, filterPolicy)) {
        await set('FilterPolicy', filterPolicy);
        this.logger.log?.(`Updated the filter policy of subscription ${existingArn}`);
      }
    }
    return existingArn;
  }
}

/** A queue can be subscribed only to a topic of its own partition (aws, aws-cn, aws-us-gov): refused before any call. */
function checkSamePartition(topicArn: string, queueArn: string, pattern: string): void {
  const topicPartition = topicArn.split(':')[1];
  const queuePartition = queueArn.split(':')[1];
  if (topicPartition !== queuePartition)
    throw new MessagingOptionsError(
      `@EventPattern('${pattern}').topicArn`,
      `is in partition '${topicPartition}' but the connection's queues are in '${queuePartition}': SNS delivers only within one partition; consume it through a connection in '${topicPartition}'`,
      topicArn,
    );
}

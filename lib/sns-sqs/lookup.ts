import { setMaxListeners } from 'node:events';
import {
  ListSubscriptionsCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  type Subscription,
  ListTagsForResourceCommand,
  ListTopicsCommand,
  GetTopicAttributesCommand,
} from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { MessagingError, ProvisioningError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import { TopologyVerificationError, type TopologyMismatch } from '../transport/verification-error.js';
import { endpointOf, explainAwsError, isAccessDenied, isNotFound, isThrottlingOrServerFault } from './aws-errors.js';
import { roundDelay } from './entry-batches.js';
import { sleep } from '../sleep.js';
import { awsClientConfig, type AwsClients } from './clients.js';
import { regionOfArn } from '../naming/topic-arn.js';
import { sqsDeadLetterQueueName, queueName } from './naming.js';
import type { ProvisionedQueue } from './provisioner.js';

export interface QueueInfo {
  url: string;
  arn: string;
}

export type FoundQueue = QueueInfo & { attributes: Record<string, string> };

/**
 * Rounds after the SDK's own attempts gave up on throttling (or a 5xx) on a provisioning call: the wait before each.
 * SNS throttles its control plane per account at 30-100 calls a second, so the instances of a rollout starting
 * together exceed it for a while; the rounds wait that out (about a minute in all) rather than fail the start.
 */
const THROTTLED_ROUNDS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000];
/**
 * Provisioning calls one process has in flight per service: a burst of hundreds (a start with hundreds of queues) would
 * only be throttled (SNS) or wait for the client's sockets while its requestTimeout runs.
 */
const CALLS_IN_FLIGHT = { sns: 10, sqs: 20 } as const;

/** At most `limit` calls at once; a finished call hands its slot to the next waiting one. */
class CallSlots {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.inFlight < this.limit) this.inFlight += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight -= 1;
    }
  }
}

/** The output type of an SDK command, from its middleware handler's result. */
type OutputOf<C> = C extends { resolveMiddleware(...args: any[]): (...args: any[]) => Promise<{ output: infer O }> } ? O : never;

/**
 * The read calls of every provisioning mode (find a queue, topic, subscription, their tags; list topics) and `send`,
 * the one way they and the provisioner's writes call SNS and SQS. `create` (provisioner.ts) reads here before it
 * writes; `verify` (verifier.ts), `off` (lookUpSnsSqsTopology) and queue-only plans (existing-queue.ts) only read.
 */
export class SnsSqsLookup {
  /** Aborted when the broker closes: a topic lookup still waiting for a stalled endpoint ends then. */
  private readonly closing = closingController();
  /** `arn:<partition>:sns:<region>:<account>:` once known, to find a topic by name without creating it. */
  private snsArnBase?: string;
  /**
   * SNS clients for other regions, one per region: SNS takes a call about a topic (or subscription) only in the
   * topic's region, so a topic named by ARN (`topicArn`) in another region is reached through one of these.
   */
  private readonly regionalSns = new Map<string, SNSClient>();
  /** The connection's own region, as its SNS client resolves it. */
  private homeRegion?: Promise<string | undefined>;
  /**
   * Provisioning passes under way (see inPass). Only inside one are the account-wide listings below read and shared;
   * outside (the admin), every look-up reads afresh.
   */
  private passes = 0;
  /** This account's own subscriptions per region (ListSubscriptions), read once per pass; undefined when denied. */
  private readonly ownSubscriptions = new Map<string, Promise<Subscription[] | undefined>>();
  /** Queue name → URL of the queues whose names start with the key (ListQueues), read once per pass. */
  private readonly listedQueues = new Map<string, Promise<Map<string, string>>>();
  /** Topics created during the pass: they have no subscription yet. */
  private readonly newTopics = new Set<string>();
  private readonly slots = { sns: new CallSlots(CALLS_IN_FLIGHT.sns), sqs: new CallSlots(CALLS_IN_FLIGHT.sqs) };

  constructor(
    private readonly clients: AwsClients,
    readonly options: ResolvedMessagingOptions,
  ) {}

  /** Every topic ARN of the account and region, all ListTopics pages. */
  async listTopicArns(): Promise<string[]> {
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.send('sns', '(all topics)', new ListTopicsCommand({ NextToken: token }));
      for (const topic of page.Topics ?? []) if (topic.TopicArn) arns.push(topic.TopicArn);
      token = page.NextToken;
    } while (token);
    if (arns.length > 0) this.learnArnBase(arns[0]);
    return arns;
  }

  /** The SQS endpoint, for error messages. */
  async endpoint(service: 'sns' | 'sqs' = 'sqs', region?: string): Promise<string> {
    const used = region ?? (await this.clients[service].config.region().catch(() => undefined));
    return endpointOf(service, this.options.snsSqs.endpoint, used);
  }

  /** Ends every call still in flight (the broker is closing). */
  close(): void {
    this.closing.abort();
    for (const client of this.regionalSns.values()) client.destroy();
    this.regionalSns.clear();
  }

  /**
   * The SNS client a call must go to: the connection's own, or for `region` (or the region of the topic or
   * subscription ARN the command names) when that is another region, one with the connection's settings and
   * credentials in that region.
   */
  private async snsClientFor(command: object, region?: string): Promise<SNSClient> {
    const input = (command as { input?: { TopicArn?: string; SubscriptionArn?: string; ResourceArn?: string } }).input;
    const wanted = region ?? regionOfArn(input?.TopicArn ?? input?.SubscriptionArn ?? input?.ResourceArn);
    if (wanted === undefined) return this.clients.sns;
    this.homeRegion ??= this.clients.sns.config.region().catch(() => undefined);
    if (wanted === (await this.homeRegion)) return this.clients.sns;
    if (this.closing.signal.aborted) throw new MessagingError('the SNS+SQS broker is closed');
    let client = this.regionalSns.get(wanted);
    if (!client) {
      client = new SNSClient({
        ...awsClientConfig({ ...this.options.snsSqs, region: wanted }),
        credentials: this.clients.sns.config.credentials,
      });
      this.regionalSns.set(wanted, client);
    }
    return client;
  }

  /** A topic by name, with its attributes; undefined when it does not exist. Read calls only. */
  async findTopic(name: string): Promise<{ arn: string; attributes: Record<string, string> } | undefined> {
    const base = await this.findSnsArnBase();
    if (!base) return undefined;
    const arn = `${base}${name}`;
    try {
      const { Attributes = {} } = await this.send('sns', name, new GetTopicAttributesCommand({ TopicArn: arn }), { notFound: 'pass' });
      return { arn, attributes: Attributes };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async topicTags(arn: string): Promise<Record<string, string>> {
    const { Tags = [] } = await this.send('sns', arn, new ListTagsForResourceCommand({ ResourceArn: arn }));
    return Object.fromEntries(Tags.map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  async queueTags(url: string, name: string): Promise<Record<string, string>> {
    const { Tags = {} } = await this.send('sqs', name, new ListQueueTagsCommand({ QueueUrl: url }));
    return Tags;
  }

  /** The ARN prefix of this account's SNS topics, from a known queue or topic ARN; undefined when there is no topic at all. */
  private async findSnsArnBase(): Promise<string | undefined> {
    if (this.snsArnBase) return this.snsArnBase;
    const { Topics } = await this.send('sns', '(first page)', new ListTopicsCommand({}));
    const any = Topics?.find((t) => t.TopicArn)?.TopicArn;
    if (any) this.learnArnBase(any);
    return this.snsArnBase;
  }

  /** Learns the account's SNS ARN prefix from any ARN of the account (a queue or topic just created). */
  learnArnBase(arn: string): void {
    if (this.snsArnBase) return;
    const [prefix, partition, , region, account] = arn.split(':');
    if (prefix === 'arn' && account) this.snsArnBase = `arn:${partition}:sns:${region}:${account}:`;
  }

  /** A queue by name, with all its attributes; undefined when it does not exist. Read calls only. */
  async findQueue(name: string): Promise<FoundQueue | undefined> {
    const found = await this.queueWith(name, ['All']);
    return found && { url: found.url, arn: found.attributes.QueueArn ?? '', attributes: found.attributes };
  }

  /** `off`: a queue's URL and ARN only. */
  async queueUrlAndArn(name: string): Promise<QueueInfo | undefined> {
    const found = await this.queueWith(name, ['QueueArn']);
    return found && { url: found.url, arn: found.attributes.QueueArn ?? '' };
  }

  private async queueWith(
    name: string,
    attributeNames: QueueAttributeName[],
  ): Promise<{ url: string; attributes: Record<string, string> } | undefined> {
    const listed = await this.listedQueueUrl(name);
    if (listed) {
      // ListQueues lags behind a deletion: a listed queue that is gone is looked up by name, as an unlisted one
      const found = await this.attributesOf(listed, name, attributeNames, 'pass').catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (found) return found;
    }
    let url: string | undefined;
    try {
      url = (await this.send('sqs', name, new GetQueueUrlCommand({ QueueName: name }), { notFound: 'pass' })).QueueUrl;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    if (!url) return undefined;
    return this.attributesOf(url, name, attributeNames);
  }

  private async attributesOf(
    url: string,
    name: string,
    attributeNames: QueueAttributeName[],
    notFound?: 'pass',
  ): Promise<{ url: string; attributes: Record<string, string> }> {
    const { Attributes = {} } = await this.send(
      'sqs',
      name,
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: attributeNames }),
      { notFound },
    );
    this.learnArnBase(Attributes.QueueArn ?? '');
    return { url, attributes: Attributes };
  }

  /**
   * Runs one provisioning pass of `queueNames`: inside it, queue URLs come from one ListQueues listing (by the names'
   * common prefix, 1,000 a page) and subscriptions from one ListSubscriptions listing per region (100 a page), shared by
   * every queue and subscription of the pass instead of a GetQueueUrl per queue and a ListSubscriptionsByTopic per
   * topic. Nothing is kept once the last pass ends.
   */
  async inPass<T>(queueNames: readonly string[], run: () => Promise<T>): Promise<T> {
    this.passes += 1;
    try {
      const prefix = commonPrefix(queueNames);
      // no shared prefix: a listing would read every queue of the account, so each queue is looked up by name
      if (prefix !== '' && !this.listedQueues.has(prefix)) {
        // a listing refused (denied, still throttled) costs the pass its shortcut, not its start: queues are then looked up by name
        this.listedQueues.set(
          prefix,
          this.listQueues(prefix).catch((error: unknown) => whenRefused(error, new Map<string, string>())),
        );
      }
      return await run();
    } finally {
      this.passes -= 1;
      if (this.passes === 0) {
        this.listedQueues.clear();
        this.ownSubscriptions.clear();
        this.newTopics.clear();
      }
    }
  }

  /** The URL of queue `name` as this pass's listing has it; undefined outside a pass or when not listed. */
  async listedQueueUrl(name: string): Promise<string | undefined> {
    for (const [prefix, listing] of this.listedQueues) if (name.startsWith(prefix)) return (await listing).get(name);
    return undefined;
  }

  private async listQueues(prefix: string): Promise<Map<string, string>> {
    const urls = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await this.send(
        'sqs',
        `(queues named ${prefix || '(any)'}…)`,
        new ListQueuesCommand({ ...(prefix ? { QueueNamePrefix: prefix } : {}), MaxResults: 1000, NextToken: token }),
      );
      for (const url of page.QueueUrls ?? []) urls.set(url.slice(url.lastIndexOf('/') + 1), url);
      token = page.NextToken;
    } while (token);
    return urls;
  }

  /** The ARN topic `name` has in this account and region, once a queue or topic ARN told them; no call. */
  knownTopicArn(name: string): string | undefined {
    return this.snsArnBase && `${this.snsArnBase}${name}`;
  }

  /** A topic this pass created: findSubscription need not look for its subscriptions. */
  noteNewTopic(arn: string): void {
    if (this.passes > 0) this.newTopics.add(arn);
  }

  /**
   * One provisioning call. A failure becomes a ProvisioningError naming the endpoint, the operation (`action target`)
   * and what to check; "does not exist" passes through unchanged where the caller handles it.
   */
  async send<C extends object>(
    service: 'sns' | 'sqs',
    target: string,
    command: C,
    options: { notFound?: 'pass'; abortSignal?: AbortSignal; region?: string } = {},
  ): Promise<OutputOf<C>> {
    const chosen = service === 'sns' ? await this.snsClientFor(command, options.region) : this.clients.sqs;
    const client = chosen as unknown as { send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<OutputOf<C>> };
    const abortSignal = options.abortSignal ?? this.closing.signal;
    try {
      for (let round = 0; ; round += 1) {
        try {
          return await this.slots[service].run(() => client.send(command, { abortSignal }));
        } catch (error) {
          if (round >= THROTTLED_ROUNDS_MS.length || abortSignal.aborted || !isThrottlingOrServerFault(error)) throw error;
          await sleep(roundDelay(THROTTLED_ROUNDS_MS[round]), abortSignal);
        }
      }
    } catch (error) {
      if (options.notFound === 'pass' && isNotFound(error)) throw error;
      const action = command.constructor.name.replace(/Command$/, '');
      const endpoint = await this.endpoint(service, chosen === this.clients.sns ? undefined : await chosen.config.region());
      const { detail, hint } = explainAwsError(error, {
        service,
        action,
        endpoint,
        connectTimeout: this.options.snsSqs.connectTimeout,
        requestTimeout: this.options.snsSqs.requestTimeout,
      });
      throw new ProvisioningError('sns-sqs', endpoint, `${action} ${target}`, detail, hint || undefined, { cause: error });
    }
  }

  /**
   * This account's subscriptions in `region`, shared by the pass (read afresh outside one). Undefined when they could
   * not be listed (denied, still throttled, or more than MAX_SHARED_LISTING_PAGES pages): the caller then looks per
   * topic; `required` lists them all or throws why it cannot.
   */
  private async ownSubscriptionsIn(region: string, required: boolean): Promise<Subscription[] | undefined> {
    let found = this.passes > 0 ? this.ownSubscriptions.get(region) : undefined;
    if (!found) {
      found = this.listOwnSubscriptions(region, MAX_SHARED_LISTING_PAGES).catch((error: unknown) => whenRefused(error, undefined));
      if (this.passes > 0) this.ownSubscriptions.set(region, found);
    }
    const subscriptions = await found;
    if (subscriptions === undefined && required) return (await this.listOwnSubscriptions(region))!;
    return subscriptions;
  }

  /** The confirmed SQS subscription of `queueArn` to `topicArn` in this pass's listing; undefined when not listed or outside a pass. */
  async listedSubscription(topicArn: string, queueArn: string): Promise<string | undefined> {
    if (this.passes === 0) return undefined;
    return (await this.ownSubscriptionsIn(regionOfArn(topicArn)!, false))?.find((s) => s.TopicArn === topicArn && confirmedTo(s, queueArn))
      ?.SubscriptionArn;
  }

  /**
   * Whether this pass may take a subscription it has not listed as absent: the pass created the topic, or read the
   * region's shared listing (which can miss only a subscription made moments ago, by an instance starting beside this
   * one). Outside a pass, or when the listing was refused, only the topic itself can tell (findSubscription).
   */
  async takesUnlistedAsAbsent(topicArn: string): Promise<boolean> {
    if (this.passes === 0) return false;
    return this.madeTopic(topicArn) || (await this.ownSubscriptionsIn(regionOfArn(topicArn)!, false)) !== undefined;
  }

  /** Whether this pass created the topic: only instances starting beside this one can have subscribed to it since. */
  madeTopic(topicArn: string): boolean {
    return this.passes > 0 && this.newTopics.has(topicArn);
  }

  /** Every page, or undefined once there are more than `maxPages`. */
  private async listOwnSubscriptions(region: string, maxPages = Infinity): Promise<Subscription[] | undefined> {
    const all: Subscription[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      if (pages++ === maxPages) return undefined;
      const page = await this.send('sns', `(own subscriptions in ${region})`, new ListSubscriptionsCommand({ NextToken: token }), {
        region,
      });
      all.push(...(page.Subscriptions ?? []));
      token = page.NextToken;
    } while (token);
    return all;
  }

  /**
   * The confirmed SQS subscription of `queueArn` to `topicArn`, all pages read. A topic named by ARN (`byArn`) may be
   * another account's: its subscription is looked for among this account's own subscriptions in the topic's region
   * (ListSubscriptions), so the topic's owner need allow nothing beyond sns:Subscribe. Inside a pass the shared listing
   * answers first; a subscription it lacks is looked for on its topic (ListSubscriptionsByTopic, consistent where the
   * listing may lag), unless the pass created the topic.
   */
  async findSubscription(topicArn: string, queueArn: string, byArn = false, useListing = true): Promise<string | undefined> {
    if (byArn)
      return (await this.ownSubscriptionsIn(regionOfArn(topicArn)!, true))!.find((s) => s.TopicArn === topicArn && confirmedTo(s, queueArn))
        ?.SubscriptionArn;
    const listed = useListing ? await this.listedSubscription(topicArn, queueArn) : undefined;
    if (listed || (useListing && this.newTopics.has(topicArn))) return listed;
    let token: string | undefined;
    do {
      const page = await this.send('sns', topicArn, new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }));
      const found = page.Subscriptions?.find((s) => confirmedTo(s, queueArn));
      if (found) return found.SubscriptionArn;
      token = page.NextToken;
    } while (token);
    return undefined;
  }
}

/**
 * Pages of the account-wide ListSubscriptions a pass reads before it looks per topic instead: beyond 5,000
 * subscriptions in a region the listing costs more than the lookups it saves.
 */
const MAX_SHARED_LISTING_PAGES = 50;

/**
 * The controller whose signal every SNS and SQS call of provisioning carries: each call in flight (up to the call
 * slots) and each throttled call waiting for its next round listens on it, past Node's default warning threshold of 10.
 */
function closingController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * `fallback` when a shared listing was refused (access denied, or throttled or failing past the retry rounds): the
 * lookups it would have saved still work, each on its own. Any other failure (an unreachable endpoint) is thrown.
 */
function whenRefused<T>(error: unknown, fallback: T): T {
  const cause = error instanceof ProvisioningError ? error.cause : error;
  if (isAccessDenied(cause) || isThrottlingOrServerFault(cause)) return fallback;
  throw error;
}

/** A confirmed SQS subscription delivering to `queueArn`. */
function confirmedTo(s: Subscription, queueArn: string): boolean {
  return s.Protocol === 'sqs' && s.Endpoint === queueArn && s.SubscriptionArn !== undefined && s.SubscriptionArn !== 'PendingConfirmation';
}

/** The longest prefix all `names` share. */
function commonPrefix(names: readonly string[]): string {
  if (names.length === 0) return '';
  let prefix = names[0];
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * `provisioning: 'off'`: trusts the configuration. Looks up each queue's and dead-letter queue's URL and ARN
 * (GetQueueUrl, GetQueueAttributes QueueArn) and nothing else; topics are looked up when first published to.
 * A queue that does not exist fails the start, all of them listed at once.
 */
export async function lookUpSnsSqsTopology(lookup: SnsSqsLookup, plans: readonly QueuePlan[]): Promise<ProvisionedQueue[]> {
  const missing: TopologyMismatch[] = [];
  const provisioned: ProvisionedQueue[] = [];
  for (const plan of plans) {
    const name = queueName(plan);
    const dlqName = sqsDeadLetterQueueName(plan);
    const [queue, deadLetter] = await Promise.all([lookup.queueUrlAndArn(name), dlqName ? lookup.queueUrlAndArn(dlqName) : undefined]);
    if (!queue) missing.push({ kind: 'queue', resource: name, expected: 'an existing queue', found: 'no such queue' });
    if (dlqName && !deadLetter)
      missing.push({ kind: 'dead-letter queue', resource: dlqName, expected: 'an existing queue', found: 'no such queue' });
    if (queue) provisioned.push({ plan, url: queue.url, arn: queue.arn, deadLetter, subscriptionArns: [] });
  }
  if (missing.length > 0) throw new TopologyVerificationError('sns-sqs', await lookup.endpoint(), missing, 'off');
  return provisioned;
}

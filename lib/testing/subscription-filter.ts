import { matchesWords } from '../transport/topic-router.js';
import type { QueuePlan } from '../transport/broker.js';
import { compileFilterPolicy, type AttributePredicate } from '../transport/filter-policy.js';

const EVALUATOR = 'the in-memory broker of nestjs-messaging/testing';

/** The message as a subscription sees it: topic, attributes and, for filterPolicyScope 'MessageBody', the wire body. */
interface Candidate {
  topic: string;
  attributes: Record<string, unknown>;
  body: string | Buffer;
}

type Verdict = 'not-subscribed' | 'accepted' | 'filtered';

/**
 * One queue's subscriptions, compiled once: does a topic reach the queue (exact or `*`/`#` pattern), and does a
 * subscription's filter policy let it through, with SNS semantics on attributes or on the JSON body.
 */
export class SubscriptionFilter {
  private readonly subscriptions: Array<{ pattern: string; words: string[]; accepts?: (c: Candidate) => boolean }>;

  constructor(plan: QueuePlan) {
    this.subscriptions = plan.subscriptions.map((s) => {
      const option = `@EventPattern('${s.pattern}').filterPolicy`;
      let accepts: ((c: Candidate) => boolean) | undefined;
      if (s.filterPolicy !== undefined && s.filterPolicyScope === 'MessageBody') {
        const predicate = compileFilterPolicy(flattenPolicy(s.filterPolicy), option, EVALUATOR);
        accepts = (c) => bodyMatches(predicate, c.body);
      } else if (s.filterPolicy !== undefined) {
        const predicate = compileFilterPolicy(s.filterPolicy, option, EVALUATOR);
        accepts = (c) => predicate(c.attributes);
      }
      return { pattern: s.pattern, words: s.pattern.split('.'), accepts };
    });
  }

  /** Filtered only when every subscription that matches the topic rejects it. */
  check(candidate: Candidate): Verdict {
    const words = candidate.topic.split('.');
    const matching = this.subscriptions.filter((s) => s.pattern === candidate.topic || matchesWords(s.words, 0, words, 0));
    if (matching.length === 0) return 'not-subscribed';
    return matching.some((s) => !s.accepts || s.accepts(candidate)) ? 'accepted' : 'filtered';
  }
}

/** A body-scoped policy nests like the JSON it filters: `{ data: { currency: ['EUR'] } }` becomes `{ 'data.currency': ['EUR'] }`. */
function flattenPolicy(policy: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or' && Array.isArray(value) && prefix === '') {
      out.$or = value.map((branch) => (isObject(branch) ? flattenPolicy(branch) : branch));
    } else if (isObject(value)) {
      Object.assign(out, flattenPolicy(value, `${prefix}${key}.`));
    } else {
      out[`${prefix}${key}`] = value;
    }
  }
  return out;
}

function bodyMatches(predicate: AttributePredicate, body: string | Buffer): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return false; // SNS filters out a body that is not JSON when the policy is body-scoped
  }
  return isObject(parsed) && predicate(flattenBody(parsed));
}

function flattenBody(value: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, inner] of Object.entries(value)) {
    if (isObject(inner)) flattenBody(inner, `${prefix}${key}.`, out);
    else Object.defineProperty(out, `${prefix}${key}`, { value: inner, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

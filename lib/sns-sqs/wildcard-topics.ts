import type { LoggerService } from '@nestjs/common';
import { describeError } from '../error-text.js';
import { matchesWords } from '../transport/topic-router.js';
import type { QueuePlan, SubscriptionPlan } from '../transport/broker.js';
import { topicFromArn } from './naming.js';

/** A pattern with an AMQP-style wildcard word: `*` one word, `#` zero or more, words separated by '.'. */
export function isWildcardPattern(pattern: string): boolean {
  return pattern.split('.').some((word) => word === '*' || word === '#');
}

const hasWildcard = (plan: QueuePlan) => plan.subscriptions.some((s) => isWildcardPattern(s.pattern));

/**
 * `@EventPattern('order.*')` on SNS+SQS: SNS has no wildcard subscriptions, so a wildcard pattern stands for every
 * existing topic (topicPrefix applied, FIFO-ness matching) whose name it matches, each subscribed with the pattern's
 * filter policy. With `snsSqs.wildcardRescanMs` the topics are listed again on that interval and topics created later
 * are subscribed too.
 */
export class WildcardTopics {
  /** Queue name → the plan as the handlers declared it (with its wildcard patterns). */
  private readonly declared = new Map<string, QueuePlan>();
  /** Queue name → the topics its wildcards matched last time, sorted and joined. */
  private readonly matched = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private tick?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly listTopicArns: () => Promise<string[]>,
    private readonly topicPrefix: string,
    private readonly logger: LoggerService,
  ) {}

  /** The plans with each wildcard subscription replaced by one subscription per matching topic; no call without wildcards. */
  async expand(plans: readonly QueuePlan[]): Promise<QueuePlan[]> {
    if (!plans.some(hasWildcard)) return [...plans];
    const arns = await this.listTopicArns();
    return plans.map((plan) => (hasWildcard(plan) ? this.expandPlan(plan, arns) : plan));
  }

  /**
   * Every `intervalMs` (never overlapping), lists the topics again and hands each wildcard plan whose matches changed,
   * expanded, to `apply` (which subscribes the new topics). A failed round is logged and tried again next time.
   */
  startRescan(intervalMs: number, apply: (expanded: QueuePlan) => Promise<void>): void {
    if (this.timer || this.stopped || this.declared.size === 0) return;
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.tick = this.rescan(apply).finally(schedule);
      }, intervalMs);
    };
    schedule();
  }

  /** Stops the rescans and waits for one still running. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick;
  }

  private async rescan(apply: (expanded: QueuePlan) => Promise<void>): Promise<void> {
    try {
      const arns = await this.listTopicArns();
      for (const plan of this.declared.values()) {
        if (this.stopped) return;
        const before = this.matched.get(plan.name);
        const expanded = this.expandPlan(plan, arns);
        if (this.matched.get(plan.name) !== before) await apply(expanded);
      }
    } catch (error) {
      this.logger.warn?.(`Rescanning SNS topics for wildcard subscriptions failed (${describeError(error)}); trying again later`);
    }
  }

  private expandPlan(plan: QueuePlan, arns: readonly string[]): QueuePlan {
    this.declared.set(plan.name, plan);
    const topics = arns.flatMap((arn) => {
      const name = arn.slice(arn.lastIndexOf(':') + 1);
      const topic = name.endsWith('.fifo') === plan.fifo ? topicFromArn(arn, this.topicPrefix) : undefined;
      // a topic whose own name holds a wildcard word was created literally (by a publisher); it is no match
      return topic !== undefined && !isWildcardPattern(topic) ? [topic] : [];
    });
    const subscriptions: SubscriptionPlan[] = [];
    const seen = new Set<string>();
    for (const sub of plan.subscriptions) {
      if (!isWildcardPattern(sub.pattern)) {
        subscriptions.push(sub);
        seen.add(sub.pattern);
        continue;
      }
      const words = sub.pattern.split('.');
      for (const topic of topics) {
        if (seen.has(topic) || !matchesWords(words, 0, topic.split('.'), 0)) continue;
        seen.add(topic);
        subscriptions.push({ ...sub, pattern: topic });
      }
    }
    const matched = subscriptions
      .map((s) => s.pattern)
      .sort()
      .join(' ');
    if (this.matched.get(plan.name) !== matched) {
      this.matched.set(plan.name, matched);
      const wildcards = plan.subscriptions.filter((s) => isWildcardPattern(s.pattern)).map((s) => `'${s.pattern}'`);
      this.logger.log?.(`Queue ${plan.name}: wildcard pattern(s) ${wildcards.join(', ')} match topics: ${matched || '(none yet)'}`);
    }
    return { ...plan, subscriptions };
  }
}

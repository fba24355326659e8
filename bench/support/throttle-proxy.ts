/**
 * An HTTP proxy in front of the SNS/SQS emulator that throttles SNS actions per account as AWS does: one token bucket
 * per action (refilled at the action's rate, holding one second's worth), and over the rate the response AWS gives,
 * HTTP 400 with the query-protocol error code `Throttling` ("Rate exceeded"), which the SDK classifies as throttling and
 * retries with its own backoff and retry quota. SQS is passed through: no per-action rate is published for its
 * queue-management actions.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * SNS API rates per account and region. The List* actions (30 TPS) and Subscribe / Unsubscribe (100 TPS) are the rates
 * their API Reference pages state (https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptions.html,
 * API_ListSubscriptionsByTopic.html, API_ListTopics.html, API_Subscribe.html, API_Unsubscribe.html); the other control
 * plane actions are in the General Reference's table (https://docs.aws.amazon.com/general/latest/gr/sns.html), taken
 * here as 100 TPS, as Subscribe.
 */
export const SNS_TPS: Readonly<Record<string, number>> = {
  ListSubscriptions: 30,
  ListSubscriptionsByTopic: 30,
  ListTopics: 30,
  Subscribe: 100,
  Unsubscribe: 100,
  CreateTopic: 100,
  DeleteTopic: 100,
  GetTopicAttributes: 100,
  SetTopicAttributes: 100,
  GetSubscriptionAttributes: 100,
  SetSubscriptionAttributes: 100,
  ListTagsForResource: 100,
  TagResource: 100,
};

class TokenBucket {
  private tokens: number;
  private at = Date.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface ThrottlingProxy {
  endpoint: string;
  /** Throttled requests per action since the last reset. */
  throttled: Record<string, number>;
  reset(): void;
  stop(): Promise<void>;
}

const THROTTLED = (action: string) =>
  `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>throttled-${action}</RequestId></ErrorResponse>`;

export async function startThrottlingProxy(target: string, rates: Readonly<Record<string, number>> = SNS_TPS): Promise<ThrottlingProxy> {
  const upstream = new URL(target);
  // no socket limit: the instances' long polls (ReceiveMessage, 20 s) would hold the sockets other calls wait for
  const agent = new Agent({ keepAlive: true });
  let buckets = new Map<string, TokenBucket>();
  const proxy: ThrottlingProxy = {
    endpoint: '',
    throttled: {},
    reset() {
      buckets = new Map();
      proxy.throttled = {};
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      // SQS speaks JSON (X-Amz-Target names the action), SNS the query protocol (an Action form field)
      const sqsAction = req.headers['x-amz-target'];
      const action = sqsAction ? undefined : new URLSearchParams(body.toString()).get('Action');
      const rate = action ? rates[action] : undefined;
      if (action && rate !== undefined) {
        let bucket = buckets.get(action);
        if (!bucket) buckets.set(action, (bucket = new TokenBucket(rate)));
        if (!bucket.take()) {
          proxy.throttled[action] = (proxy.throttled[action] ?? 0) + 1;
          res.writeHead(400, { 'content-type': 'text/xml' });
          res.end(THROTTLED(action));
          return;
        }
      }
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

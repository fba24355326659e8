import { describeError } from '../../error-text.js';
import { BrokerConnectionError, MessagingError } from '../../errors.js';
import { redactUrl } from '../../options/redact-url.js';
import { AdminOperationUnavailableError, AdminResourceNotFoundError } from '../../transport/admin.errors.js';

/** Milliseconds each management API call may take. */
const MANAGEMENT_TIMEOUT_MS = 5000;

interface ManagementBinding {
  source: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
}

/**
 * The few read calls of the RabbitMQ management HTTP API the admin needs (queues, exchanges, an exchange's bindings),
 * in the vhost of the AMQP URL. Credentials come from the URL's user info and travel as Basic authorization; every
 * call times out after `timeoutMs`.
 */
export class RabbitMqManagement {
  private readonly base: string;
  private readonly safeUrl: string;
  private readonly authorization?: string;
  private readonly vhost: string;

  constructor(
    managementUrl: string,
    amqpUrl: string,
    private readonly timeoutMs = MANAGEMENT_TIMEOUT_MS,
  ) {
    const url = new URL(managementUrl);
    if (url.username)
      this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    this.base = url.href.replace(/\/+$/, '');
    this.safeUrl = redactUrl(managementUrl);
    this.vhost = encodeURIComponent(vhostOf(amqpUrl));
  }

  queues(): Promise<Array<{ name: string }>> {
    return this.get(`/api/queues/${this.vhost}?columns=name`, 'listQueues');
  }

  exchanges(): Promise<Array<{ name: string; type: string }>> {
    return this.get(`/api/exchanges/${this.vhost}?columns=name,type`, 'listTopics');
  }

  async bindingsFrom(exchange: string): Promise<ManagementBinding[]> {
    return this.get(`/api/exchanges/${this.vhost}/${encodeURIComponent(exchange)}/bindings/source`, 'topicInfo', () => {
      throw new AdminResourceNotFoundError('topic', exchange, 'no such AMQP exchange');
    });
  }

  private async get<T>(path: string, operation: string, onNotFound?: () => never): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        headers: { accept: 'application/json', ...(this.authorization ? { authorization: this.authorization } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const detail = (error as Error | undefined)?.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : describeError(error);
      throw new BrokerConnectionError('amqp', this.safeUrl, `the management API (amqp.managementUrl): ${detail}`, { cause: error });
    }
    if (response.ok) return (await response.json()) as T;
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404 && onNotFound) onNotFound();
    if (response.status === 401 || response.status === 403)
      throw new AdminOperationUnavailableError(
        operation,
        'amqp',
        `the management API at ${this.safeUrl} refused the credentials of amqp.managementUrl (HTTP ${response.status}); use a user with the management or monitoring tag`,
      );
    throw new MessagingError(`The RabbitMQ management API at ${this.safeUrl} answered GET ${path} with HTTP ${response.status}`);
  }
}

/** The vhost an AMQP URL names ('/' when it names none). */
function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}

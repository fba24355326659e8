import { JsonEnvelope } from '../envelopes/json.envelope.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import type { ResolvedMessagingOptions, TransportName } from '../messaging.options.js';
import type { MessagingConnection } from '../server/messaging-connection.js';
import type { ServiceIdentity } from '../service-identity.js';
import type { AdminBackend } from '../transport/admin-backend.js';
import { AdminBrokerUnavailableError } from '../transport/admin.errors.js';
import type { Broker } from '../transport/broker.js';
import { createAdminBackend } from './admin-backend-factory.js';

/** One connection of the app as the admin API lists it (GET connections). */
export interface AdminConnectionSummary {
  /** `default` for the unnamed MessagingModule.forRoot, else its `name`. */
  name: string;
  transport: TransportName;
}

/** Which connection an admin call acts on: a `MessagingModule.forRoot({ name })` name; absent, the unnamed (default) one. */
export interface AdminConnectionOption {
  connection?: string;
}

/** One connection as the admin module operates it: its options, broker, envelope and identity, and its admin backend. */
export class AdminConnection {
  private backend?: Promise<AdminBackend>;
  /** Set by close(): a look still running at shutdown makes no backend that nobody would close. */
  private closed = false;

  constructor(
    private readonly connection: MessagingConnection,
    /** The app has other connections: log lines about this one say which it is. */
    private readonly oneOfSeveral: boolean,
  ) {}

  /** ` on connection '<name>'` for a log line when the app has several connections; '' when it has one. */
  get where(): string {
    return this.oneOfSeveral ? ` on connection '${this.name}'` : '';
  }

  get name(): string {
    return this.connection.name;
  }

  get transport(): TransportName {
    return this.connection.options.transport;
  }

  get options(): ResolvedMessagingOptions {
    return this.connection.options;
  }

  get broker(): Broker {
    return this.connection.broker;
  }

  get identity(): ServiceIdentity {
    return this.connection.identity;
  }

  /** The connection's own MessagingClient publishes (the default connection's client is injected as such). */
  get publishes(): MessagingConnection['publishes'] {
    return this.connection.publishes;
  }

  get summary(): AdminConnectionSummary {
    return { name: this.name, transport: this.transport };
  }

  /** The connection's envelope: the instance its MessagingClient encodes with (the resolver keeps one per class). */
  envelope(): Promise<MessageEnvelope> {
    return this.connection.envelopes.resolve(this.connection.options.envelope ?? JsonEnvelope);
  }

  /** The admin backend, made on first use from the connection's transport definition, options and broker. */
  use(): Promise<AdminBackend> {
    if (this.closed) return Promise.reject(new AdminBrokerUnavailableError(`connection '${this.name}'`, 'the app is shutting down'));
    if (!this.backend) {
      const backend = createAdminBackend(this.connection);
      backend.catch(() => {
        if (this.backend === backend) this.backend = undefined; // a missing package: try again next call
      });
      this.backend = backend;
    }
    return this.backend;
  }

  async close(): Promise<void> {
    this.closed = true;
    const backend = await this.backend?.catch(() => undefined);
    this.backend = undefined;
    await backend?.close();
  }
}

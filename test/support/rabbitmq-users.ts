import { randomBytes } from 'node:crypto';
import { AMQP_URL } from './rabbitmq.js';
import { rabbitmqctl } from './rabbitmq-run.mjs';
import { uniqueName } from './wait-for.js';

export interface RabbitMqUser {
  user: string;
  /** Distinctive, so a test can check that no log line carries it. */
  password: string;
  /** The broker's URL with this user's credentials. */
  url: string;
  remove(): Promise<void>;
}

/** Where a user is made: the shared broker (by default) or a test node (rabbitmq-node.ts). */
export interface UserBroker {
  url: string;
  rabbitmqctl(args: string[]): Promise<unknown>;
}

const SHARED_BROKER: UserBroker = { url: AMQP_URL, rabbitmqctl: (args) => rabbitmqctl(args) };

/**
 * A RabbitMQ user of our own on vhost "/" (rabbitmqctl), with the given configure/write/read patterns (all by
 * default); remove() deletes it. Its name is a uniqueName, so the end-of-run check sees it if it is left behind.
 */
export async function createRabbitMqUser(
  name: string,
  permissions: { configure: string; write: string; read: string } = { configure: '.*', write: '.*', read: '.*' },
  broker: UserBroker = SHARED_BROKER,
): Promise<RabbitMqUser> {
  const user = uniqueName(name);
  const password = `${name.replace(/[^A-Za-z0-9]/g, '')}Pw${randomBytes(8).toString('hex')}`;
  await broker.rabbitmqctl(['add_user', user, password]);
  await broker.rabbitmqctl(['set_permissions', '-p', '/', user, permissions.configure, permissions.write, permissions.read]);
  const base = new URL(broker.url);
  const url = `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${base.host}${base.pathname === '/' ? '' : base.pathname}`;
  return {
    user,
    password,
    url,
    remove: async () => {
      await broker.rabbitmqctl(['delete_user', user]).catch(() => undefined);
    },
  };
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { AMQP_URL } from './rabbitmq.js';

const run = promisify(execFile);

export interface RabbitMqUser {
  user: string;
  /** Distinctive, so a test can check that no log line carries it. */
  password: string;
  /** AMQP_URL with this user's credentials. */
  url: string;
  remove(): Promise<void>;
}

/**
 * A RabbitMQ user of our own on vhost "/" (rabbitmqctl), with the given configure/write/read patterns (all by
 * default); remove() deletes it.
 */
export async function createRabbitMqUser(
  name: string,
  permissions: { configure: string; write: string; read: string } = { configure: '.*', write: '.*', read: '.*' },
): Promise<RabbitMqUser> {
  const user = `${name}-${randomBytes(6).toString('hex')}`;
  const password = `${name.replace(/[^A-Za-z0-9]/g, '')}Pw${randomBytes(8).toString('hex')}`;
  await run('rabbitmqctl', ['add_user', user, password]);
  await run('rabbitmqctl', ['set_permissions', '-p', '/', user, permissions.configure, permissions.write, permissions.read]);
  const base = new URL(AMQP_URL);
  const url = `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${base.host}${base.pathname === '/' ? '' : base.pathname}`;
  return {
    user,
    password,
    url,
    remove: async () => {
      await run('rabbitmqctl', ['delete_user', user]).catch(() => undefined);
    },
  };
}

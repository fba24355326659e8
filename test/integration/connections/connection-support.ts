import { Injectable } from '@nestjs/common';
import { InjectMessagingClient, MessagingClient } from '../../../lib/index.js';
import { AMQP_URL } from '../../support/rabbitmq.js';
import { rabbitmqctl } from '../../support/rabbitmq-run.mjs';
import { uniqueName } from '../../support/wait-for.js';

/** The clients of the three connections the specs here start: the default, 'partner' and 'rabbit'. */
@Injectable()
export class Publishers {
  constructor(
    readonly own: MessagingClient,
    @InjectMessagingClient('partner') readonly partner: MessagingClient,
    @InjectMessagingClient('rabbit') readonly rabbit: MessagingClient,
  ) {}
}

/** A vhost of its own on the shared broker, the test user allowed on it; `remove()` deletes it. */
export async function createVhost(base: string): Promise<{ name: string; url: string; remove(): Promise<void> }> {
  const name = uniqueName(base);
  await rabbitmqctl(['add_vhost', name]);
  await rabbitmqctl(['set_permissions', '-p', name, decodeURIComponent(new URL(AMQP_URL).username), '.*', '.*', '.*']);
  const url = new URL(AMQP_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), remove: () => rabbitmqctl(['delete_vhost', name]).then(() => undefined) };
}

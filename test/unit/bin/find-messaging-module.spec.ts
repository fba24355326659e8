import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { MessagingServer } from '../../../lib/index.js';
import { findMessagingModules } from '../../../lib/bin/find-messaging-module.js';
import { NoIoBroker, provideNoIoBrokers } from '../../../lib/bin/no-io-broker.js';
import { ConnectionsAppModule } from '../../fixtures/topology/connections-app.module.js';
import { AppModule } from '../../fixtures/topology/topology-app.module.js';

describe('findMessagingModules (the topology CLI, before any module is created)', () => {
  it('finds the one unnamed forRoot of a one-connection app, with its server', async () => {
    const found = await findMessagingModules(AppModule);
    expect(found.connections.map((c) => c.connection)).toEqual(['default']);
    expect(found.serverClass).toBe(MessagingServer);
  });

  it('finds every MessagingModule import, named forRoot and forRootAsync in nested modules too, and their brokers', async () => {
    const found = await findMessagingModules(ConnectionsAppModule);
    expect(found.connections.map((c) => [c.connection, c.brokerToken.description])).toEqual([
      ['default', 'MESSAGING_BROKER'],
      ['partner', "broker of messaging connection 'partner'"],
      ['rabbit', "broker of messaging connection 'rabbit'"],
    ]);
    expect(found.serverClass).toBe(MessagingServer);
  });

  it('provideNoIoBrokers gives every connection a no-I/O broker of its own, as the CLI does before creating the app', async () => {
    provideNoIoBrokers((await findMessagingModules(ConnectionsAppModule)).connections);
    const app = await NestFactory.createApplicationContext(ConnectionsAppModule, { logger: false });
    try {
      const connections = app.get(MessagingServer).connections();
      expect(connections.map((c) => c.name)).toEqual(['default', 'partner', 'rabbit']);
      for (const c of connections) expect(c.broker).toBeInstanceOf(NoIoBroker);
      expect(new Set(connections.map((c) => c.broker)).size).toBe(3);
    } finally {
      await app.close();
    }
  });
});
